//! Code shared by the benches. Each bench is a crate of its own and pulls this file in with
//! `mod common;`. It lives in a subdirectory (`benches/common/mod.rs`, not
//! `benches/common.rs`) because Cargo's bench auto-discovery makes every `benches/*.rs` a bench
//! target of its own, beside the `[[bench]]` entries of Cargo.toml.

use ndarray::{ArrayD, IxDyn};

/// The multiplier of [`lcg_data`]'s 64-bit LCG (Knuth's MMIX constant).
const LCG_MULTIPLIER: u64 = 6364136223846793005;

/// The increment of [`lcg_data`]'s 64-bit LCG (Knuth's MMIX constant), and the usual
/// `seed_increment`.
pub const LCG_INCREMENT: u64 = 1442695040888963407;

/// Deterministic data in [-1, 1), in C order, from a 64-bit LCG (the values only need to be
/// generic).
///
/// The state starts at `seed * LCG_MULTIPLIER + seed_increment`; each element then advances it
/// by `s = s * LCG_MULTIPLIER + LCG_INCREMENT` and takes its top 53 bits, scaled to [-1, 1)
/// (all arithmetic wrapping). The `workloads` and `exact` benches pass
/// `seed_increment = LCG_INCREMENT` (`scripts/bench_exact_peers.py` regenerates `exact`'s data
/// bit for bit with that start); `fit_cost_model` passes 1, which it always has, so that no
/// bench's data change.
pub fn lcg_data(shape: &[usize], seed: u64, seed_increment: u64) -> ArrayD<f64> {
    let mut s = seed
        .wrapping_mul(LCG_MULTIPLIER)
        .wrapping_add(seed_increment);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(LCG_MULTIPLIER).wrapping_add(LCG_INCREMENT);
        ((s >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
    })
}
