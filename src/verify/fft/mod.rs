//! The FFT engine's property: its result is within the normwise bound of
//! [`crate::tolerance::fft`] of the exact direct result. Case strategies, the independent
//! bound, the exact comparison and the `verify` rows ([`rows`]); the unit tests beside it
//! (`tests.rs`) drive the same functions with more cases.
//!
//! | property | claim |
//! |---|---|
//! | `fft-within-bound-uniform` | `\|\|fft - exact\|\|_2 <= bound` for every block `(n, o)`, values uniform in `[-1, 1]` (f64 and `Complex<f64>`), and the largest `error / bound` over cases without bias is at least [`RATIO_FLOOR`] (the bound is not vacuous; checked given [`FLOOR_MIN_CASES`] such cases); the row's detail reports it |
//! | `fft-within-bound-decades` | the same with values `+-10^e`, `e` uniform in `[-6, 6]` (twelve decades) |
//! | `fft-within-bound-cancelling` | the same with inputs `1e6 + U(-1, 1)` and kernels summing to zero (outputs cancel) |
//! | `fft-within-bound-large` | the same on realistic sizes ([`large_case`]: 256..=2048-sample signals with up to 31 taps, images up to 48x48 with up to 5x5 kernels), uniform f64, no bias |
//! | `fft-mutant-breaks-bound` | refuted: each deliberately wrong engine (`Mutation`: no `1/N`, circular instead of linear convolution, crop off by one) fails the uniform f64 property |
//!
//! Cases are drawn shape first (a [`Layout`]: rank 1..=3, batch, groups, channels, stride,
//! dilation, every padding rule and boundary mode, flip, bias), then data from a [`Dist`].
//!
//! **The bound** is computed here from the problem, independently of the engine
//! ([`fft_bounds`]: the input padded with [`crate::problem::boundary::pad`], norms and masses from
//! `tolerance::fft`), with only the transform lengths (and overlap-add blocks) taken from the
//! engine's plan; the engine's own [`FftEngine::error_bounds`] must give the same numbers.
//!
//! **The exact result** ([`exact_conv`]) is the reference formula run on integers: every
//! finite f64 is `m 2^e` with an integer `m`, so input, boundary constant, weight and bias are
//! scaled by powers of two to big integers ([`crate::scalar::Ring`] on `BigInt`), the
//! reference computes exactly, and the error `fft - exact` of each element is formed exactly
//! and rounded once. (`src/verify/fft/tests.rs` checks it against the reference on `BigRational`.)

use crate::engine::ConvEngine;
#[cfg(feature = "fault-injection")]
use crate::engine::fft::Mutation;
use crate::engine::fft::{Blocking, FftElement, FftEngine, FftPath};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::pad;
use crate::problem::{Boundary, ConvSpec, Padding};
use crate::reference::conv;
use crate::testing::cases::Arr;
use crate::testing::cases::*;
use crate::testing::{Expect, Kind, Outcome, Row, Violation, search, timed};
use crate::tolerance::fft::{
    FftTerms, TransformPrecision, distance, l1_upper_complex, l2_upper, mass, pow2,
};
#[cfg(test)]
use crate::tolerance::fft::{normwise, reference_error};
use ndarray::{ArrayD, Axis, IxDyn};
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::ToPrimitive;
use proptest::prelude::*;
use std::cell::Cell;
use std::fmt::Debug;
use std::rc::Rc;

type C64 = Complex<f64>;

/// The floor on the largest observed `error / bound`: a bound that is never approached by
/// more than a factor 1000 on these cases is too loose to be useful.
pub(crate) const RATIO_FLOOR: f64 = 1e-3;

/// The floor is a statement about the largest of many ratios: a row checks it only when at
/// least this many valid cases without bias were drawn (`verify --cases 16` does not).
pub(crate) const FLOOR_MIN_CASES: usize = 16;

/// Largest rank the `verify` rows draw (the exact result is the reference on big integers).
pub(crate) const VERIFY_MAX_RANK: usize = 3;

