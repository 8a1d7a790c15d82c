//! Properties of the correctly rounded engine ([`crate::engine::exact`]): every output equals
//! the exact rational value of the convolution rounded once to nearest-even, bit for bit.
//!
//! The exact value comes from the reference run on big integers
//! ([`crate::fft_properties::exact_conv`]: data scaled by powers of two into integers, the
//! literal formula over `BigInt`), not from anything the engine uses. The check of a result
//! `r` against the exact rational `S` does not round `S` either: it verifies the defining
//! property of round-to-nearest-even, with the neighbours of `r` in its format:
//!
//! - `r` finite: `S` lies between the midpoints `(prev(r) + r) / 2` and `(r + next(r)) / 2`;
//!   on a midpoint, `r`'s significand is even; at the top of the range the upper midpoint is
//!   the overflow threshold `max + ulp(max) / 2`, and `S` must stay strictly below it;
//!   `r = +-0` needs `S` of that sign (either sign when `S = 0`: [`crate::compare`] ignores
//!   the sign of an exact zero; `tests/exact.rs` checks the engine's rule separately);
//! - `r` infinite: `S` at or beyond the overflow threshold, with that sign;
//! - `r` NaN, or an infinity without an overflowing `S`: only where IEEE arithmetic on the
//!   exact terms gives it. That pattern comes from the reference (in the element type) on a
//!   copy of the data with every finite nonzero value replaced by `+-1`: its sums are small
//!   integers, so an output is NaN or infinite there exactly when a term is NaN (a NaN
//!   factor, `inf * 0`) or infinite.
//!
//! Data ([`Data`]) are drawn for the cases that break naive methods: uniform, cancelling,
//! all exponents of the format, products in the subnormal range, sums near overflow,
//! exact ties, and special values.

use crate::engine::ConvEngine;
use crate::engine::exact::{ExactElement, ExactEngine, ExactStats, Mutation};
use crate::fft_properties::{
    Case, FftSample, Layout, LayoutSizes, case_with_values, exact_conv, layout, layout_with,
};
use crate::properties::{Outcome, search, timed};
use crate::reference::conv;
use crate::scalar::Ring;
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use std::cell::Cell;
use std::fmt::Debug;

/// A binary format the check knows the neighbours in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

impl Format {
    /// Significand bits (24, 53).
    pub fn precision(self) -> i32 {
        match self {
            Format::F32 => 24,
            Format::F64 => 53,
        }
    }
    /// The largest finite value, as `f64`.
    pub fn max(self) -> f64 {
        match self {
            Format::F32 => f64::from(f32::MAX),
            Format::F64 => f64::MAX,
        }
    }
    /// The neighbours of a finite `v` of this format (widened to `f64`): `(below, above)`.
    fn neighbours(self, v: f64) -> (f64, f64) {
        match self {
            Format::F32 => {
                let v = v as f32;
                (f64::from(v.next_down()), f64::from(v.next_up()))
            }
            Format::F64 => (v.next_down(), v.next_up()),
        }
    }
    /// Whether the last significand bit of a finite `v` of this format is 0.
    fn even(self, v: f64) -> bool {
        match self {
            Format::F32 => (v as f32).to_bits() & 1 == 0,
            Format::F64 => v.to_bits() & 1 == 0,
        }
    }
    /// `max + ulp(max) / 2`: from here on, round-to-nearest overflows.
    fn threshold(self) -> BigRational {
        let max = rational(self.max());
        let below = rational(self.neighbours(self.max()).0);
        &max + (&max - below) / BigInt::from(2)
    }
}

fn rational(v: f64) -> BigRational {
    BigRational::from_float(v).unwrap_or_else(<BigRational as Zero>::zero)
}

