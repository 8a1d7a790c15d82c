//! Properties of the correctly rounded engine ([`crate::engine::exact`]): every output equals
//! the exact rational value of the convolution rounded once to nearest-even, bit for bit.
//!
//! The exact value comes from the reference run on big integers
//! ([`crate::verify::fft::exact_conv`]: data scaled by powers of two into integers, the
//! literal formula over `BigInt`), not from anything the engine uses. The check of a result
//! `r` against the exact rational `S` does not round `S` either: it verifies the defining
//! property of round-to-nearest-even, with the neighbours of `r` in its format:
//!
//! - `r` finite: `S` lies between the midpoints `(prev(r) + r) / 2` and `(r + next(r)) / 2`;
//!   on a midpoint, `r`'s significand is even; at the top of the range the upper midpoint is
//!   the overflow threshold `max + ulp(max) / 2`, and `S` must stay strictly below it;
//!   `r = +-0` needs `S` of that sign (either sign when `S = 0`: [`crate::tolerance`] ignores
//!   the sign of an exact zero; `src/verify/exact/tests.rs` checks the engine's rule separately);
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
#[cfg(feature = "fault-injection")]
use crate::engine::exact::Mutation;
use crate::engine::exact::{ExactEngine, ExactStats};
use crate::reference::conv;
use crate::testing::cases::Case;
use crate::testing::exact_data::*;
use crate::testing::{Expect, Kind, Outcome, Row, Violation, search, timed};
use crate::verify::fft::exact_conv;
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use std::cell::Cell;
use std::fmt::Debug;
use std::rc::Rc;

// ---------------------------------------------------------------------------- the check

/// What one checked case showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Checked {
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
pub(crate) fn check_correctly_rounded<T: ExactSample>(
    engine: &ExactEngine,
    c: &Case<T>,
) -> Result<Checked, Violation> {
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
                got => Err(Violation::acceptance(&got, &Err::<(), _>(want))),
            };
        }
    };
    let (got, stats) = c
        .with(|p| engine.conv_with_stats(p))
        .map_err(|e| Violation::refused(&e))?;
    // The exact values of the finite data (non-finite values zeroed: the outputs that read
    // them are special and take the pattern's value).
    let finite = c.map(|v| v.map_parts(|x| if x.is_finite() { x } else { 0.0 }));
    let exact = exact_conv(&finite.map(|v| v.widen()))
        .map_err(|e| Violation::refused(&e).context("the exact reference"))?
        .rational_parts::<T::Wide>();
    if got.len() != exact.len() || got.len() != pattern.len() {
        return Err(Violation::new(
            Kind::ShapeMismatch,
            format!("{} outputs, expected {}", got.len(), exact.len()),
        ));
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
                Violation::new(Kind::NotCorrectlyRounded, format!("output {i}{part}: {e}"))
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
pub(crate) const VERIFY_MAX_RANK: usize = 2;

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
    let mut row = timed(property, name, cases, Expect::Holds, || {
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

#[cfg(feature = "fault-injection")]
/// The wrong engines of the `verify` rows and the data that shows each one wrong (the
/// block mutant on [`block_case`]s).
pub(crate) const MUTANTS: [(Mutation, Data); 4] = [
    (Mutation::Uncertified, Data::Ties),
    (Mutation::TiesAway, Data::Ties),
    (Mutation::Truncate, Data::Uniform),
    (Mutation::BlockWeights, Data::Uniform),
];

#[cfg(feature = "fault-injection")]
/// Cases a refutation row draws at least, whatever the budget: a search needs room.
pub(crate) const MIN_REFUTATION_CASES: u32 = 32;

#[cfg(feature = "fault-injection")]
/// A refutation row: the search must find a case where the mutant is not correctly
/// rounded, within `max(cases, MIN_REFUTATION_CASES)` cases. Mutants of the exact tier's
/// rounding run with every output in that tier; those of the fast tier with both tiers.
pub(crate) fn mutant_row<T: ExactSample>(m: Mutation, d: Data, cases: u32, seed: u64) -> Outcome {
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
        Expect::Refuted(Kind::NotCorrectlyRounded),
        || {
            let block = m == Mutation::BlockWeights;
            search(cases_of::<T>(d, block), cases, seed, |c| {
                check_correctly_rounded(&engine, c).map(|_| ())
            })
        },
    )
}

/// The exact-engine rows `verify` runs: every [`Data`] on `f64` and `f32`, four on the
/// complex types, the exact tier alone on two, the `f32` block kernel on three
/// ([`block_case`], two threads), and each of [`MUTANTS`] refuted (on `f32` and `f64`; the
/// block mutant, which only `f32` has, on `f32`).
pub(crate) fn rows() -> Vec<Row> {
    fn row<T: ExactSample>(
        property: &'static str,
        engine: &Rc<ExactEngine>,
        d: Data,
        block: bool,
    ) -> Row {
        let engine = Rc::clone(engine);
        let name = format!("{}/{}", ConvEngine::<T>::name(engine.as_ref()), T::NAME);
        Row::new(property, name, move |cases, seed| {
            exact_row_named::<T>(property, &engine, cases_of::<T>(d, block), cases, seed)
        })
    }
    #[cfg(feature = "fault-injection")]
    fn mutant<T: ExactSample>(m: Mutation, d: Data) -> Row {
        Row::new(
            "exact-mutant-not-correctly-rounded",
            format!("{m:?}/{}", T::NAME),
            move |cases, seed| mutant_row::<T>(m, d, cases, seed),
        )
    }
    let engine = Rc::new(ExactEngine::new().threads(1));
    let mut out = Vec::new();
    for d in Data::ALL {
        out.push(row::<f64>(d.property(), &engine, d, false));
        out.push(row::<f32>(d.property(), &engine, d, false));
    }
    for d in [
        Data::Uniform,
        Data::WideExponent,
        Data::Ties,
        Data::Specials,
    ] {
        out.push(row::<Complex<f64>>(d.property(), &engine, d, false));
        out.push(row::<Complex<f32>>(d.property(), &engine, d, false));
    }
    let exact_only = Rc::new(ExactEngine::new().threads(1).fallback_only());
    for d in [Data::Uniform, Data::WideExponent] {
        out.push(row::<f64>(
            "exact-tier-correctly-rounded",
            &exact_only,
            d,
            false,
        ));
        out.push(row::<f32>(
            "exact-tier-correctly-rounded",
            &exact_only,
            d,
            false,
        ));
    }
    // The f32 block kernel, on two threads (a thread's share may end inside a block).
    let two = Rc::new(ExactEngine::new().threads(2));
    for d in [Data::Uniform, Data::Cancelling, Data::WideExponent] {
        out.push(row::<f32>("exact-block-correctly-rounded", &two, d, true));
    }
    #[cfg(feature = "fault-injection")]
    for (m, d) in MUTANTS {
        if m != Mutation::BlockWeights {
            out.push(mutant::<f64>(m, d));
        }
        out.push(mutant::<f32>(m, d));
    }
    out
}

#[cfg(test)]
mod tests;