/// Largest rank the `verify` mutant rows draw: every mutant fails at rank 1, and a smaller
/// first counterexample shrinks faster.
#[cfg(feature = "fault-injection")]
pub(crate) const MUTANT_MAX_RANK: usize = 2;

// ---------------------------------------------------------------------------- the bound

/// What the bound needs from the engine's plan: the transform it runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Transform {
    /// Total transform length `N` (product of the per-axis lengths).
    pub total_len: f64,
    /// Overlap-add: the most blocks summed into one output element (1 for one transform).
    pub overlap: usize,
}

/// The transform the engine plans for `p`, or `None` when it takes the reference path.
pub(crate) fn transform(engine: &FftEngine, p: &Problem<'_, impl FftElement>) -> Option<Transform> {
    let geo = p.validate().ok()?;
    match engine.plan(p).ok()?.path {
        FftPath::Fft {
            lengths,
            block,
            blocks,
            ..
        } => Some(Transform {
            total_len: lengths.iter().map(|&l| l as f64).product(),
            // `k = prod_a k_a`, `k_a = floor((B_a + E_a - 2) / B_a) + 1` on an axis split into
            // blocks of `B_a` samples (`E_a` the dilated kernel extent), 1 on a whole axis.
            overlap: geo
                .axes
                .iter()
                .zip(block.iter().zip(&blocks))
                .map(|(g, (&b, &count))| {
                    if count > 1 {
                        (b + g.effective_kernel() - 2) / b + 1
                    } else {
                        1
                    }
                })
                .product(),
        }),
        FftPath::Reference(_) => None,
    }
}

/// Per block `(n, o)`: the FFT bound, computed from the problem independently of the engine
/// (padding with [`pad`], norms and masses from `tolerance::fft`), for the transform `t` the
/// engine plans; `output_roundoff` as in [`FftTerms`]. The problem's own error when it is
/// invalid.
pub(crate) fn fft_bounds<T: FftSample>(
    p: &Problem<'_, T>,
    t: Transform,
    output_roundoff: Option<f64>,
) -> Result<ArrayD<f64>, ConvError> {
    let geo = p.validate()?;
    let mut pads = vec![(0, 0), (0, 0)];
    pads.extend(geo.pads());
    let xb = pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits)?;
    let (batch, c_out, cg) = (xb.shape()[0], p.weight.shape()[0], p.weight.shape()[1]);
    let og = c_out / p.spec.groups;
    let outputs: usize = geo.output_shape().iter().product();
    let xmax = xb.iter().fold(0f64, |m, v| m.max(v.magnitude().parts()[0]));
    let wmax = p
        .weight
        .iter()
        .fold(0f64, |m, v| m.max(v.magnitude().parts()[0]));
    Ok(ArrayD::from_shape_fn(IxDyn(&[batch, c_out]), |i| {
        let (n, o) = (i[0], i[1]);
        let g = o / og;
        let pairs = (0..cg).map(|c| {
            let x = xb.index_axis(Axis(0), n);
            let x = x.index_axis(Axis(0), g * cg + c);
            let w = p.weight.index_axis(Axis(0), o);
            let w = w.index_axis(Axis(0), c);
            let a = l2_upper(x.iter().flat_map(|v| v.parts()).collect::<Vec<_>>());
            let b = l1_upper_complex(w.iter().map(|v| {
                let [re, im] = v.parts();
                Complex::new(re, im)
            }));
            (a, b)
        });
        FftTerms {
            transform_len: t.total_len,
            channels: cg,
            mass: mass(pairs.collect::<Vec<_>>()),
            bias: p.bias.as_ref().map(|b| b[o].magnitude().parts()[0]),
            outputs,
            overlap: t.overlap,
            scale: xmax * wmax,
            output_roundoff,
            precision: TransformPrecision::Double,
            // Only single precision (unscaled data) uses it.
            underflow_gain: 1.0,
        }
        .bound()
    }))
}