/// Whether `r` (a value of `format`, widened) is `s` rounded to nearest-even; the reason
/// when it is not.
pub fn check_rounding(format: Format, r: f64, s: &BigRational) -> Result<(), String> {
    let threshold = format.threshold();
    let show = |why: &str| format!("{r:e} is not the rounding of {s} ({why})");
    if r.is_nan() {
        return Err(show("NaN for a finite sum"));
    }
    if r.is_infinite() {
        let beyond = if r > 0.0 {
            *s >= threshold
        } else {
            *s <= -threshold
        };
        return if beyond {
            Ok(())
        } else {
            Err(show("infinite below the overflow threshold"))
        };
    }
    if r == 0.0 {
        let half = rational(format.neighbours(0.0).1) / BigInt::from(2);
        let sign_ok = s.is_zero() || (*s > <BigRational as Zero>::zero()) == r.is_sign_positive();
        return if sign_ok && *s <= half && *s >= -half {
            Ok(())
        } else {
            Err(show("zero of the wrong sign, or too far from zero"))
        };
    }
    let (below, above) = format.neighbours(r);
    let rr = rational(r);
    let two = BigInt::from(2);
    let low = if below.is_infinite() {
        -threshold.clone()
    } else {
        (rational(below) + &rr) / two.clone()
    };
    let high = if above.is_infinite() {
        threshold.clone()
    } else {
        (rational(above) + &rr) / two
    };
    let even = format.even(r);
    let low_ok = *s > low || (*s == low && even && !below.is_infinite());
    let high_ok = *s < high || (*s == high && even && !above.is_infinite());
    if low_ok && high_ok {
        Ok(())
    } else {
        Err(show("outside its rounding interval"))
    }
}

// ---------------------------------------------------------------------------- element types

/// An element type the property checks: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`.
pub trait ExactSample:
    ExactElement + Ring + Copy + PartialEq + Debug + Send + Sync + 'static
{
    /// Short name for reports.
    const NAME: &'static str;
    /// The format of each component.
    const FORMAT: Format;
    /// The `f64` type holding the same values exactly.
    type Wide: FftSample;
    /// The same value, widened exactly.
    fn widen(self) -> Self::Wide;
    /// The components, widened (imaginary 0 for reals).
    fn components(self) -> [f64; 2];
    /// Components in use (1 or 2).
    const COMPONENTS: usize;
    /// A value from `f64` components (each rounded to the format).
    fn from_parts(re: f64, im: f64) -> Self;
    /// Each component mapped by `f` (in `f64`, rounded back).
    fn map_parts(self, f: impl Fn(f64) -> f64) -> Self {
        let [re, im] = self.components();
        Self::from_parts(f(re), f(im))
    }
}

impl ExactSample for f64 {
    const NAME: &'static str = "f64";
    const FORMAT: Format = Format::F64;
    type Wide = f64;
    const COMPONENTS: usize = 1;
    fn widen(self) -> f64 {
        self
    }
    fn components(self) -> [f64; 2] {
        [self, 0.0]
    }
    fn from_parts(re: f64, _: f64) -> f64 {
        re
    }
}

impl ExactSample for f32 {
    const NAME: &'static str = "f32";
    const FORMAT: Format = Format::F32;
    type Wide = f64;
    const COMPONENTS: usize = 1;
    fn widen(self) -> f64 {
        f64::from(self)
    }
    fn components(self) -> [f64; 2] {
        [f64::from(self), 0.0]
    }
    fn from_parts(re: f64, _: f64) -> f32 {
        re as f32
    }
}

impl ExactSample for Complex<f64> {
    const NAME: &'static str = "c64";
    const FORMAT: Format = Format::F64;
    type Wide = Complex<f64>;
    const COMPONENTS: usize = 2;
    fn widen(self) -> Complex<f64> {
        self
    }
    fn components(self) -> [f64; 2] {
        [self.re, self.im]
    }
    fn from_parts(re: f64, im: f64) -> Self {
        Complex::new(re, im)
    }
}

impl ExactSample for Complex<f32> {
    const NAME: &'static str = "c32";
    const FORMAT: Format = Format::F32;
    type Wide = Complex<f64>;
    const COMPONENTS: usize = 2;
    fn widen(self) -> Complex<f64> {
        Complex::new(f64::from(self.re), f64::from(self.im))
    }
    fn components(self) -> [f64; 2] {
        [f64::from(self.re), f64::from(self.im)]
    }
    fn from_parts(re: f64, im: f64) -> Self {
        Complex::new(re as f32, im as f32)
    }
}

// ---------------------------------------------------------------------------- data

