//! Front ends in the vocabulary of the peers: [`signal`] (numpy / scipy: plain N-D arrays,
//! full / same / valid) and [`layer`] (PyTorch / ONNX / TF / JAX: batched, channelled tensors,
//! layouts, padding modes, transposed convolution). Both are views onto the one reference.

pub mod layer;
pub mod signal;
