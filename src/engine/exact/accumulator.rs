//! The exact tier: the long accumulator [`Superacc`] and the float formats it rounds to
//! ([`Exact`]).

use super::{Mutation, Term, Walker};
use num_complex::Complex;

/// Bits per digit of the long accumulator.
const DIGIT: i32 = 32;
/// Weight of digit 0: `2^BASE`, below the smallest product of two `f64` (`2^-2148`).
const BASE: i32 = -2208;
/// Digits: up to weight `2^(BASE + 32 * 140) = 2^2272`, above the largest sum of `2^64`
/// products (below `2^2112`).
const DIGITS: usize = 140;
/// Terms added between carry propagations: each adds less than `2^33` to a digit, so
/// digits stay below `2^62` in magnitude.
const RENORMALISE: u32 = 1 << 29;

/// A long (Kulisch) accumulator for sums of products of floats: exact, with the IEEE
/// special-value rules kept as flags, rounded once to `f64` or `f32` at the end.
/// docs/numerics.md section 9.4.
#[derive(Clone, Debug)]
pub struct Superacc {
    digits: Vec<i64>,
    pending: u32,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
    /// Every term so far was `-0` (the sign of an exact zero sum).
    all_neg_zero: bool,
}

impl Default for Superacc {
    fn default() -> Self {
        Self::new()
    }
}

/// A binary float format the accumulator rounds to.
pub trait Exact: Copy {
    /// Significand bits, the hidden one included (53, 24).
    const PRECISION: i32;
    /// Exponent of the smallest normal number (-1022, -126).
    const EMIN: i32;
    /// Exponent of the largest finite number (1023, 127).
    const EMAX: i32;
    /// `(negative, significand, exponent)` with the value `significand * 2^exponent`, or
    /// `None` for NaN and infinities (with their sign: `Some(Err(negative))`).
    fn parts(self) -> Result<(bool, u64, i32), Option<bool>>;
    /// `(-1)^negative * n * 2^q`, exact (`n < 2^PRECISION`, `q` in range).
    fn compose(negative: bool, n: u64, q: i32) -> Self;
    /// NaN, or infinity with a sign, or zero with a sign.
    fn special(nan: bool, inf: bool, negative: bool) -> Self;
    /// Adds this element's exact value at output `i` (see [`Walker`]).
    #[doc(hidden)]
    fn exact(w: &Walker<'_, Self>, i: usize, acc: &mut Superacc, m: Mutation) -> Self
    where
        Self: Sized;
}

impl Superacc {
    /// An empty sum.
    pub fn new() -> Self {
        Superacc {
            digits: vec![0; DIGITS],
            pending: 0,
            nan: false,
            pos_inf: false,
            neg_inf: false,
            all_neg_zero: true,
        }
    }

    /// Back to the empty sum.
    pub fn clear(&mut self) {
        self.digits.fill(0);
        self.pending = 0;
        self.nan = false;
        self.pos_inf = false;
        self.neg_inf = false;
        self.all_neg_zero = true;
    }

