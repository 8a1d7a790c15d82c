//! Generated convolution problems: shapes first, then data at the length the shapes fix, so
//! shrinking keeps a failing problem well formed. [`Case`] is a problem with owned data;
//! [`FftSample`] the element types (`f64`, `Complex<f64>`) whose exact values the checks
//! compute; [`Dist`] the data distributions.

use crate::engine::fft::FftElement;
use crate::problem::{Boundary, ConvSpec, Flip, Padding, Problem};
use crate::scalar::Ring;
use ndarray::{Array1, ArrayD, IxDyn};
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use std::fmt;
use std::fmt::Debug;

type C64 = Complex<f64>;

/// An N-D array printed as `shape [..] data [..]`, ready to paste into a test.
#[derive(Clone, PartialEq)]
pub struct Arr<T>(pub ArrayD<T>);

impl<T: fmt::Debug> fmt::Debug for Arr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data: Vec<&T> = self.0.iter().collect();
        write!(f, "shape {:?} data {:?}", self.0.shape(), data)
    }
}

/// Strategy: a shape of the given rank with extents `1..=max`.
pub fn shape(rank: usize, max: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1..=max, rank)
}

// ---------------------------------------------------------------------------- element types

/// A float element the FFT property can generate and check exactly: `f64` and `Complex<f64>`.
pub trait FftSample: FftElement + Ring + Copy + PartialEq + Debug + Send + Sync + 'static {
    /// Short name for reports (`f64`, `c64`).
    const NAME: &'static str;
    /// The exact value as a rational (`BigRational`, `Complex<BigRational>`).
    type Exact: Ring + PartialEq;
    /// The value times a power of two as an integer (`BigInt`, `Complex<BigInt>`).
    type Scaled: Ring;
    /// Real and imaginary parts (imaginary 0 for reals).
    fn parts(self) -> [f64; 2];
    /// `|v|` as an element (for the reference on absolute values).
    fn magnitude(self) -> Self;
    /// The exact value as a rational; `None` for NaN and infinities.
    fn exact(self) -> Option<Self::Exact>;
    /// Real and imaginary parts of an exact value.
    fn exact_parts(e: &Self::Exact) -> [BigRational; 2];
    /// `self * 2^-e` as an integer: exact when `e` is at most [`lsb_exponent`] of every part
    /// (as the FFT battery's exact convolution chooses it), the bits below `2^e` dropped
    /// (toward zero) otherwise; 0 for NaN and infinities.
    fn scaled(self, e: i32) -> Self::Scaled;
    /// Real and imaginary parts of a scaled value.
    fn scaled_parts(s: &Self::Scaled) -> [BigInt; 2];
    /// Strategy for values of the distribution.
    fn value(d: Dist) -> BoxedStrategy<Self>;
}

pub(crate) fn rational(v: f64) -> Option<BigRational> {
    BigRational::from_float(v)
}

/// `v = m 2^e` with `m` odd (`None` for zero and non-finite values).
pub(crate) fn dyadic(v: f64) -> Option<(i64, i32)> {
    if v == 0.0 || !v.is_finite() {
        return None;
    }
    let bits = v.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    let (m, e) = if field == 0 {
        (frac, -1074)
    } else {
        (frac | (1i64 << 52), field - 1075)
    };
    let tz = m.trailing_zeros();
    let m = m >> tz;
    Some((if v < 0.0 { -m } else { m }, e + tz as i32))
}

/// The exponent of the lowest set bit of a finite `v` (`i32::MAX` for zero).
pub fn lsb_exponent(v: f64) -> i32 {
    dyadic(v).map_or(i32::MAX, |(_, e)| e)
}

/// `v * 2^-e` as an integer: exact when `e <= lsb_exponent(v)`, truncated toward zero
/// otherwise; 0 for zero and non-finite `v`.
pub(crate) fn scaled_real(v: f64, e: i32) -> BigInt {
    match dyadic(v) {
        None => BigInt::from(0),
        Some((m, ev)) => {
            let m = BigInt::from(m);
            let shift = i64::from(ev) - i64::from(e);
            let bits = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
            if shift >= 0 {
                m << bits
            } else if bits >= 64 {
                BigInt::from(0)
            } else {
                // Toward zero: shift the magnitude.
                let q = m.magnitude() >> bits;
                if v < 0.0 {
                    -BigInt::from(q)
                } else {
                    BigInt::from(q)
                }
            }
        }
    }
}