/// The data a case is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Data {
    /// Uniform in `[-1, 1]`.
    Uniform,
    /// Input `1e6 + U(-1, 1)`, kernels whose taps sum to (about) zero: outputs cancel.
    Cancelling,
    /// `+-m 2^e`, `m` uniform in `[1, 2)`, `e` over the format's whole exponent range
    /// (subnormals to the largest binade): products and sums overflow and underflow.
    WideExponent,
    /// Values whose products fall in and below the subnormal range (`f64`: `2^-600` to
    /// `2^-480` each; `f32`: `2^-80` to `2^-60`), some themselves subnormal.
    Subnormal,
    /// Values whose products and sums are near the overflow threshold.
    NearOverflow,
    /// `+-2^e` with `e` in `{1, 0, -1, -p, -p-1, -2p-2, -3p}` (`p` the precision; 0 and `-p`
    /// twice as often): sums
    /// land exactly on, and just beside, midpoints between neighbouring floats.
    Ties,
    /// Uniform data with NaN, infinities, signed zeros, subnormals and the largest value
    /// mixed in.
    Specials,
}

impl Data {
    /// Every kind of data.
    pub const ALL: [Data; 7] = [
        Data::Uniform,
        Data::Cancelling,
        Data::WideExponent,
        Data::Subnormal,
        Data::NearOverflow,
        Data::Ties,
        Data::Specials,
    ];

    /// A short name for property rows.
    pub fn name(self) -> &'static str {
        match self {
            Data::Uniform => "uniform",
            Data::Cancelling => "cancelling",
            Data::WideExponent => "wide-exponent",
            Data::Subnormal => "subnormal",
            Data::NearOverflow => "near-overflow",
            Data::Ties => "ties",
            Data::Specials => "specials",
        }
    }

    /// The `verify` property name.
    pub fn property(self) -> &'static str {
        match self {
            Data::Uniform => "exact-correctly-rounded-uniform",
            Data::Cancelling => "exact-correctly-rounded-cancelling",
            Data::WideExponent => "exact-correctly-rounded-wide-exponent",
            Data::Subnormal => "exact-correctly-rounded-subnormal",
            Data::NearOverflow => "exact-correctly-rounded-near-overflow",
            Data::Ties => "exact-correctly-rounded-ties",
            Data::Specials => "exact-correctly-rounded-specials",
        }
    }
}

/// `+-m 2^e` for `m` in `[1, 2)` and `e` in `lo..=hi`, as `f64` (the caller rounds to its
/// format).
fn scaled(lo: i32, hi: i32) -> BoxedStrategy<f64> {
    (any::<bool>(), 1.0f64..2.0, lo..=hi)
        .prop_map(|(neg, m, e)| {
            // Two steps keep the scale factors finite and normal.
            let v = m * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
            if neg { -v } else { v }
        })
        .boxed()
}

/// Strategy: one component of format `f` for data `d`.
pub fn component(f: Format, d: Data) -> BoxedStrategy<f64> {
    let p = f.precision();
    let (sub, top) = match f {
        Format::F32 => (-149, 127),
        Format::F64 => (-1074, 1023),
    };
    match d {
        Data::Uniform => (-1.0f64..1.0).boxed(),
        Data::Cancelling => (-1.0f64..1.0).prop_map(|v| 1e6 + v).boxed(),
        Data::WideExponent => scaled(sub, top),
        Data::Subnormal => {
            let (lo, hi) = match f {
                Format::F32 => (-80, -60),
                Format::F64 => (-600, -480),
            };
            prop_oneof![4 => scaled(lo, hi), 1 => scaled(sub, sub + p - 2)].boxed()
        }
        Data::NearOverflow => {
            let e = top / 2;
            scaled(e - 3, e).boxed()
        }
        Data::Ties => (
            any::<bool>(),
            // 0 and -p twice as often: 1 + 2^-p is a tie.
            prop::sample::select(vec![1, 0, 0, -1, -p, -p, -p - 1, -2 * p - 2, -3 * p]),
        )
            .prop_map(|(neg, e)| {
                let v = 2f64.powi(e);
                if neg { -v } else { v }
            })
            .boxed(),
        Data::Specials => prop_oneof![
            12 => -1.0f64..1.0,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => scaled(sub, sub + p - 2),
            1 => Just(f.max()),
        ]
        .boxed(),
    }
}