/// The f64 reference's own error per block (2-norm), from the reference on absolute values.
/// The problem's own error when it is invalid.
#[cfg(test)]
pub(crate) fn reference_bounds<T: FftSample>(p: &Problem<'_, T>) -> Result<ArrayD<f64>, ConvError> {
    let abs_x = p.input.mapv(FftSample::magnitude);
    let abs_w = p.weight.mapv(FftSample::magnitude);
    let abs_b = p.bias.as_ref().map(|b| b.mapv(FftSample::magnitude));
    let mut spec = p.spec.clone();
    if let Boundary::Constant(c) = &spec.boundary {
        spec.boundary = Boundary::Constant(c.magnitude());
    }
    let mut q = Problem::new(abs_x.view(), abs_w.view()).spec(spec);
    if let Some(b) = &abs_b {
        q = q.bias(b.view());
    }
    let a = conv(&q)?;
    let taps: usize = p.weight.shape()[1..].iter().product();
    let terms = taps + usize::from(p.bias.is_some());
    let (batch, c_out) = (a.shape()[0], a.shape()[1]);
    Ok(ArrayD::from_shape_fn(IxDyn(&[batch, c_out]), |i| {
        let block = a.index_axis(Axis(0), i[0]);
        let block = block.index_axis(Axis(0), i[1]);
        reference_error(
            block.iter().map(|v| v.parts()[0]).collect::<Vec<_>>(),
            terms,
        )
    }))
}

/// The real and imaginary parts of block `(n, o)` of `y`, flattened.
#[cfg(test)]
pub(crate) fn block_parts<T: FftSample>(y: &ArrayD<T>, n: usize, o: usize) -> Vec<f64> {
    let b = y.index_axis(Axis(0), n);
    let b = b.index_axis(Axis(0), o);
    b.iter().flat_map(|v| v.parts()).collect()
}

/// The engine's result, what it is compared with, and the bound of every block.
struct Computed<T, E> {
    got: ArrayD<T>,
    want: E,
    bounds: ArrayD<f64>,
}

/// Runs the engine, its plan and both bounds (independent and the engine's own, which must
/// agree); `Ok(None)` when the engine and `expected` refuse the problem with the same error.
fn engine_and_bounds<T: FftSample, E>(
    engine: &FftEngine,
    p: &Problem<'_, T>,
    expected: Result<E, ConvError>,
) -> Result<Option<Computed<T, E>>, Violation> {
    let ((got, path), want) = match (engine.conv_with_path(p), expected) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(a), Err(b)) if a == b => return Ok(None),
        (a, b) => return Err(Violation::acceptance(&a, &b)),
    };
    let Some(t) = transform(engine, p) else {
        return Err(Violation::hypothesis(format!(
            "the engine took its reference path, not a transform: {path:?}"
        )));
    };
    let fft = fft_bounds(p, t, None)?;
    // The engine's own bounds (used for its integer decisions) must be the same numbers.
    let own = engine.error_bounds(p).map_err(|e| Violation::refused(&e))?;
    for (a, b) in own.iter().zip(fft.iter()) {
        if (a - b).abs() > 1e-9 * b {
            return Err(Violation::mismatch(format!(
                "engine bound {a:e} vs independent bound {b:e}"
            )));
        }
    }
    Ok(Some(Computed {
        got,
        want,
        bounds: fft,
    }))
}

/// FFT result vs the f64 reference: every block within `fft bound + reference error`.
/// Returns the largest `error / fft bound` (an over-estimate of the FFT's own ratio).
#[cfg(test)]
pub(crate) fn check_against_reference<T: FftSample>(
    engine: &FftEngine,
    c: &Case<T>,
) -> Result<f64, Violation> {
    c.with(|p| {
        let Some(Computed {
            got,
            want,
            bounds: fft,
        }) = engine_and_bounds(engine, p, conv(p))?
        else {
            return Ok(0.0);
        };
        if got.shape() != want.shape() {
            return Err(Violation::new(
                Kind::ShapeMismatch,
                format!("shape {:?} vs {:?}", got.shape(), want.shape()),
            ));
        }
        let refb = reference_bounds(p)?;
        let mut blocks = Vec::new();
        for n in 0..got.shape()[0] {
            for o in 0..got.shape()[1] {
                let err = distance(&block_parts(&got, n, o), &block_parts(&want, n, o));
                blocks.push((err, fft[[n, o]] + refb[[n, o]], fft[[n, o]]));
            }
        }
        let report = normwise(blocks.iter().map(|&(e, b, _)| (e, b)));
        if !report.passed {
            let (e, b, f) = blocks.get(report.worst).copied().unwrap_or_default();
            return Err(Violation::bound(format!(
                "block {} error {e:e} > bound {b:e} (fft part {f:e}); plan {:?}",
                report.worst,
                engine.plan(p).map(|p| p.to_string())
            )));
        }
        Ok(blocks.iter().map(|&(e, _, f)| e / f).fold(0.0, f64::max))
    })
}

