//! numpy/scipy-style convolution of plain N-D arrays, as views over the one reference.
//!
//! | function | reproduces | 'same' centre (correlation frame, kernel length M) |
//! |---|---|---|
//! | [`convolve`] | `scipy.signal.convolve` (any method) | output = `full[(M-1)/2 ..][..N]` |
//! | [`correlate`] | `scipy.signal.correlate` | `y[i] = sum_k conj(g[k]) f[i + k - M/2]` |
//! | [`convolve2d`] | `scipy.signal.convolve2d` with `boundary` | as `convolve` |
//! | [`correlate2d`] | `scipy.signal.correlate2d` with `boundary` | `y[i] = sum_k conj(g[k]) f[i + k - (M-1)/2]` |
//!
//! 'same' has the shape of the first argument; 'valid' needs one argument at least as large as
//! the other on every axis and swaps them when the second is the larger (scipy's rule). The
//! second argument of the correlations is conjugated (docs/semantics.md section 1). Empty inputs are
//! refused, as numpy.convolve refuses them ("a cannot be empty").

use crate::engine::{ConvEngine, ReferenceEngine};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::{Boundary, ConvSpec, Flip, Limits, Padding};
use crate::scalar::Ring;
use ndarray::{Array, ArrayD, ArrayView, Axis, Dimension, IxDyn, Slice};

/// Output size rule, as scipy's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Every overlap: `N + M - 1` per axis.
    Full,
    /// The size of the first argument, centred as the module docs say.
    Same,
    /// Only complete overlaps: `max(N, M) - min(N, M) + 1` per axis.
    Valid,
}

impl Mode {
    /// scipy's name for the mode.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Same => "same",
            Mode::Valid => "valid",
        }
    }
}

/// How the signal functions compute: which engine evaluates the formula, under which limits.
///
/// The default is the reference. Another engine ([`crate::engine::fft::FftEngine`], say)
/// gives that engine's result for the same request; only the reference promises scipy's
/// bits (including the sign of zero), the others their own error model.
#[derive(Clone, Copy)]
pub struct Options<'e, T> {
    /// The engine that evaluates each convolution.
    pub engine: &'e dyn ConvEngine<T>,
    /// Resource limits, checked before anything is allocated.
    pub limits: Limits,
}

impl<T: Ring> Options<'static, T> {
    /// The reference engine with the given limits.
    pub fn reference(limits: Limits) -> Self {
        Options {
            engine: &ReferenceEngine,
            limits,
        }
    }
}

impl<T: Ring> Default for Options<'static, T> {
    fn default() -> Self {
        Options::reference(Limits::default())
    }
}

/// Boundary of `scipy.signal.convolve2d` / `correlate2d`.
#[derive(Clone, Debug, PartialEq)]
pub enum Boundary2d<T> {
    /// `boundary='fill'` with `fillvalue`.
    Fill(T),
    /// `boundary='wrap'` (circular).
    Wrap,
    /// `boundary='symm'` (numpy symmetric).
    Symm,
}

/// `scipy.signal.convolve(in1, in2, mode)`: true convolution, nothing conjugated.
///
/// The value is the formula's; the argument order follows scipy's direct method so that even
/// the sign of a zero imaginary part matches (see [`correlate`]).
pub fn convolve<T: Ring, D: Dimension>(
    in1: ArrayView<'_, T, D>,
    in2: ArrayView<'_, T, D>,
    mode: Mode,
) -> Result<Array<T, D>, ConvError> {
    convolve_opts(in1, in2, mode, &Options::default())
}

/// [`convolve`] computed by any engine, with explicit limits.
pub fn convolve_opts<T: Ring, D: Dimension>(
    in1: ArrayView<'_, T, D>,
    in2: ArrayView<'_, T, D>,
    mode: Mode,
    opts: &Options<'_, T>,
) -> Result<Array<T, D>, ConvError> {
    let (a, b) = (in1.into_dyn(), in2.into_dyn());
    check_ranks(&a, &b)?;
    let (a, b) = if valid_swap_needed(mode, a.shape(), b.shape())? {
        (b, a)
    } else {
        (a, b)
    };
    let y = if numpy_path(mode, &a, &b) {
        // numpy.convolve: no conjugation anywhere.
        run(
            &a,
            &b,
            Flip::Convolution,
            mode,
            same_lo_convolve,
            Boundary::Zeros,
            opts,
        )?
    } else {
        // scipy: correlate(in1, reverse(conj(in2))), which conjugates its second argument back.
        let rb = reverse_all(b.map(Ring::conj));
        correlate_nd(&a, &rb.view(), mode, opts)?
    };
    into_dim(y)
}