impl FftSample for f64 {
    const NAME: &'static str = "f64";
    type Exact = BigRational;
    type Scaled = BigInt;
    fn parts(self) -> [f64; 2] {
        [self, 0.0]
    }
    fn magnitude(self) -> f64 {
        self.abs()
    }
    fn exact(self) -> Option<BigRational> {
        rational(self)
    }
    fn exact_parts(e: &BigRational) -> [BigRational; 2] {
        [e.clone(), <BigRational as Zero>::zero()]
    }
    fn scaled(self, e: i32) -> BigInt {
        scaled_real(self, e)
    }
    fn scaled_parts(s: &BigInt) -> [BigInt; 2] {
        [s.clone(), BigInt::from(0)]
    }
    fn value(d: Dist) -> BoxedStrategy<f64> {
        real_value(d)
    }
}

impl FftSample for C64 {
    const NAME: &'static str = "c64";
    type Exact = Complex<BigRational>;
    type Scaled = Complex<BigInt>;
    fn parts(self) -> [f64; 2] {
        [self.re, self.im]
    }
    fn magnitude(self) -> C64 {
        Complex::new(self.re.hypot(self.im), 0.0)
    }
    fn exact(self) -> Option<Complex<BigRational>> {
        Some(Complex::new(rational(self.re)?, rational(self.im)?))
    }
    fn exact_parts(e: &Complex<BigRational>) -> [BigRational; 2] {
        [e.re.clone(), e.im.clone()]
    }
    fn scaled(self, e: i32) -> Complex<BigInt> {
        Complex::new(scaled_real(self.re, e), scaled_real(self.im, e))
    }
    fn scaled_parts(s: &Complex<BigInt>) -> [BigInt; 2] {
        [s.re.clone(), s.im.clone()]
    }
    fn value(d: Dist) -> BoxedStrategy<C64> {
        (real_value(d), real_value(d))
            .prop_map(|(re, im)| Complex::new(re, im))
            .boxed()
    }
}

// ---------------------------------------------------------------------------- cases

/// A convolution problem with owned data, printed ready to paste.
#[derive(Clone, Debug)]
pub struct Case<T> {
    /// Input `(N, C, spatial...)`.
    pub input: Arr<T>,
    /// Weight `(O, C / groups, kernel...)`.
    pub weight: Arr<T>,
    /// Bias, one per output channel.
    pub bias: Option<Vec<T>>,
    /// Everything else.
    pub spec: ConvSpec<T>,
}

impl<T: Ring> Case<T> {
    /// Runs `f` on the case as a [`Problem`].
    pub fn with<R>(&self, f: impl FnOnce(&Problem<'_, T>) -> R) -> R {
        let bias = self.bias.clone().map(Array1::from);
        let mut p = Problem::new(self.input.0.view(), self.weight.0.view()).spec(self.spec.clone());
        if let Some(b) = &bias {
            p = p.bias(b.view());
        }
        f(&p)
    }

    /// The same case with every element (data, bias, boundary constant) mapped by `f`.
    pub fn map<U: Ring>(&self, f: impl Fn(T) -> U + Copy) -> Case<U> {
        Case {
            input: Arr(self.input.0.mapv(f)),
            weight: Arr(self.weight.0.mapv(f)),
            bias: self
                .bias
                .as_ref()
                .map(|b| b.iter().map(|v| f(v.clone())).collect()),
            spec: self.spec.map_constant(f),
        }
    }
}

/// Shapes and settings, drawn before the data so that shrinking keeps them valid.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Batch size `N`.
    pub batch: usize,
    /// Groups.
    pub groups: usize,
    /// Input channels per group.
    pub cg: usize,
    /// Output channels per group.
    pub og: usize,
    /// Spatial input shape.
    pub input: Vec<usize>,
    /// Spatial kernel shape.
    pub kernel: Vec<usize>,
    /// Stride per axis.
    pub stride: Vec<usize>,
    /// Dilation per axis.
    pub dilation: Vec<usize>,
    /// Padding rule.
    pub padding: Padding,
    /// Boundary mode, as an index for [`boundary_of`].
    pub boundary: u8,
    /// Convolution or cross-correlation.
    pub flip: Flip,
    /// Whether the case has a bias.
    pub bias: bool,
}