// ---------------------------------------------------------------------------- exact result

/// An exact convolution result: `mantissa * 2^exponent`, element by element.
#[derive(Clone, Debug)]
pub(crate) struct ExactResult<S> {
    /// The result divided by `2^exponent`: integers.
    pub mantissa: ArrayD<S>,
    /// The common power of two.
    pub exponent: i32,
}

impl<S> ExactResult<S> {
    /// The exact parts of every element as rationals, in row-major order.
    pub(crate) fn rational_parts<T: FftSample<Scaled = S>>(&self) -> Vec<[BigRational; 2]> {
        let scale = if self.exponent >= 0 {
            BigRational::from_integer(BigInt::from(1) << self.exponent as usize)
        } else {
            BigRational::new(
                BigInt::from(1),
                BigInt::from(1) << (-self.exponent) as usize,
            )
        };
        self.mantissa
            .iter()
            .map(|s| T::scaled_parts(s).map(|m| BigRational::from_integer(m) * &scale))
            .collect()
    }
}

/// The exact result of a finite case: the reference on integers (module docs). Input and
/// boundary constant are scaled by `2^-ex`, the weight by `2^-ew`, the bias by `2^-(ex+ew)`,
/// with `ex`, `ew` small enough that every scaled value is an integer.
pub(crate) fn exact_conv<T: FftSample>(c: &Case<T>) -> Result<ExactResult<T::Scaled>, ConvError> {
    let lsb = |v: &T| {
        v.parts()
            .into_iter()
            .map(lsb_exponent)
            .min()
            .unwrap_or(i32::MAX)
    };
    let least = |it: &mut dyn Iterator<Item = &T>| it.map(lsb).min().unwrap_or(i32::MAX);
    let constant = match &c.spec.boundary {
        Boundary::Constant(v) => Some(v),
        _ => None,
    };
    let known = |e: i32| if e == i32::MAX { 0 } else { e };
    let mut ex = known(least(&mut c.input.0.iter().chain(constant)));
    let ew = known(least(&mut c.weight.0.iter()));
    if let Some(b) = &c.bias {
        let eb = least(&mut b.iter());
        if eb != i32::MAX && eb < ex + ew {
            ex = eb - ew;
        }
    }
    let scaled = Case {
        input: Arr(c.input.0.mapv(|v| v.scaled(ex))),
        weight: Arr(c.weight.0.mapv(|v| v.scaled(ew))),
        bias: c
            .bias
            .as_ref()
            .map(|b| b.iter().map(|v| v.scaled(ex + ew)).collect()),
        spec: c.spec.map_constant(|v| v.scaled(ex)),
    };
    Ok(ExactResult {
        mantissa: scaled.with(conv)?,
        exponent: ex + ew,
    })
}

/// `got - m 2^e`, formed exactly and rounded once (infinite for a non-finite `got`).
fn exact_difference(got: f64, m: &BigInt, e: i32) -> f64 {
    if !got.is_finite() {
        return f64::INFINITY;
    }
    let (mg, eg) = dyadic(got).unwrap_or((0, e));
    let low = eg.min(e);
    let d = (BigInt::from(mg) << (eg - low) as usize) - (m << (e - low) as usize);
    pow2(d.to_f64().unwrap_or(f64::INFINITY), low)
}

/// What one exact check measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ExactCheck {
    /// Largest `||fft - exact||_2 / bound` over the blocks.
    pub max_ratio: f64,
    /// Blocks `(n, o)` checked.
    pub blocks: usize,
    /// Total transform length `N` the engine used.
    pub transform_len: f64,
    /// The engine split the signal into overlap-add blocks.
    pub overlap_add: bool,
}