/// `scipy.signal.correlate(in1, in2, mode)`: cross-correlation with `in2` conjugated.
///
/// The value is `z[k] = sum_l in1[l + k - c] * conj(in2[l])`. To reproduce scipy's direct method
/// bit for bit, including the sign of zero imaginary parts, the argument order follows scipy:
/// 1-D inputs that numpy handles (full, valid, and same with `in1` at least as long) go through
/// numpy.correlate's rule (swap when `in1` is shorter, reverse, no conjugation afterwards); other
/// inputs swap in 'full' mode when `in2` has more elements and in 'valid' mode when `in2` is the
/// larger, then reverse and conjugate the result.
pub fn correlate<T: Ring, D: Dimension>(
    in1: ArrayView<'_, T, D>,
    in2: ArrayView<'_, T, D>,
    mode: Mode,
) -> Result<Array<T, D>, ConvError> {
    correlate_opts(in1, in2, mode, &Options::default())
}

/// [`correlate`] computed by any engine, with explicit limits.
pub fn correlate_opts<T: Ring, D: Dimension>(
    in1: ArrayView<'_, T, D>,
    in2: ArrayView<'_, T, D>,
    mode: Mode,
    opts: &Options<'_, T>,
) -> Result<Array<T, D>, ConvError> {
    let (a, b) = (in1.into_dyn(), in2.into_dyn());
    check_ranks(&a, &b)?;
    let y = if numpy_path(mode, &a, &b) {
        valid_swap_needed(mode, a.shape(), b.shape())?;
        if a.len() < b.len() {
            // numpy: correlate conj(in2) with in1, then reverse.
            let bc = b.map(Ring::conj);
            reverse_all(run(
                &bc.view(),
                &a,
                Flip::Correlation,
                mode,
                same_lo_correlate,
                Boundary::Zeros,
                opts,
            )?)
        } else {
            let bc = b.map(Ring::conj);
            run(
                &a,
                &bc.view(),
                Flip::Correlation,
                mode,
                same_lo_correlate,
                Boundary::Zeros,
                opts,
            )?
        }
    } else {
        correlate_nd(&a, &b, mode, opts)?
    };
    into_dim(y)
}

/// scipy's N-D direct correlation (`_correlateND` with its argument swaps).
fn correlate_nd<T: Ring>(
    a: &ArrayView<'_, T, IxDyn>,
    b: &ArrayView<'_, T, IxDyn>,
    mode: Mode,
    opts: &Options<'_, T>,
) -> Result<ArrayD<T>, ConvError> {
    let swap =
        valid_swap_needed(mode, a.shape(), b.shape())? || (mode == Mode::Full && b.len() > a.len());
    if swap {
        let ac = a.map(Ring::conj);
        let z = run(
            b,
            &ac.view(),
            Flip::Correlation,
            mode,
            same_lo_correlate,
            Boundary::Zeros,
            opts,
        )?;
        Ok(reverse_all(z).map(Ring::conj))
    } else {
        let bc = b.map(Ring::conj);
        run(
            a,
            &bc.view(),
            Flip::Correlation,
            mode,
            same_lo_correlate,
            Boundary::Zeros,
            opts,
        )
    }
}

/// scipy's `_np_conv_ok`: 1-D inputs in full or valid mode, or same mode with `in1` at least
/// as long, are handed to numpy.
fn numpy_path<T>(mode: Mode, a: &ArrayView<'_, T, IxDyn>, b: &ArrayView<'_, T, IxDyn>) -> bool {
    a.ndim() == 1 && b.ndim() == 1 && (mode != Mode::Same || a.len() >= b.len())
}

/// `scipy.signal.convolve2d(in1, in2, mode, boundary, fillvalue)`.
pub fn convolve2d<T: Ring>(
    in1: ArrayView<'_, T, ndarray::Ix2>,
    in2: ArrayView<'_, T, ndarray::Ix2>,
    mode: Mode,
    boundary: Boundary2d<T>,
) -> Result<ndarray::Array2<T>, ConvError> {
    convolve2d_opts(
        in1,
        in2,
        mode,
        boundary,
        &Options::reference(Limits::default()),
    )
}