impl Layout {
    /// `(N, groups * cg, input...)`.
    pub fn input_shape(&self) -> Vec<usize> {
        let mut s = vec![self.batch, self.groups * self.cg];
        s.extend(&self.input);
        s
    }
    /// `(groups * og, cg, kernel...)`.
    pub fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.groups * self.og, self.cg];
        s.extend(&self.kernel);
        s
    }
    /// The spec of this layout, with `constant` for a constant boundary.
    pub fn spec<T>(&self, constant: T) -> ConvSpec<T> {
        ConvSpec::new()
            .stride(self.stride.clone())
            .dilation(self.dilation.clone())
            .padding(self.padding.clone())
            .boundary(boundary_of(self.boundary, constant))
            .groups(self.groups)
            .flip(self.flip)
    }
}

/// Strategy: a [`Layout`] of rank `1..=max_rank`: batch, groups, channels per group in 1..=2;
/// input extents up to 24 (rank 1), 8 (rank 2) or 5; kernel extents up to 6, 4 or 3; stride
/// 1..=3; dilation 1..=2; every padding rule (explicit pads 0..=3); every boundary mode.
pub fn layout(max_rank: usize) -> impl Strategy<Value = Layout> {
    layout_with(LayoutSizes {
        ranks: (1, max_rank),
        ..LayoutSizes::SMALL
    })
}

/// The extents a [`layout_with`] strategy draws from.
#[derive(Clone, Copy, Debug)]
pub struct LayoutSizes {
    /// Smallest and largest rank.
    pub ranks: (usize, usize),
    /// Largest input extent per axis, by rank (1, 2, 3 and above).
    pub n: [usize; 3],
    /// Largest kernel extent per axis, by rank.
    pub k: [usize; 3],
    /// Largest explicit pad on each side.
    pub pad: usize,
    /// Largest stride.
    pub max_stride: usize,
    /// Relative weight of explicit pads among the six padding rules (1: uniform).
    pub explicit: u32,
}

impl LayoutSizes {
    /// What [`layout`] draws: extents 24/8/5, kernels 6/4/3, pads up to 3, strides up to 3.
    pub const SMALL: LayoutSizes = LayoutSizes {
        ranks: (1, 3),
        n: [24, 8, 5],
        k: [6, 4, 3],
        pad: 3,
        max_stride: 3,
        explicit: 1,
    };
}

/// Strategy: a [`Layout`] with the extents of `sizes` (every padding rule, boundary, flip,
/// dilations 1..=2, batch, groups and channels per group 1..=2, bias or not).
pub fn layout_with(sizes: LayoutSizes) -> impl Strategy<Value = Layout> {
    (sizes.ranks.0..=sizes.ranks.1)
        .prop_flat_map(move |rank| {
            let r = (rank - 1).min(2);
            let (n, k) = (sizes.n[r], sizes.k[r]);
            let padding = prop_oneof![
                1 => Just(Padding::Valid),
                1 => Just(Padding::Full),
                1 => Just(Padding::SameUpper),
                1 => Just(Padding::SameLower),
                1 => Just(Padding::TorchSame),
                sizes.explicit => proptest::collection::vec((0..=sizes.pad, 0..=sizes.pad), rank)
                    .prop_map(Padding::Explicit),
            ];
            (
                (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
                proptest::collection::vec(1..=n, rank),
                proptest::collection::vec(1..=k, rank),
                proptest::collection::vec(1..=sizes.max_stride, rank),
                proptest::collection::vec(1usize..=2, rank),
                padding,
                0u8..6,
                any::<bool>(),
                any::<bool>(),
            )
        })
        .prop_map(
            |(
                (batch, groups, cg, og),
                input,
                kernel,
                stride,
                dilation,
                padding,
                boundary,
                conv,
                bias,
            )| {
                Layout {
                    batch,
                    groups,
                    cg,
                    og,
                    input,
                    kernel,
                    stride,
                    dilation,
                    padding,
                    boundary,
                    flip: if conv {
                        Flip::Convolution
                    } else {
                        Flip::Correlation
                    },
                    bias,
                }
            },
        )
}

/// Value distributions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dist {
    /// Uniform in [-1, 1].
    Uniform,
    /// `+-10^e`, `e` uniform in [-6, 6]: twelve decades mixed.
    Decades,
    /// Input `1e6 + U(-1, 1)`, kernels summing to (about) zero: outputs cancel.
    Cancelling,
}

impl Dist {
    /// Every distribution.
    pub const ALL: [Dist; 3] = [Dist::Uniform, Dist::Decades, Dist::Cancelling];