    /// Adds `(-1)^negative * m * 2^e` (`m < 2^106`, `e >= -2148`).
    fn add_term(&mut self, negative: bool, m: u128, e: i32) {
        if m == 0 {
            if !negative {
                self.all_neg_zero = false;
            }
            return;
        }
        self.all_neg_zero = false;
        let rel = (e - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        for k in 0..4 {
            let chunk = ((m >> (32 * k)) & 0xffff_ffff) as u64;
            if chunk == 0 {
                continue;
            }
            let v = chunk << sh;
            let (lo, hi) = ((v & 0xffff_ffff) as i64, (v >> 32) as i64);
            if negative {
                self.digits[q + k] -= lo;
                self.digits[q + k + 1] -= hi;
            } else {
                self.digits[q + k] += lo;
                self.digits[q + k + 1] += hi;
            }
        }
        self.pending += 1;
        if self.pending >= RENORMALISE {
            self.normalise();
        }
    }

    /// Records a NaN or an infinity.
    fn add_special(&mut self, nan: bool, negative: bool) {
        self.all_neg_zero = false;
        if nan {
            self.nan = true;
        } else if negative {
            self.neg_inf = true;
        } else {
            self.pos_inf = true;
        }
    }

    /// Adds one value exactly.
    pub fn add<F: Exact>(&mut self, v: F) {
        match v.parts() {
            Ok((neg, m, e)) => self.add_term(neg, u128::from(m), e),
            Err(None) => self.add_special(true, false),
            Err(Some(neg)) => self.add_special(false, neg),
        }
    }

    /// Adds `a * b` (negated when `negate`) exactly; IEEE rules for NaN and infinities
    /// (`inf * 0` is NaN).
    pub fn add_product<F: Exact>(&mut self, a: F, b: F, negate: bool) {
        match (a.parts(), b.parts()) {
            (Ok((na, ma, ea)), Ok((nb, mb, eb))) => {
                self.add_term(na ^ nb ^ negate, u128::from(ma) * u128::from(mb), ea + eb)
            }
            (Err(None), _) | (_, Err(None)) => self.add_special(true, false),
            (Err(Some(ni)), Ok((nf, m, _))) | (Ok((nf, m, _)), Err(Some(ni))) => {
                if m == 0 {
                    self.add_special(true, false)
                } else {
                    self.add_special(false, ni ^ nf ^ negate)
                }
            }
            (Err(Some(na)), Err(Some(nb))) => self.add_special(false, na ^ nb ^ negate),
        }
    }

    /// Propagates carries: digits below the top in `[0, 2^32)`, the top digit signed.
    fn normalise(&mut self) {
        let mut carry = 0i64;
        let last = DIGITS - 1;
        for d in &mut self.digits[..last] {
            let v = *d + carry;
            *d = v & 0xffff_ffff;
            carry = v >> 32;
        }
        self.digits[last] += carry;
        self.pending = 0;
    }

    /// Bits `[lo, lo + width)` (absolute exponents, `width <= 64`) of the normalised
    /// non-negative integer.
    fn window(&self, lo: i32, width: u32) -> u64 {
        let rel = (lo - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        let digit = |i: usize| self.digits.get(i).map_or(0u128, |&d| d as u128);
        let v = digit(q) | digit(q + 1) << 32 | digit(q + 2) << 64;
        let v = v >> sh;
        (v & ((1u128 << width) - 1)) as u64
    }

    /// Whether any bit below exponent `lo` is set.
    fn any_below(&self, lo: i32) -> bool {
        let rel = (lo - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        self.digits[..q].iter().any(|&d| d != 0) || self.digits[q] & ((1i64 << sh) - 1) != 0
    }

    /// The sum rounded once to `F` (nearest, ties to even, unless a test mutation says
    /// otherwise). Leaves the accumulator normalised (its value unchanged in magnitude).
    pub fn round<F: Exact>(&mut self) -> F {
        self.round_with(Mutation::None)
    }

    fn round_with<F: Exact>(&mut self, m: Mutation) -> F {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return F::special(true, false, false);
        }
        if self.pos_inf || self.neg_inf {
            return F::special(false, true, self.neg_inf);
        }
        self.normalise();
        let negative = self.digits[DIGITS - 1] < 0;
        if negative {
            for d in &mut self.digits {
                *d = -*d;
            }
            self.normalise();
        }
        let Some(h) = (0..DIGITS).rev().find(|&i| self.digits[i] != 0) else {
            return F::special(false, false, self.all_neg_zero);
        };
        let top = BASE + DIGIT * h as i32 + (63 - self.digits[h].leading_zeros() as i32);
        let p = F::PRECISION;
        let mut q = (top - (p - 1)).max(F::EMIN - (p - 1));
        let w = self.window(q - 1, p as u32 + 1);
        let (guard, mut n) = (w & 1 == 1, w >> 1);
        let sticky = self.any_below(q - 1);
        let up = match m {
            #[cfg(feature = "fault-injection")]
            Mutation::Truncate => false,
            #[cfg(feature = "fault-injection")]
            Mutation::TiesAway => guard,
            _ => guard && (sticky || n & 1 == 1),
        };
        if up {
            n += 1;
            if n == 1 << p {
                n >>= 1;
                q += 1;
            }
        }
        if q + p - 1 > F::EMAX {
            return F::special(false, true, negative);
        }
        if n == 0 {
            return F::special(false, false, negative);
        }
        F::compose(negative, n, q)
    }
}

/// `Exact` for a binary format: `$frac` stored significand bits, exponent bias `$bias`.
macro_rules! exact_real {
    ($t:ty, $bits:ty, $frac:literal, $bias:literal) => {
        impl Exact for $t {
            const PRECISION: i32 = $frac + 1;
            const EMIN: i32 = 1 - $bias;
            const EMAX: i32 = $bias;
            fn parts(self) -> Result<(bool, u64, i32), Option<bool>> {
                let bits = self.to_bits();
                let negative = bits >> (<$bits>::BITS - 1) == 1;
                let field = ((bits >> $frac) & ((1 << (<$bits>::BITS - 1 - $frac)) - 1)) as i32;
                let frac = u64::from(bits & ((1 << $frac) - 1));
                match field {
                    0 => Ok((negative, frac, 1 - $bias - $frac)),
                    f if f == 2 * $bias + 1 && frac != 0 => Err(None),
                    f if f == 2 * $bias + 1 => Err(Some(negative)),
                    f => Ok((negative, frac | 1 << $frac, f - $bias - $frac)),
                }
            }
            fn compose(negative: bool, n: u64, q: i32) -> $t {
                // 2^q, a normal or (below 2^EMIN) subnormal power of two: n * 2^q is exact.
                let scale = if q >= 1 - $bias {
                    <$t>::from_bits(((q + $bias) as $bits) << $frac)
                } else {
                    <$t>::from_bits(1 << (q + $bias - 1 + $frac))
                };
                let v = n as $t * scale;
                if negative { -v } else { v }
            }
            fn special(nan: bool, inf: bool, negative: bool) -> $t {
                let v = if nan {
                    <$t>::NAN
                } else if inf {
                    <$t>::INFINITY
                } else {
                    0.0
                };
                if negative { -v } else { v }
            }
            fn exact(w: &Walker<'_, $t>, i: usize, acc: &mut Superacc, m: Mutation) -> $t {
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b),
                    Term::Product(wv, xv) => acc.add_product(wv, xv, false),
                });
                acc.round_with(m)
            }
        }
    };
}

