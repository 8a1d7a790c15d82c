//! Symbolic elements: multivariate polynomials with big-integer coefficients, a [`Ring`] the
//! reference runs on unchanged.
//!
//! Give every input entry its own variable ([`variables`]) and the reference returns each
//! output as a polynomial in them. Two computations that return equal polynomials agree for
//! **every** input of those shapes in **every** commutative ring, because substituting values
//! for the variables is a ring homomorphism from `Z[variables]` to the ring: so for all
//! integers (also wrapping `i32`/`i64`, the rings `Z/2^n`), rationals, reals and complex
//! numbers. Conjugation is symbolic too: `conj(x[0])` is a variable of its own, paired with
//! `x[0]`, so an identity that uses [`Ring::conj`] holds for complex inputs with the complex
//! conjugate (any commutative ring with an involution).
//!
//! What it does not cover: floating point, whose addition is not associative (a float result
//! depends on the order of the sum; the crate bounds that error in [`crate::tolerance`]); shapes
//! other than the ones run (a symbolic run is a proof for its shapes only, and `proofs/` states
//! the bounds it covers); and non-commutative rings (matrices as elements).
//!
//! ```
//! use conv_oracle::symbolic::{Poly, variables};
//! use conv_oracle::{Mode, convolve};
//!
//! let f = variables("f", &[3]);
//! let g = variables("g", &[2]);
//! let fg = convolve(f.view(), g.view(), Mode::Full).unwrap();
//! let gf = convolve(g.view(), f.view(), Mode::Full).unwrap();
//! assert_eq!(fg, gf); // f * g = g * f for every f of length 3 and g of length 2
//! assert_eq!(fg[[1]].to_string(), "f[0]*g[1] + f[1]*g[0]");
//! # let _ = Poly::zero();
//! ```

use crate::scalar::Ring;
use ndarray::{ArrayD, Dimension, IxDyn};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A variable: a name and an index (`x[0,1]`), or the conjugate of one (`conj(x[0,1])`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var {
    name: Arc<str>,
    index: Vec<usize>,
    conj: bool,
}

impl Var {
    /// The variable `name[index]`.
    pub fn new(name: &str, index: &[usize]) -> Self {
        Var {
            name: Arc::from(name),
            index: index.to_vec(),
            conj: false,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its index.
    pub fn index(&self) -> &[usize] {
        &self.index
    }

    /// Whether it stands for the conjugate of `name[index]`.
    pub fn is_conj(&self) -> bool {
        self.conj
    }

    /// The conjugate variable (`conj(conj(x)) = x`).
    pub fn conjugate(&self) -> Self {
        Var {
            conj: !self.conj,
            ..self.clone()
        }
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index: Vec<String> = self.index.iter().map(usize::to_string).collect();
        let plain = if index.is_empty() {
            self.name.to_string() // a scalar variable: `c`, not `c[]`
        } else {
            format!("{}[{}]", self.name, index.join(","))
        };
        if self.conj {
            write!(f, "conj({plain})")
        } else {
            f.write_str(&plain)
        }
    }
}

/// A monomial: variables with positive exponents, sorted by variable (the empty monomial is
/// the constant 1). Ordered lexicographically, largest first: by the exponent of the first
/// variable (in variable order), then the next, so `x[0]^2 < x[0]*x[1] < x[1]^2 < 1` and a
/// polynomial prints as `x[0]^2 + 2*x[0]*x[1] + x[1]^2`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Monomial(Vec<(Var, u32)>);

impl Ord for Monomial {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Equal, Greater, Less};
        for (a, b) in self.0.iter().zip(&other.0) {
            // The monomial with the earlier variable has a positive exponent where the other
            // has zero: it comes first.
            match a.0.cmp(&b.0) {
                Less => return Less,
                Greater => return Greater,
                Equal => match b.1.cmp(&a.1) {
                    Equal => {}
                    o => return o,
                },
            }
        }
        // A proper prefix has exponent zero where the longer one continues: it comes later.
        other.0.len().cmp(&self.0.len())
    }
}

impl PartialOrd for Monomial {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Monomial {
    /// The variables and their exponents, sorted.
    pub fn factors(&self) -> &[(Var, u32)] {
        &self.0
    }

    /// The total degree.
    pub fn degree(&self) -> u64 {
        self.0.iter().map(|(_, e)| u64::from(*e)).sum()
    }

    fn times(&self, rhs: &Monomial) -> Monomial {
        let (a, b) = (&self.0, &rhs.0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push((a[i].0.clone(), a[i].1.saturating_add(b[j].1)));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Monomial(out)
    }

    fn conj(&self) -> Monomial {
        let mut v: Vec<(Var, u32)> = self.0.iter().map(|(x, e)| (x.conjugate(), *e)).collect();
        v.sort();
        Monomial(v)
    }
}

impl fmt::Display for Monomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("1");
        }
        for (k, (x, e)) in self.0.iter().enumerate() {
            if k > 0 {
                f.write_str("*")?;
            }
            if *e == 1 {
                write!(f, "{x}")?;
            } else {
                write!(f, "{x}^{e}")?;
            }
        }
        Ok(())
    }
}