/// The property: the FFT result is within the normwise bound of the exact result in every
/// block. `Ok(None)` when the engine and the reference refuse the problem with the same
/// error; otherwise the largest `error / bound`.
pub(crate) fn check_exact<T: FftSample>(
    engine: &FftEngine,
    c: &Case<T>,
) -> Result<Option<ExactCheck>, Violation> {
    c.with(|p| {
        let Some(Computed {
            got,
            want: exact,
            bounds: fft,
        }) = engine_and_bounds(engine, p, exact_conv(c))?
        else {
            return Ok(None);
        };
        if got.shape() != exact.mantissa.shape() {
            return Err(Violation::new(
                Kind::ShapeMismatch,
                format!("shape {:?} vs {:?}", got.shape(), exact.mantissa.shape()),
            ));
        }
        let mut check = ExactCheck {
            transform_len: transform(engine, p).map_or(0.0, |t| t.total_len),
            overlap_add: engine.plan(p).is_ok_and(|plan| plan.path.is_overlap_add()),
            ..ExactCheck::default()
        };
        for n in 0..got.shape()[0] {
            for o in 0..got.shape()[1] {
                let g = got.index_axis(Axis(0), n);
                let g = g.index_axis(Axis(0), o);
                let y = exact.mantissa.index_axis(Axis(0), n);
                let y = y.index_axis(Axis(0), o);
                let diffs: Vec<f64> = g
                    .iter()
                    .zip(y.iter())
                    .flat_map(|(gv, yv)| {
                        let [g_re, g_im] = gv.parts();
                        let [y_re, y_im] = T::scaled_parts(yv);
                        [
                            exact_difference(g_re, &y_re, exact.exponent),
                            exact_difference(g_im, &y_im, exact.exponent),
                        ]
                    })
                    .collect();
                let err = distance(&diffs, &vec![0.0; diffs.len()]);
                let ratio = err / fft[[n, o]];
                if ratio.is_nan() || ratio > 1.0 {
                    return Err(Violation::bound(format!(
                        "block ({n}, {o}): ||fft - exact||_2 = {err:e} > bound {:e} (ratio {ratio:.3e}); plan {:?}",
                        fft[[n, o]],
                        engine.plan(p).map(|p| p.to_string())
                    )));
                }
                check.max_ratio = check.max_ratio.max(ratio);
                check.blocks += 1;
            }
        }
        Ok(Some(check))
    })
}

// ---------------------------------------------------------------------------- battery

/// The transform-length cap of the overlap-add rows ([`Blocking::Capped`]): small enough that
/// most random cases are split into blocks.
pub(crate) const OVERLAP_ADD_CAP: usize = 8;

#[cfg(feature = "fault-injection")]
/// The deliberately wrong engines the `fft-mutant-breaks-bound` rows must refute.
#[doc(hidden)]
pub(crate) const MUTATIONS: [Mutation; 4] = [
    Mutation::NoNormalisation,
    Mutation::ShortTransform,
    Mutation::CropOffByOne,
    Mutation::OverlapOverwrite,
];

/// Largest ratios seen by a row, over the valid cases.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// Over every block.
    all: f64,
    /// Over the blocks of cases without bias (the FFT part of the bound alone: a bias adds
    /// one rounding, `u |y + b|`, that a large bias nearly attains).
    no_bias: f64,
    no_bias_cases: usize,
    blocks: usize,
    valid: usize,
    largest_transform: f64,
    /// Cases the engine split into overlap-add blocks, and their largest ratio.
    split: usize,
    split_max: f64,
}

