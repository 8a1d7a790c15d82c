//! Element types: the [`Ring`] trait the reference is written over.
//!
//! The reference may only use what a commutative ring offers: zero, one, addition, subtraction,
//! multiplication and cloning, plus conjugation. There is deliberately no `PartialEq` bound, so
//! the reference cannot branch on values: the same code runs on integers, exact rationals, floats,
//! complex numbers and (later) symbolic polynomials.
//!
//! Fixed-width integers use wrapping arithmetic, so `i32`, `i64` and `i128` are the rings
//! Z/2^32, Z/2^64 and Z/2^128: every ring identity (commutativity, associativity, bilinearity)
//! holds exactly even when a sum overflows, and no input can make the reference panic.
//! When the true integer result fits, it is the exact result.

use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::fmt::Debug;

/// A commutative ring with conjugation: everything the reference formula needs.
///
/// Methods take references so that big types (rationals, polynomials) are not moved.
pub trait Ring: Clone + Debug + 'static {
    /// The additive identity.
    fn zero() -> Self;
    /// The multiplicative identity.
    fn one() -> Self;
    /// `self + rhs`.
    fn plus(&self, rhs: &Self) -> Self;
    /// `self - rhs`.
    fn minus(&self, rhs: &Self) -> Self;
    /// `self * rhs`.
    fn times(&self, rhs: &Self) -> Self;
    /// Complex conjugate; the identity for real types.
    fn conj(&self) -> Self;
}

macro_rules! wrapping_ring {
    ($($t:ty),*) => {$(
        impl Ring for $t {
            fn zero() -> Self { 0 }
            fn one() -> Self { 1 }
            fn plus(&self, rhs: &Self) -> Self { self.wrapping_add(*rhs) }
            fn minus(&self, rhs: &Self) -> Self { self.wrapping_sub(*rhs) }
            fn times(&self, rhs: &Self) -> Self { self.wrapping_mul(*rhs) }
            fn conj(&self) -> Self { *self }
        }
    )*};
}
wrapping_ring!(i32, i64, i128);

macro_rules! float_ring {
    ($($t:ty),*) => {$(
        impl Ring for $t {
            fn zero() -> Self { 0.0 }
            fn one() -> Self { 1.0 }
            fn plus(&self, rhs: &Self) -> Self { self + rhs }
            fn minus(&self, rhs: &Self) -> Self { self - rhs }
            fn times(&self, rhs: &Self) -> Self { self * rhs }
            fn conj(&self) -> Self { *self }
        }
        impl Ring for Complex<$t> {
            fn zero() -> Self { Complex::new(0.0, 0.0) }
            fn one() -> Self { Complex::new(1.0, 0.0) }
            fn plus(&self, rhs: &Self) -> Self { self + rhs }
            fn minus(&self, rhs: &Self) -> Self { self - rhs }
            fn times(&self, rhs: &Self) -> Self { self * rhs }
            fn conj(&self) -> Self { Complex::conj(self) }
        }
    )*};
}
float_ring!(f32, f64);

impl Ring for BigInt {
    fn zero() -> Self {
        BigInt::from(0)
    }
    fn one() -> Self {
        BigInt::from(1)
    }
    fn plus(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn minus(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn times(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn conj(&self) -> Self {
        self.clone()
    }
}

impl Ring for BigRational {
    fn zero() -> Self {
        <BigRational as Zero>::zero()
    }
    fn one() -> Self {
        <BigRational as One>::one()
    }
    fn plus(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn minus(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn times(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn conj(&self) -> Self {
        self.clone()
    }
}

impl Ring for Complex<BigRational> {
    fn zero() -> Self {
        Complex::new(<BigRational as Zero>::zero(), <BigRational as Zero>::zero())
    }
    fn one() -> Self {
        Complex::new(<BigRational as One>::one(), <BigRational as Zero>::zero())
    }
    fn plus(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn minus(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn times(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn conj(&self) -> Self {
        Complex::new(self.re.clone(), -self.im.clone())
    }
}

impl Ring for Complex<BigInt> {
    fn zero() -> Self {
        Complex::new(BigInt::from(0), BigInt::from(0))
    }
    fn one() -> Self {
        Complex::new(BigInt::from(1), BigInt::from(0))
    }
    fn plus(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn minus(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn times(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn conj(&self) -> Self {
        Complex::new(self.re.clone(), -self.im.clone())
    }
}

/// Sum of a sequence of ring elements, left to right (used by tests and helpers).
pub fn sum<'a, T: Ring + 'a>(items: impl IntoIterator<Item = &'a T>) -> T {
    items.into_iter().fold(T::zero(), |acc, x| acc.plus(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_integers_form_a_ring() {
        // i32::MAX + 1 wraps to i32::MIN instead of panicking: Z/2^32 arithmetic.
        assert_eq!(i32::MAX.plus(&1), i32::MIN);
        assert_eq!(i32::MIN.minus(&1), i32::MAX);
        assert_eq!((1i32 << 30).times(&4), 0);
    }

    #[test]
    fn conjugation() {
        let z = Complex::new(1.5f64, -2.0);
        assert_eq!(Ring::conj(&z), Complex::new(1.5, 2.0));
        assert_eq!(Ring::conj(&3.0f32), 3.0);
        let q = Complex::new(
            BigRational::new(1.into(), 3.into()),
            BigRational::new(2.into(), 5.into()),
        );
        assert_eq!(Ring::conj(&q).im, BigRational::new((-2).into(), 5.into()));
    }
}