/// A polynomial with integer coefficients in named, indexed variables (and their
/// conjugates). Canonical: no zero coefficients, monomials sorted, so `==` is equality of
/// polynomials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Poly {
    terms: BTreeMap<Monomial, BigInt>,
}

impl Poly {
    /// The zero polynomial.
    pub fn zero() -> Self {
        Poly::default()
    }

    /// The constant `c`.
    pub fn constant(c: impl Into<BigInt>) -> Self {
        let c = c.into();
        let mut terms = BTreeMap::new();
        if !c.is_zero() {
            terms.insert(Monomial::default(), c);
        }
        Poly { terms }
    }

    /// The polynomial `name[index]`.
    pub fn var(name: &str, index: &[usize]) -> Self {
        let mut terms = BTreeMap::new();
        terms.insert(Monomial(vec![(Var::new(name, index), 1)]), BigInt::from(1));
        Poly { terms }
    }

    /// Whether it is the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms: monomials (sorted) with their nonzero coefficients.
    pub fn terms(&self) -> impl Iterator<Item = (&Monomial, &BigInt)> {
        self.terms.iter()
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether it has no terms (the zero polynomial).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The total degree (`0` for constants and for zero).
    pub fn degree(&self) -> u64 {
        self.terms.keys().map(Monomial::degree).max().unwrap_or(0)
    }

    /// The coefficient of a monomial (zero when absent).
    pub fn coefficient(&self, m: &Monomial) -> BigInt {
        self.terms.get(m).cloned().unwrap_or_default()
    }

    /// The value at a point: `coeff` maps an integer coefficient into the ring and `var`
    /// gives each variable's value (a conjugate variable's value included). A ring
    /// homomorphism when `var(conj x) = conj(var(x))` and `coeff` is one.
    pub fn eval<T: Ring>(&self, coeff: impl Fn(&BigInt) -> T, var: impl Fn(&Var) -> T) -> T {
        let mut sum = T::zero();
        for (m, c) in &self.terms {
            let mut term = coeff(c);
            for (x, e) in &m.0 {
                let v = var(x);
                for _ in 0..*e {
                    term = term.times(&v);
                }
            }
            sum = sum.plus(&term);
        }
        sum
    }

    fn add_term(terms: &mut BTreeMap<Monomial, BigInt>, m: Monomial, c: BigInt) {
        if c.is_zero() {
            return;
        }
        match terms.entry(m) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(c);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                *o.get_mut() += c;
                if o.get().is_zero() {
                    o.remove();
                }
            }
        }
    }
}

/// An array of the given shape whose entry at index `i` is the variable `name[i]`.
pub fn variables(name: &str, shape: &[usize]) -> ArrayD<Poly> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| Poly::var(name, i.slice()))
}