    /// The `verify` property name for this distribution.
    pub fn property(self) -> &'static str {
        match self {
            Dist::Uniform => "fft-within-bound-uniform",
            Dist::Decades => "fft-within-bound-decades",
            Dist::Cancelling => "fft-within-bound-cancelling",
        }
    }
}

/// Strategy: real values of the distribution.
pub fn real_value(d: Dist) -> BoxedStrategy<f64> {
    match d {
        Dist::Uniform => (-1.0f64..1.0).boxed(),
        Dist::Decades => (any::<bool>(), -6.0f64..6.0)
            .prop_map(|(neg, e)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })
            .boxed(),
        Dist::Cancelling => (-1.0f64..1.0).prop_map(|v| 1e6 + v).boxed(),
    }
}

/// Strategy: an array of the given shape with elements from `values`.
#[doc(hidden)]
pub fn array<T: Debug + Clone + 'static>(
    shape: Vec<usize>,
    values: BoxedStrategy<T>,
) -> impl Strategy<Value = Arr<T>> {
    let len: usize = shape.iter().product();
    proptest::collection::vec(values, len).prop_map(move |v| {
        // The vector has the shape's length by construction, so this never fails.
        #[allow(clippy::expect_used)]
        Arr(ArrayD::from_shape_vec(IxDyn(&shape), v).expect("length"))
    })
}

/// The boundary mode with index `kind` (0 zeros, 1 constant, 2 reflect, 3 symmetric,
/// 4 replicate, else circular).
#[doc(hidden)]
pub fn boundary_of<T>(kind: u8, constant: T) -> Boundary<T> {
    match kind {
        0 => Boundary::Zeros,
        1 => Boundary::Constant(constant),
        2 => Boundary::Reflect,
        3 => Boundary::Symmetric,
        4 => Boundary::Replicate,
        _ => Boundary::Circular,
    }
}

/// Makes every kernel of an `(O, C/G, k...)` weight sum to (about) zero: its last tap takes
/// minus the sum of the others (kernels of one tap are left alone).
pub fn cancel_kernels<T: Ring>(weight: &mut Arr<T>) {
    let taps: usize = weight.0.shape()[2..].iter().product();
    if let Some(flat) = weight.0.as_slice_mut() {
        for kernel in flat.chunks_mut(taps.max(1)) {
            let n = kernel.len();
            if n > 1 {
                let rest = kernel[..n - 1].iter().fold(T::zero(), |a, v| a.plus(v));
                kernel[n - 1] = T::zero().minus(&rest);
            }
        }
    }
}

/// Strategy: a [`Case`] of rank `1..=max_rank` ([`layout`]) with data, bias and boundary
/// constant from `d` (for [`Dist::Cancelling`]: kernels uniform, the last tap of each minus
/// the sum of the others).
pub fn case<T: FftSample>(d: Dist, max_rank: usize) -> impl Strategy<Value = Case<T>> {
    let kernel = match d {
        Dist::Cancelling => Dist::Uniform,
        d => d,
    };
    case_with_values(
        layout(max_rank),
        move || T::value(d),
        move || T::value(kernel),
        d == Dist::Cancelling,
    )
}

/// Strategy: a [`Case`] on the layouts `layouts`, inputs, bias and boundary constant from
/// `values`, weights from `kernel_values`; with `cancelling`, every kernel is then made to
/// sum to about zero ([`cancel_kernels`]). Shapes are drawn first, then data of those shapes.
pub fn case_with_values<T: Ring + Debug + 'static>(
    layouts: impl Strategy<Value = Layout>,
    values: impl Fn() -> BoxedStrategy<T> + Clone,
    kernel_values: impl Fn() -> BoxedStrategy<T> + Clone,
    cancelling: bool,
) -> impl Strategy<Value = Case<T>> {
    layouts.prop_flat_map(move |l| {
        (
            array(l.input_shape(), values()),
            array(l.weight_shape(), kernel_values()),
            proptest::collection::vec(values(), l.groups * l.og),
            values(),
            Just(l),
        )
            .prop_map(move |(input, mut weight, bias, constant, l)| {
                if cancelling {
                    cancel_kernels(&mut weight);
                }
                Case {
                    input,
                    weight,
                    bias: l.bias.then_some(bias),
                    spec: l.spec(constant),
                }
            })
    })
}