/// Strategy: values of `T` for data `d`.
pub fn value<T: ExactSample>(d: Data) -> BoxedStrategy<T> {
    let c = || component(T::FORMAT, d);
    if T::COMPONENTS == 1 {
        c().prop_map(|re| T::from_parts(re, 0.0)).boxed()
    } else {
        (c(), c())
            .prop_map(|(re, im)| T::from_parts(re, im))
            .boxed()
    }
}

/// Strategy: a [`Case`] of rank `1..=max_rank` (the layouts of
/// [`crate::fft_properties::layout`]) with data `d`.
pub fn case<T: ExactSample>(d: Data, max_rank: usize) -> impl Strategy<Value = Case<T>> {
    case_from(d, layout(max_rank))
}

/// The extents of [`block_case`]: rank 1 up to 80 long (rows of 64 outputs and more are read
/// in place, with strips at the edges), rank 2 up to 12 by 12; kernels up to 5 and 3; pads
/// up to 3; strides up to 3.
const BLOCK_SIZES: LayoutSizes = LayoutSizes {
    ranks: (1, 2),
    n: [80, 12, 5],
    k: [5, 3, 3],
    pad: 3,
    max_stride: 3,
    explicit: 1,
};

/// Strategy: a [`Case`] with 3 to 9 output channels per group and 1 to 3 input channels per
/// group (every padding rule, boundary, stride, dilation, groups 1..=2): the layouts where
/// the `f32` fast tier computes 4 output channels of a group per input load, with the
/// channels left over (partial blocks) one by one; outputs past the kernel's tiles of 16
/// and 8 included.
pub fn block_case<T: ExactSample>(d: Data) -> impl Strategy<Value = Case<T>> {
    let layouts = (layout_with(BLOCK_SIZES), 3usize..=9, 1usize..=3)
        .prop_map(|(l, og, cg)| Layout { og, cg, ..l });
    case_from(d, layouts)
}

/// Strategy: a [`Case`] on the layouts `layouts` with data `d` (shapes first, then data of
/// those shapes, so shrinking keeps the shapes valid).
pub fn case_from<T: ExactSample>(
    d: Data,
    layouts: impl Strategy<Value = Layout>,
) -> impl Strategy<Value = Case<T>> {
    let kernel = if d == Data::Cancelling {
        Data::Uniform
    } else {
        d
    };
    case_with_values(
        layouts,
        move || value::<T>(d),
        move || value::<T>(kernel),
        d == Data::Cancelling,
    )
}

// ---------------------------------------------------------------------------- the check

/// What one checked case showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// The engine's tier counts.
    pub stats: ExactStats,
    /// Components whose exact value was a midpoint between two floats.
    pub ties: usize,
    /// Components that were NaN or infinite by the IEEE rules on the terms.
    pub special: usize,
    /// Problems refused (by the engine and the reference alike).
    pub refused: usize,
}

/// Runs `engine` on the case and checks every output against the exact rational value
/// (module docs). `Err` names the first wrong element.
pub fn check_correctly_rounded<T: ExactSample>(
    engine: &ExactEngine,
    c: &Case<T>,
) -> Result<Checked, String> {
    // Which outputs IEEE rules make NaN or infinite: the reference on +-1 stand-ins. A
    // problem the reference refuses must be refused by the engine with the same error.
    let pattern = match c
        .map(|v| {
            v.map_parts(|x| {
                if x.is_finite() && x != 0.0 {
                    x.signum()
                } else {
                    x
                }
            })
        })
        .with(conv)
    {
        Ok(y) => y,
        Err(want) => {
            return match c.with(|p| engine.conv_with_stats(p)) {
                Err(got) if got == want => Ok(Checked {
                    refused: 1,
                    ..Checked::default()
                }),
                Err(got) => Err(format!("engine refused with {got}, reference with {want}")),
                Ok(_) => Err(format!(
                    "engine accepted a problem the reference refuses: {want}"
                )),
            };
        }
    };
    let (got, stats) = c
        .with(|p| engine.conv_with_stats(p))
        .map_err(|e| format!("engine refused: {e}"))?;
    // The exact values of the finite data (non-finite values zeroed: the outputs that read
    // them are special and take the pattern's value).
    let finite = c.map(|v| v.map_parts(|x| if x.is_finite() { x } else { 0.0 }));
    let exact = exact_conv(&finite.map(|v| v.widen()))
        .map_err(|e| format!("exact reference refused: {e}"))?
        .rational_parts::<T::Wide>();
    if got.len() != exact.len() || got.len() != pattern.len() {
        return Err(format!("{} outputs, expected {}", got.len(), exact.len()));
    }
    let mut checked = Checked {
        stats,
        ..Checked::default()
    };
    for (i, ((g, want), pat)) in got.iter().zip(&exact).zip(pattern.iter()).enumerate() {
        let (g, pat) = (g.components(), pat.components());
        for k in 0..T::COMPONENTS {
            let (r, p) = (g[k], pat[k]);
            let ok = if p.is_nan() {
                checked.special += 1;
                if r.is_nan() {
                    Ok(())
                } else {
                    Err(format!("{r:e}, expected NaN (a NaN term or inf - inf)"))
                }
            } else if p.is_infinite() {
                checked.special += 1;
                if r == p {
                    Ok(())
                } else {
                    Err(format!("{r:e}, expected {p} (an infinite term)"))
                }
            } else {
                if is_midpoint(T::FORMAT, &want[k]) {
                    checked.ties += 1;
                }
                check_rounding(T::FORMAT, r, &want[k])
            };
            ok.map_err(|e| {
                let part = if k == 0 { "" } else { " (imaginary part)" };
                format!("output {i}{part}: {e}")
            })?;
        }
    }
    Ok(checked)
}

