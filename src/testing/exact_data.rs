//! Data for the correctly rounded checks: the element types (`f64`, `f32` and their complex
//! forms) with their binary [`Format`], the data kinds ([`Data`]: uniform, cancelling,
//! twelve-decade, subnormal, ties...) and the problems drawn from them.

use super::cases::{Case, FftSample, Layout, LayoutSizes, case_with_values, layout, layout_with};
use crate::engine::exact::ExactElement;
use crate::scalar::Ring;
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
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
/// [`crate::testing::cases::layout`]) with data `d`.
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