/// [`convolve2d`] computed by any engine, with explicit limits.
pub fn convolve2d_opts<T: Ring>(
    in1: ArrayView<'_, T, ndarray::Ix2>,
    in2: ArrayView<'_, T, ndarray::Ix2>,
    mode: Mode,
    boundary: Boundary2d<T>,
    opts: &Options<'_, T>,
) -> Result<ndarray::Array2<T>, ConvError> {
    let (a, b) = (in1.into_dyn(), in2.into_dyn());
    let (a, b) = if valid_swap_needed(mode, a.shape(), b.shape())? {
        (b, a)
    } else {
        (a, b)
    };
    let y = run(
        &a,
        &b,
        Flip::Convolution,
        mode,
        same_lo_convolve,
        boundary.into(),
        opts,
    )?;
    into_dim(y)
}

/// `scipy.signal.correlate2d(in1, in2, mode, boundary, fillvalue)`.
///
/// scipy's 'same' centre here is `(M-1)/2`, not the `M/2` of [`correlate`]. In 'valid' mode with
/// `in2` the larger, scipy swaps the arguments, conjugates the new second one (the original
/// `in1`) and reverses the result without conjugating it back; for complex input that is the
/// conjugate of the mathematical correlation, and this function reproduces it.
pub fn correlate2d<T: Ring>(
    in1: ArrayView<'_, T, ndarray::Ix2>,
    in2: ArrayView<'_, T, ndarray::Ix2>,
    mode: Mode,
    boundary: Boundary2d<T>,
) -> Result<ndarray::Array2<T>, ConvError> {
    correlate2d_opts(
        in1,
        in2,
        mode,
        boundary,
        &Options::reference(Limits::default()),
    )
}

/// [`correlate2d`] computed by any engine, with explicit limits.
pub fn correlate2d_opts<T: Ring>(
    in1: ArrayView<'_, T, ndarray::Ix2>,
    in2: ArrayView<'_, T, ndarray::Ix2>,
    mode: Mode,
    boundary: Boundary2d<T>,
    opts: &Options<'_, T>,
) -> Result<ndarray::Array2<T>, ConvError> {
    let (a, b) = (in1.into_dyn(), in2.into_dyn());
    let swapped = valid_swap_needed(mode, a.shape(), b.shape())?;
    let (a, b) = if swapped { (b, a) } else { (a, b) };
    let bc = b.map(Ring::conj);
    let y = run(
        &a,
        &bc.view(),
        Flip::Correlation,
        mode,
        same_lo_correlate2d,
        boundary.into(),
        opts,
    )?;
    into_dim(if swapped { reverse_all(y) } else { y })
}

impl<T> From<Boundary2d<T>> for Boundary<T> {
    fn from(b: Boundary2d<T>) -> Self {
        match b {
            Boundary2d::Fill(v) => Boundary::Constant(v),
            Boundary2d::Wrap => Boundary::Circular,
            Boundary2d::Symm => Boundary::Symmetric,
        }
    }
}

/// Leading pad of 'same' for kernel length `m` (the trailing pad is `m - 1 - lo`).
/// convolve: output `full[(m-1)/2 ..]`, i.e. `lo = m - 1 - (m-1)/2`.
fn same_lo_convolve(m: usize) -> usize {
    m - 1 - (m - 1) / 2
}
/// correlate: centre `c = m/2`.
fn same_lo_correlate(m: usize) -> usize {
    m / 2
}
/// correlate2d: centre `c = (m-1)/2`.
fn same_lo_correlate2d(m: usize) -> usize {
    (m - 1) / 2
}

fn check_ranks<T>(
    a: &ArrayView<'_, T, IxDyn>,
    b: &ArrayView<'_, T, IxDyn>,
) -> Result<(), ConvError> {
    if a.ndim() != b.ndim() {
        return Err(ConvError::RankMismatch {
            what: "in2",
            expected: a.ndim(),
            got: b.ndim(),
        });
    }
    Ok(())
}