exact_real!(f64, u64, 52, 1023);
exact_real!(f32, u32, 23, 127);

macro_rules! exact_complex {
    ($t:ty) => {
        impl Exact for Complex<$t> {
            const PRECISION: i32 = <$t as Exact>::PRECISION;
            const EMIN: i32 = <$t as Exact>::EMIN;
            const EMAX: i32 = <$t as Exact>::EMAX;
            fn parts(self) -> Result<(bool, u64, i32), Option<bool>> {
                self.re.parts()
            }
            fn compose(negative: bool, n: u64, q: i32) -> Self {
                Complex::new(<$t>::compose(negative, n, q), 0.0)
            }
            fn special(nan: bool, inf: bool, negative: bool) -> Self {
                Complex::new(<$t>::special(nan, inf, negative), 0.0)
            }
            fn exact(w: &Walker<'_, Self>, i: usize, acc: &mut Superacc, m: Mutation) -> Self {
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b.re),
                    Term::Product(wv, xv) => {
                        acc.add_product(wv.re, xv.re, false);
                        acc.add_product(wv.im, xv.im, true);
                    }
                });
                let re = acc.round_with(m);
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b.im),
                    Term::Product(wv, xv) => {
                        acc.add_product(wv.re, xv.im, false);
                        acc.add_product(wv.im, xv.re, false);
                    }
                });
                Complex::new(re, acc.round_with(m))
            }
        }
    };
}

exact_complex!(f32);
exact_complex!(f64);