/// Whether `s` is exactly halfway between two neighbouring finite floats of `format`.
fn is_midpoint(format: Format, s: &BigRational) -> bool {
    // s = odd * 2^(q - 1) where 2^q is the ulp at s's binade (or the subnormal spacing).
    if s.is_zero() {
        return false;
    }
    let mag = if *s < <BigRational as Zero>::zero() {
        -s.clone()
    } else {
        s.clone()
    };
    // floor(log2(mag)) from the bit lengths (within one), then corrected.
    let mut e = mag.numer().bits() as i64 - mag.denom().bits() as i64;
    let pow = |e: i64| {
        if e >= 0 {
            BigRational::from_integer(BigInt::from(1) << e as usize)
        } else {
            BigRational::new(BigInt::from(1), BigInt::from(1) << (-e) as usize)
        }
    };
    while pow(e) > mag {
        e -= 1;
    }
    while pow(e + 1) <= mag {
        e += 1;
    }
    let p = i64::from(format.precision());
    let emin = match format {
        Format::F32 => -126,
        Format::F64 => -1022,
    };
    let ulp = e.max(emin) - (p - 1);
    // mag / 2^(ulp - 1) is an odd integer.
    let q = mag / pow(ulp - 1);
    q.is_integer() && q.numer() % BigInt::from(2) == BigInt::from(1)
}

// ---------------------------------------------------------------------------- rows

/// Largest rank the `verify` rows draw.
pub const VERIFY_MAX_RANK: usize = 2;

/// One `verify` row: the property on `engine` for data `d`; the detail says how many
/// outputs each tier produced and how many ties and special values were checked.
pub fn exact_row<T: ExactSample>(engine: &ExactEngine, d: Data, cases: u32, seed: u64) -> Outcome {
    exact_row_named::<T>(d.property(), engine, cases_of::<T>(d, false), cases, seed)
}

/// The cases of a row: [`case`] (rank up to [`VERIFY_MAX_RANK`]) or [`block_case`].
fn cases_of<T: ExactSample>(d: Data, block: bool) -> BoxedStrategy<Case<T>> {
    if block {
        block_case::<T>(d).boxed()
    } else {
        case::<T>(d, VERIFY_MAX_RANK).boxed()
    }
}

fn exact_row_named<T: ExactSample>(
    property: &'static str,
    engine: &ExactEngine,
    strategy: BoxedStrategy<Case<T>>,
    cases: u32,
    seed: u64,
) -> Outcome {
    let seen = Cell::new(Checked::default());
    let name = format!("{}/{}", ConvEngine::<T>::name(engine), T::NAME);
    let mut row = timed(property, name, cases, false, || {
        search(strategy, cases, seed, |c| {
            let r = check_correctly_rounded(engine, c)?;
            let mut s = seen.get();
            s.stats.outputs += r.stats.outputs;
            s.stats.certified += r.stats.certified;
            s.stats.exact += r.stats.exact;
            s.ties += r.ties;
            s.special += r.special;
            s.refused += r.refused;
            seen.set(s);
            Ok(())
        })
    });
    if row.passed {
        let s = seen.get();
        row.detail = format!(
            "{} outputs: {} certified fast, {} exact; {} ties, {} special; {} refused",
            s.stats.outputs, s.stats.certified, s.stats.exact, s.ties, s.special, s.refused
        );
    }
    row
}

