//! The element types the policy judges ([`Float`]), their unit roundoffs, Higham's `gamma_n`
//! and the ULP distance.

/// Unit roundoff of float32: `2^-24`.
pub const U32: f64 = 1.0 / 16_777_216.0;
/// Unit roundoff of float64: `2^-53`.
pub const U64: f64 = f64::EPSILON / 2.0;

/// `gamma_n = n u / (1 - n u)`; infinite when `n u >= 1` (no bound).
pub fn gamma(n: usize, u: f64) -> f64 {
    let nu = n as f64 * u;
    if nu >= 1.0 {
        f64::INFINITY
    } else {
        nu / (1.0 - nu)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element types the policy judges: `f32` and `f64` (sealed: no other implementations).
///
/// Everything the models need about a format, as f64 numbers so that one code path serves
/// both.
pub trait Float: Copy + std::fmt::Debug + PartialEq + sealed::Sealed + 'static {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Unit roundoff `u`: `2^-24` ([`U32`]) or `2^-53` ([`U64`]). Equals TOSA's
    /// `2^(-1 - frac_bits)`.
    const UNIT_ROUNDOFF: f64;
    /// Stored fraction bits: 23 or 52.
    const FRAC_BITS: u32;
    /// Smallest positive normal value (`2^-126` or `2^-1022`), TOSA's `normal_min`.
    const NORMAL_MIN: f64;
    /// Smallest positive subnormal value (`2^-149` or `2^-1074`), `eta` in
    /// docs/numerics.md section 1: the spacing of the subnormal range.
    const SUBNORMAL_MIN: f64;
    /// The largest finite value, in `f64`.
    const MAX_FINITE: f64;

    /// The value widened to f64 (exact).
    fn to_f64(self) -> f64;
    /// `v` rounded to nearest-even into this type (overflow gives an infinity).
    fn from_f64(v: f64) -> Self;
    /// The raw bit pattern, zero-extended to 64 bits.
    fn bits(self) -> u64;
    /// The number of floats of this type between `self` and `other`
    /// (docs/numerics.md section 1): `+0` and `-0` are 0 apart, NaN is 0 from NaN, and a NaN
    /// or infinity mismatch is `u64::MAX`.
    fn ulp_distance(self, other: Self) -> u64;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    const UNIT_ROUNDOFF: f64 = U32;
    const FRAC_BITS: u32 = f32::MANTISSA_DIGITS - 1;
    const NORMAL_MIN: f64 = f32::MIN_POSITIVE as f64;
    const SUBNORMAL_MIN: f64 = f32::from_bits(1) as f64;
    const MAX_FINITE: f64 = f32::MAX as f64;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn ulp_distance(self, other: Self) -> u64 {
        ulp_distance_f32(self, other)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    const UNIT_ROUNDOFF: f64 = U64;
    const FRAC_BITS: u32 = f64::MANTISSA_DIGITS - 1;
    const NORMAL_MIN: f64 = f64::MIN_POSITIVE;
    const SUBNORMAL_MIN: f64 = f64::from_bits(1);
    const MAX_FINITE: f64 = f64::MAX;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn ulp_distance(self, other: Self) -> u64 {
        ulp_distance_f64(self, other)
    }
}

/// The special-value rules of the ULP distance; `None` when both values are finite.
fn special_distance(nan: (bool, bool), inf: (bool, bool), equal: bool) -> Option<u64> {
    if nan.0 || nan.1 {
        return Some(if nan.0 && nan.1 { 0 } else { u64::MAX });
    }
    if inf.0 || inf.1 {
        return Some(if equal { 0 } else { u64::MAX });
    }
    None
}

/// The number of f64 values between `a` and `b` along the real line (docs/numerics.md
/// section 1): 1 between neighbours, 0 between `+0` and `-0`, 2 between the smallest positive
/// and the smallest negative subnormal. NaN is 0 from any NaN and `u64::MAX` from any number;
/// an infinity is 0 from itself and `u64::MAX` from anything else (overflow is not one ulp).
pub fn ulp_distance_f64(a: f64, b: f64) -> u64 {
    let nan = (a.is_nan(), b.is_nan());
    if let Some(d) = special_distance(nan, (a.is_infinite(), b.is_infinite()), a == b) {
        return d;
    }
    // The monotone integer line: magnitude bits, negated for negative values (so +0 and -0
    // both map to 0). Magnitudes are below 2^63, so the negation cannot overflow.
    let line = |x: f64| {
        let magnitude = (x.to_bits() & !(1u64 << 63)) as i64;
        if x.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    line(a).abs_diff(line(b))
}

/// [`ulp_distance_f64`] for f32 values (counting the f32 values in between).
pub fn ulp_distance_f32(a: f32, b: f32) -> u64 {
    let nan = (a.is_nan(), b.is_nan());
    if let Some(d) = special_distance(nan, (a.is_infinite(), b.is_infinite()), a == b) {
        return d;
    }
    let line = |x: f32| {
        let magnitude = i64::from(x.to_bits() & !(1u32 << 31));
        if x.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    line(a).abs_diff(line(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_values() {
        assert_eq!(gamma(0, U64), 0.0);
        assert!((gamma(10, U32) - 10.0 * U32 / (1.0 - 10.0 * U32)).abs() < 1e-20);
        assert!(gamma(1 << 24, U32).is_infinite());
    }

    #[test]
    fn float_constants_match_the_formats() {
        assert_eq!(<f32 as Float>::SUBNORMAL_MIN, 2f64.powi(-149));
        assert_eq!(
            <f64 as Float>::SUBNORMAL_MIN,
            2f64.powi(-1000) * 2f64.powi(-74)
        );
        assert_eq!(<f64 as Float>::SUBNORMAL_MIN / 2.0, 0.0);
        assert_eq!(<f32 as Float>::NORMAL_MIN, 2f64.powi(-126));
        assert_eq!(<f64 as Float>::NORMAL_MIN, 2f64.powi(-1022));
        assert_eq!(<f32 as Float>::UNIT_ROUNDOFF, f64::from(f32::EPSILON) / 2.0);
        assert_eq!(<f64 as Float>::UNIT_ROUNDOFF, f64::EPSILON / 2.0);
        // TOSA's 2^(-1 - frac_bits) is the unit roundoff.
        assert_eq!(2f64.powi(-1 - 23), <f32 as Float>::UNIT_ROUNDOFF);
        assert_eq!(<f32 as Float>::FRAC_BITS, 23);
        assert_eq!(<f64 as Float>::FRAC_BITS, 52);
        assert_eq!(1.5f32.bits(), u64::from(1.5f32.to_bits()));
        assert_eq!(<f32 as Float>::from_f64(1e300), f32::INFINITY);
    }
}