/// Runs [`check_exact`] on `cases` cases from `strategy`, requires the largest ratio without
/// bias to be at least [`RATIO_FLOOR`] (given [`FLOOR_MIN_CASES`] such cases), and reports the
/// largest ratios in the detail.
fn ratio_row<T: FftSample>(
    property: &'static str,
    engine: &FftEngine,
    strategy: impl Strategy<Value = Case<T>>,
    cases: u32,
    seed: u64,
) -> Outcome {
    let seen = Cell::new(Seen::default());
    let name = format!("{}/{}", ConvEngine::<T>::name(engine), T::NAME);
    let mut row = timed(property, name, cases, Expect::Holds, || {
        search(strategy, cases, seed, |c| {
            if let Some(r) = check_exact(engine, c)? {
                let mut s = seen.get();
                s.all = s.all.max(r.max_ratio);
                if c.bias.is_none() {
                    s.no_bias = s.no_bias.max(r.max_ratio);
                    s.no_bias_cases += 1;
                }
                s.blocks += r.blocks;
                s.valid += 1;
                s.largest_transform = s.largest_transform.max(r.transform_len);
                if r.overlap_add {
                    s.split += 1;
                    s.split_max = s.split_max.max(r.max_ratio);
                }
                seen.set(s);
            }
            Ok(())
        })?;
        let s = seen.get();
        // Like the floor, required once enough cases were drawn (`verify --cases 8` may draw
        // none long enough to split).
        if engine.blocking_rule() != Blocking::Whole && s.split == 0 && s.valid >= FLOOR_MIN_CASES {
            return Err(Violation::hypothesis(format!(
                "no case was split into overlap-add blocks ({} valid cases): the row would not test overlap-add",
                s.valid
            )));
        }
        if s.no_bias_cases >= FLOOR_MIN_CASES && s.no_bias < RATIO_FLOOR {
            return Err(Violation::new(
                Kind::BoundLoose,
                format!(
                    "largest ||fft - exact||_2 / bound without bias {:.3e} is below {RATIO_FLOOR:e}: the bound is vacuous here",
                    s.no_bias
                ),
            ));
        }
        Ok(())
    });
    if row.passed {
        let s = seen.get();
        let floor = if s.no_bias_cases >= FLOOR_MIN_CASES {
            format!("floor {RATIO_FLOOR:e}")
        } else {
            format!(
                "floor not checked: {} cases without bias, fewer than {FLOOR_MIN_CASES}",
                s.no_bias_cases
            )
        };
        row.detail = format!(
            "max ||fft - exact||_2 / bound = {:.3e} without bias ({floor}), {:.3e} with; {} blocks of {} valid cases ({} split into overlap-add blocks, max ratio {:.3e}), transforms up to N = {}",
            s.no_bias, s.all, s.blocks, s.valid, s.split, s.split_max, s.largest_transform
        );
    }
    row
}

/// One `fft-within-bound-*` row: [`check_exact`] on `cases` cases of `d` (rank up to
/// `max_rank`), and the largest ratio without bias at least [`RATIO_FLOOR`]; the detail reports
/// the largest ratios.
pub(crate) fn within_bound_row<T: FftSample>(
    engine: &FftEngine,
    d: Dist,
    max_rank: usize,
    cases: u32,
    seed: u64,
) -> Outcome {
    ratio_row(d.property(), engine, case::<T>(d, max_rank), cases, seed)
}

/// Strategy: realistic f64 problems without bias, uniform data: a 1-D signal of 256..=2048
/// samples with 3..=31 taps, or a 16..=48 square image with 3x3..=5x5 kernels; 1..=3 input
/// and 1..=2 output channels, stride 1, zero padding `full`, `same` or `valid`.
pub(crate) fn large_case() -> impl Strategy<Value = Case<f64>> {
    let one_d = (256usize..=2048, 3usize..=31).prop_map(|(n, k)| (vec![n], vec![k]));
    let two_d =
        (16usize..=48, 3usize..=5, 3usize..=5).prop_map(|(n, k1, k2)| (vec![n, n], vec![k1, k2]));
    let padding = prop_oneof![
        Just(Padding::Full),
        Just(Padding::SameUpper),
        Just(Padding::Valid)
    ];
    (prop_oneof![one_d, two_d], 1usize..=3, 1usize..=2, padding).prop_flat_map(
        |((input, kernel), c_in, c_out, padding)| {
            let mut xs = vec![1, c_in];
            xs.extend(&input);
            let mut ws = vec![c_out, c_in];
            ws.extend(&kernel);
            let values = || real_value(Dist::Uniform);
            (array(xs, values()), array(ws, values())).prop_map(move |(input, weight)| Case {
                input,
                weight,
                bias: None,
                spec: ConvSpec::new().padding(padding.clone()),
            })
        },
    )
}