/// The wrong engines of the `verify` rows and the data that shows each one wrong (the
/// block mutant on [`block_case`]s).
pub const MUTANTS: [(Mutation, Data); 4] = [
    (Mutation::Uncertified, Data::Ties),
    (Mutation::TiesAway, Data::Ties),
    (Mutation::Truncate, Data::Uniform),
    (Mutation::BlockWeights, Data::Uniform),
];

/// Cases a refutation row draws at least, whatever the budget: a search needs room.
pub const MIN_REFUTATION_CASES: u32 = 32;

/// A refutation row: the search must find a case where the mutant is not correctly
/// rounded, within `max(cases, MIN_REFUTATION_CASES)` cases. Mutants of the exact tier's
/// rounding run with every output in that tier; those of the fast tier with both tiers.
pub fn mutant_row<T: ExactSample>(m: Mutation, d: Data, cases: u32, seed: u64) -> Outcome {
    let cases = cases.max(MIN_REFUTATION_CASES);
    let engine = match m {
        Mutation::Uncertified | Mutation::BlockWeights => ExactEngine::with_mutation(m),
        _ => ExactEngine::with_mutation(m).fallback_only(),
    }
    .threads(1);
    let name = format!("{}/{}", ConvEngine::<T>::name(&engine), T::NAME);
    timed(
        "exact-mutant-not-correctly-rounded",
        name,
        cases,
        true,
        || {
            let block = m == Mutation::BlockWeights;
            search(cases_of::<T>(d, block), cases, seed, |c| {
                check_correctly_rounded(&engine, c).map(|_| ())
            })
        },
    )
}

/// The exact-engine rows of `verify`: every [`Data`] on `f64` and `f32`, four on the
/// complex types, the exact tier alone on two, the `f32` block kernel on three
/// ([`block_case`], two threads), and each of [`MUTANTS`] refuted (on `f32` and `f64`; the
/// block mutant, which only `f32` has, on `f32`).
pub fn run_exact_battery(cases: u32, seed: u64) -> Vec<Outcome> {
    let engine = ExactEngine::new().threads(1);
    let mut out = Vec::new();
    for d in Data::ALL {
        out.push(exact_row::<f64>(&engine, d, cases, seed));
        out.push(exact_row::<f32>(&engine, d, cases, seed));
    }
    for d in [
        Data::Uniform,
        Data::WideExponent,
        Data::Ties,
        Data::Specials,
    ] {
        out.push(exact_row::<Complex<f64>>(&engine, d, cases, seed));
        out.push(exact_row::<Complex<f32>>(&engine, d, cases, seed));
    }
    let exact_only = ExactEngine::new().threads(1).fallback_only();
    for d in [Data::Uniform, Data::WideExponent] {
        out.push(exact_row_named::<f64>(
            "exact-tier-correctly-rounded",
            &exact_only,
            cases_of(d, false),
            cases,
            seed,
        ));
        out.push(exact_row_named::<f32>(
            "exact-tier-correctly-rounded",
            &exact_only,
            cases_of(d, false),
            cases,
            seed,
        ));
    }
    // The f32 block kernel, on two threads (a thread's share may end inside a block).
    let two = ExactEngine::new().threads(2);
    for d in [Data::Uniform, Data::Cancelling, Data::WideExponent] {
        out.push(exact_row_named::<f32>(
            "exact-block-correctly-rounded",
            &two,
            cases_of(d, true),
            cases,
            seed,
        ));
    }
    for (m, d) in MUTANTS {
        if m != Mutation::BlockWeights {
            out.push(mutant_row::<f64>(m, d, cases, seed));
        }
        out.push(mutant_row::<f32>(m, d, cases, seed));
    }
    out
}