/// scipy's `_inputs_swap_needed`: in 'valid' mode, swap when `in2` is the larger on every
/// axis; refuse when neither is at least as large as the other on every axis.
fn valid_swap_needed(mode: Mode, s1: &[usize], s2: &[usize]) -> Result<bool, ConvError> {
    if mode != Mode::Valid {
        return Ok(false);
    }
    let ok1 = s1.iter().zip(s2).all(|(a, b)| a >= b);
    let ok2 = s1.iter().zip(s2).all(|(a, b)| b >= a);
    if !(ok1 || ok2) {
        let axis = s1.iter().zip(s2).position(|(a, b)| a < b).unwrap_or(0);
        return Err(ConvError::ValidSizes {
            axis,
            in1: s1[axis],
            in2: s2[axis],
        });
    }
    Ok(!ok1)
}

/// Runs the reference with `f` as a one-channel input and `g` as a one-channel kernel.
fn run<T: Ring>(
    f: &ArrayView<'_, T, IxDyn>,
    g: &ArrayView<'_, T, IxDyn>,
    flip: Flip,
    mode: Mode,
    same_lo: fn(usize) -> usize,
    boundary: Boundary<T>,
    opts: &Options<'_, T>,
) -> Result<ArrayD<T>, ConvError> {
    for (what, arr) in [("in1", f), ("in2", g)] {
        if let Some(axis) = arr.shape().iter().position(|&n| n == 0) {
            return Err(ConvError::EmptyArray { what, axis });
        }
    }
    let padding = match mode {
        Mode::Full => Padding::Full,
        Mode::Valid => Padding::Valid,
        Mode::Same => Padding::Explicit(
            g.shape()
                .iter()
                .map(|&m| (same_lo(m), m - 1 - same_lo(m)))
                .collect(),
        ),
    };
    let spec = ConvSpec {
        padding,
        boundary,
        flip,
        limits: opts.limits,
        ..ConvSpec::default()
    };
    let x = f.view().insert_axis(Axis(0)).insert_axis(Axis(0));
    let w = g.view().insert_axis(Axis(0)).insert_axis(Axis(0));
    let y = opts.engine.conv(&Problem::new(x, w).spec(spec))?;
    Ok(y.index_axis_move(Axis(0), 0).index_axis_move(Axis(0), 0))
}

fn reverse_all<T>(mut a: ArrayD<T>) -> ArrayD<T> {
    for axis in 0..a.ndim() {
        a.slice_axis_inplace(Axis(axis), Slice::new(0, None, -1));
    }
    a
}

fn into_dim<T, D: Dimension>(a: ArrayD<T>) -> Result<Array<T, D>, ConvError> {
    let got = a.ndim();
    a.into_dimensionality::<D>()
        .map_err(|_| ConvError::RankMismatch {
            what: "result",
            expected: D::NDIM.unwrap_or(got),
            got,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed() {
        // numpy.convolve([1,2,3], [0,1,0.5]) = [0, 1, 2.5, 4, 1.5].
        let f = array![1.0, 2.0, 3.0];
        let g = array![0.0, 1.0, 0.5];
        let full = convolve(f.view(), g.view(), Mode::Full).unwrap();
        assert_eq!(full.to_vec(), vec![0.0, 1.0, 2.5, 4.0, 1.5]);
        // same: full[1..4]
        let same = convolve(f.view(), g.view(), Mode::Same).unwrap();
        assert_eq!(same.to_vec(), vec![1.0, 2.5, 4.0]);
        let valid = convolve(f.view(), g.view(), Mode::Valid).unwrap();
        assert_eq!(valid.to_vec(), vec![2.5]);
        // correlate([1,2,3], [0,1,0.5]) full: z[k] = sum_l f[l] g[l - k + 2]
        // = [0.5, 2, 3.5, 3, 0].
        let z = correlate(f.view(), g.view(), Mode::Full).unwrap();
        assert_eq!(z.to_vec(), vec![0.5, 2.0, 3.5, 3.0, 0.0]);
    }

    #[test]
    fn limits_are_configurable() {
        let f = ndarray::Array1::from_elem(100, 1i64);
        let g = ndarray::Array1::from_elem(10, 1i64);
        let small = Limits {
            max_elements: 50,
            max_work: 1 << 20,
        };
        assert_eq!(
            convolve_opts(f.view(), g.view(), Mode::Full, &Options::reference(small)),
            Err(ConvError::LimitExceeded {
                what: "output elements",
                limit: 50,
                got: 109
            })
        );
        assert!(correlate_opts(f.view(), g.view(), Mode::Valid, &Options::default()).is_ok());
    }
}