#[cfg(feature = "fault-injection")]
/// The wrong engine of a mutation; an overlap-add bug shows only when the signal is split
/// into blocks, so that one caps its transforms at [`OVERLAP_ADD_CAP`].
#[doc(hidden)]
pub(crate) fn mutant_engine(mutation: Mutation) -> FftEngine {
    match mutation {
        Mutation::OverlapOverwrite => {
            FftEngine::with_mutation(mutation).blocking(Blocking::Capped(OVERLAP_ADD_CAP))
        }
        _ => FftEngine::with_mutation(mutation),
    }
}

#[cfg(feature = "fault-injection")]
/// One `fft-mutant-breaks-bound` row: the uniform f64 property on a wrong engine, which the
/// search must refute.
#[doc(hidden)]
pub(crate) fn mutant_row(mutation: Mutation, max_rank: usize, cases: u32, seed: u64) -> Outcome {
    let engine = mutant_engine(mutation);
    let name = format!("{}/f64", ConvEngine::<f64>::name(&engine));
    timed(
        "fft-mutant-breaks-bound",
        name,
        cases,
        Expect::Refuted(Kind::BoundExceeded),
        || {
            search(case::<f64>(Dist::Uniform, max_rank), cases, seed, |c| {
                check_exact(&engine, c).map(|_| ())
            })
        },
    )
}

/// The FFT rows `verify` runs: the whole-transform engine on every distribution in `f64` and
/// `Complex<f64>`, overlap-add (transforms capped at [`OVERLAP_ADD_CAP`] points per axis, so
/// small cases are split) on every `f64` distribution and on complex decades, realistic large
/// problems whole and capped at 64, and every wrong engine of [`MUTATIONS`] refuted.
pub(crate) fn rows() -> Vec<Row> {
    let whole = Rc::new(FftEngine::new());
    let capped = Rc::new(FftEngine::new().blocking(Blocking::Capped(OVERLAP_ADD_CAP)));
    fn within<T: FftSample>(engine: &Rc<FftEngine>, d: Dist) -> Row {
        let engine = Rc::clone(engine);
        let name = format!("{}/{}", ConvEngine::<T>::name(engine.as_ref()), T::NAME);
        Row::new(d.property(), name, move |cases, seed| {
            within_bound_row::<T>(&engine, d, VERIFY_MAX_RANK, cases, seed)
        })
    }
    let mut out: Vec<Row> = Dist::ALL
        .iter()
        .map(|&d| within::<f64>(&whole, d))
        .collect();
    out.extend(Dist::ALL.iter().map(|&d| within::<C64>(&whole, d)));
    out.extend(Dist::ALL.iter().map(|&d| within::<f64>(&capped, d)));
    out.push(within::<C64>(&capped, Dist::Decades));
    for engine in [
        whole,
        Rc::new(FftEngine::new().blocking(Blocking::Capped(64))),
    ] {
        let name = format!("{}/f64", ConvEngine::<f64>::name(engine.as_ref()));
        out.push(Row::new(
            "fft-within-bound-large",
            name,
            move |cases, seed| {
                ratio_row(
                    "fft-within-bound-large",
                    &engine,
                    large_case(),
                    (cases / 8).max(1),
                    seed,
                )
            },
        ));
    }
    #[cfg(feature = "fault-injection")]
    out.extend(MUTATIONS.iter().map(|&m| {
        Row::new(
            "fft-mutant-breaks-bound",
            format!("{m:?}"),
            move |cases, seed| mutant_row(m, MUTANT_MAX_RANK, cases, seed),
        )
    }));
    out
}

/// [`rows`], run.
#[cfg(test)]
pub(crate) fn run_fft_battery(cases: u32, seed: u64) -> Vec<Outcome> {
    crate::testing::run_rows(&rows(), cases, seed)
}

#[cfg(test)]
mod tests;