impl Ring for Poly {
    fn zero() -> Self {
        Poly::zero()
    }
    fn one() -> Self {
        Poly::constant(1)
    }
    fn plus(&self, rhs: &Self) -> Self {
        let mut terms = self.terms.clone();
        for (m, c) in &rhs.terms {
            Poly::add_term(&mut terms, m.clone(), c.clone());
        }
        Poly { terms }
    }
    fn minus(&self, rhs: &Self) -> Self {
        let mut terms = self.terms.clone();
        for (m, c) in &rhs.terms {
            Poly::add_term(&mut terms, m.clone(), -c.clone());
        }
        Poly { terms }
    }
    fn times(&self, rhs: &Self) -> Self {
        let mut terms = BTreeMap::new();
        for (ma, ca) in &self.terms {
            for (mb, cb) in &rhs.terms {
                Poly::add_term(&mut terms, ma.times(mb), ca * cb);
            }
        }
        Poly { terms }
    }
    /// Conjugates every variable (integer coefficients are real).
    fn conj(&self) -> Self {
        Poly {
            terms: self
                .terms
                .iter()
                .map(|(m, c)| (m.conj(), c.clone()))
                .collect(),
        }
    }
}

impl fmt::Display for Poly {
    /// Terms in monomial order, `+` and `-` between them, coefficient 1 left out:
    /// `x[0,1]*w[1,0] - 2*x[0,0]^2 + 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        for (k, (m, c)) in self.terms.iter().enumerate() {
            let negative = c.is_negative();
            match (k, negative) {
                (0, true) => f.write_str("-")?,
                (0, false) => {}
                (_, true) => f.write_str(" - ")?,
                (_, false) => f.write_str(" + ")?,
            }
            let size = c.abs();
            if m.0.is_empty() {
                write!(f, "{size}")?;
            } else if size.is_one() {
                write!(f, "{m}")?;
            } else {
                write!(f, "{size}*{m}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(i: usize) -> Poly {
        Poly::var("x", &[i])
    }

    #[test]
    fn printing() {
        let p = x(0)
            .times(&x(1))
            .minus(&Poly::constant(2).times(&x(0)).times(&x(0)));
        assert_eq!(p.to_string(), "-2*x[0]^2 + x[0]*x[1]");
        assert!(x(0).times(&x(1)).len() == 1);
        assert_eq!(Poly::zero().to_string(), "0");
        assert_eq!(Poly::constant(-3).plus(&x(2)).to_string(), "x[2] - 3");
        assert_eq!(
            x(1).plus(&x(0).times(&x(1))).to_string(),
            "x[0]*x[1] + x[1]"
        );
        let w = Poly::var("w", &[1, 0]);
        assert_eq!(w.conj().times(&w).to_string(), "w[1,0]*conj(w[1,0])");
        assert_eq!(Poly::var("c", &[]).times(&x(0)).to_string(), "c*x[0]");
        assert_eq!(x(0).minus(&x(0)), Poly::zero());
        assert!(x(0).minus(&x(0)).is_zero());
    }

    #[test]
    fn degree_and_coefficients() {
        let p = x(0).plus(&x(1)).times(&x(0).plus(&x(1)));
        assert_eq!(p.degree(), 2);
        assert_eq!(p.len(), 3);
        let cross = x(0).times(&x(1));
        let (m, _) = cross.terms().next().expect("a term");
        assert_eq!(p.coefficient(m), BigInt::from(2));
        assert_eq!(p.to_string(), "x[0]^2 + 2*x[0]*x[1] + x[1]^2");
    }

    #[test]
    fn conjugation_is_an_involution_and_multiplicative() {
        let p = x(0).times(&x(1).conj()).plus(&Poly::constant(5));
        assert_eq!(p.conj().conj(), p);
        let q = x(2).minus(&x(0).conj());
        assert_eq!(p.times(&q).conj(), p.conj().times(&q.conj()));
    }
}
