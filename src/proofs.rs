//! Executable proofs of section 6.1 of Dive into Deep Learning ("From fully connected layers
//! to convolutions"): one page per derivation or exercise, each with the claim, a human
//! proof and code that checks it (the pages are the submodules below; their code blocks run
//! as doctests). The claims the pages prove by polynomial identity are also in [`claims`],
//! which `conv-oracle prove` runs.
//!
//! A claim is proved for every shape up to its stated bound by running the computation on
//! [`crate::symbolic`] inputs (one variable per entry) and comparing polynomials: equal
//! polynomials are equal for every input of those shapes in every commutative ring (complex
//! numbers included; floating point excluded: its sums depend on their order). A claim that
//! is false is listed as such and must be refuted: its check finds a counterexample and prints
//! the two polynomials that differ.
//!
//! The index of the pages is `proofs/README.md`:
#![doc = include_str!("../proofs/README.md")]

use crate::scalar::Ring;
use crate::signal::{Boundary2d, Mode, convolve, convolve2d, correlate};
use crate::symbolic::{Poly, variables};
use ndarray::{Array1, Array2, Axis, Ix1, Ix2};

#[doc = include_str!("../proofs/03-convolution-vs-correlation.md")]
pub mod convolution_vs_correlation {}

#[doc = include_str!("../proofs/11-commutativity.md")]
pub mod commutativity {}

/// Whether a claim is true (to be proved) or false (to be refuted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The identity holds for every shape up to the bound.
    Holds,
    /// The identity is false: a counterexample must be found.
    Fails,
}

/// One side of a claim evaluated on one shape: the two arrays of polynomials that must be
/// equal.
#[derive(Clone, Debug)]
pub struct Sides {
    /// The shapes, printed (`f: [3], g: [2]`).
    pub shapes: String,
    /// The left-hand side, one polynomial per output.
    pub left: Vec<Poly>,
    /// The right-hand side.
    pub right: Vec<Poly>,
}

impl Sides {
    fn agree(&self) -> bool {
        self.left == self.right
    }

    /// The first output index where the sides differ.
    pub fn first_difference(&self) -> Option<usize> {
        if self.left.len() != self.right.len() {
            return Some(self.left.len().min(self.right.len()));
        }
        self.left.iter().zip(&self.right).position(|(a, b)| a != b)
    }
}

/// A claim `conv-oracle prove` checks.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    /// Short name (`conv-oracle prove NAME`).
    pub name: &'static str,
    /// The statement.
    pub statement: &'static str,
    /// Which shapes the check covers.
    pub covers: &'static str,
    /// True or false.
    pub expect: Expect,
    /// The page (in `proofs/`) that proves it.
    pub page: &'static str,
    /// Every shape the check covers, the two sides each (the first one is the smallest, the
    /// one `--show` prints).
    pub cases: fn() -> Vec<Sides>,
}

/// What checking a claim found.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The claim.
    pub claim: Claim,
    /// Shapes checked.
    pub shapes: usize,
    /// The first shape where the sides differ, if any.
    pub counterexample: Option<Sides>,
}

impl Verdict {
    /// Proved (a true claim whose sides agree on every shape) or refuted (a false claim with
    /// a counterexample).
    pub fn passed(&self) -> bool {
        match self.claim.expect {
            Expect::Holds => self.counterexample.is_none(),
            Expect::Fails => self.counterexample.is_some(),
        }
    }
}

impl Claim {
    /// Runs the check on every shape it covers.
    pub fn check(&self) -> Verdict {
        let cases = (self.cases)();
        let shapes = cases.len();
        let counterexample = cases.into_iter().find(|s| !s.agree());
        Verdict {
            claim: *self,
            shapes,
            counterexample,
        }
    }
}

/// Every claim, in page order.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            name: "notes-slip",
            statement: "sum_m f(m) g(n-m) = sum_m f(m) g(n+m) (the notes' equation; false: the \
                        right-hand side is a cross-correlation)",
            covers: "1-D, lengths 1..=6 each, every n",
            expect: Expect::Fails,
            page: "03-convolution-vs-correlation.md",
            cases: notes_slip,
        },
        Claim {
            name: "correlation-is-convolution-with-reflected-conjugate",
            statement: "correlate(f, g) = convolve(f, conj(reverse(g))), full mode",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Holds,
            page: "03-convolution-vs-correlation.md",
            cases: correlation_as_convolution,
        },
        Claim {
            name: "correlation-reflection",
            statement: "correlate(f, g)[k] = conj(correlate(g, f)[N + M - 2 - k]), full mode",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Holds,
            page: "03-convolution-vs-correlation.md",
            cases: correlation_reflection,
        },
        Claim {
            name: "commutativity",
            statement: "f * g = g * f (true convolution, full mode)",
            covers: "1-D lengths 1..=6 each; 2-D inputs up to 5x5 with kernels up to 3x3",
            expect: Expect::Holds,
            page: "11-commutativity.md",
            cases: commutativity_cases,
        },
        Claim {
            name: "correlation-commutes",
            statement: "correlate(f, g) = correlate(g, f) (false: cross-correlation is not \
                        commutative)",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Fails,
            page: "11-commutativity.md",
            cases: correlation_swapped,
        },
    ]
}

/// The claims named `name` (all when `None`); `None` when no claim has that name.
pub fn find(name: Option<&str>) -> Option<Vec<Claim>> {
    let all = claims();
    match name {
        None => Some(all),
        Some(n) => {
            let picked: Vec<Claim> = all.into_iter().filter(|c| c.name == n).collect();
            (!picked.is_empty()).then_some(picked)
        }
    }
}

/// The variables `f[0..n]` as a 1-D array.
pub fn signal(name: &str, n: usize) -> Array1<Poly> {
    variables(name, &[n])
        .into_dimensionality::<Ix1>()
        .unwrap_or_else(|_| Array1::from_elem(0, Poly::zero()))
}

/// The variables `name[i, j]` as a 2-D array.
pub fn image(name: &str, shape: [usize; 2]) -> Array2<Poly> {
    variables(name, &shape)
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| Array2::from_elem((0, 0), Poly::zero()))
}

fn pairs_1d() -> impl Iterator<Item = (usize, usize)> {
    (1..=6).flat_map(|n| (1..=6).map(move |m| (n, m)))
}

fn shapes_1d(n: usize, m: usize) -> String {
    format!("f: [{n}], g: [{m}]")
}

/// `sum_m f(m) g(n - m)` (left) against `sum_m f(m) g(n + m)` (right), for every `n` where
/// either sum has a term (`n` from `-(M-1)` to `N + M - 2`).
fn notes_slip() -> Vec<Sides> {
    pairs_1d()
        .map(|(nf, ng)| {
            let (f, g) = (signal("f", nf), signal("g", ng));
            let term = |m: usize, j: isize| -> Option<Poly> {
                let j = usize::try_from(j).ok().filter(|&j| j < ng)?;
                Some(f[m].times(&g[j]))
            };
            let sum = |n: isize, sign: isize| -> Poly {
                (0..nf)
                    .filter_map(|m| term(m, n + sign * m as isize))
                    .fold(Poly::zero(), |a, t| a.plus(&t))
            };
            let range = -(ng as isize - 1)..=(nf + ng) as isize - 2;
            Sides {
                shapes: shapes_1d(nf, ng),
                left: range.clone().map(|n| sum(n, -1)).collect(),
                right: range.map(|n| sum(n, 1)).collect(),
            }
        })
        .collect()
}

/// `convolve` or `correlate` on 1-D symbolic arrays.
type Op1d = fn(
    ndarray::ArrayView1<'_, Poly>,
    ndarray::ArrayView1<'_, Poly>,
    Mode,
) -> Result<Array1<Poly>, crate::ConvError>;

fn full_1d(op: Op1d, a: &Array1<Poly>, b: &Array1<Poly>) -> Vec<Poly> {
    op(a.view(), b.view(), Mode::Full)
        .map(|y| y.to_vec())
        .unwrap_or_default()
}

fn correlation_as_convolution() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            let mut reflected = g.mapv(|p| p.conj());
            reflected.invert_axis(Axis(0));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right: full_1d(convolve, &f, &reflected),
            }
        })
        .collect()
}

fn correlation_reflection() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            let mut right: Vec<Poly> = full_1d(correlate, &g, &f).iter().map(Ring::conj).collect();
            right.reverse();
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right,
            }
        })
        .collect()
}

fn correlation_swapped() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right: full_1d(correlate, &g, &f),
            }
        })
        .collect()
}

fn commutativity_cases() -> Vec<Sides> {
    let mut out: Vec<Sides> = pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(convolve, &f, &g),
                right: full_1d(convolve, &g, &f),
            }
        })
        .collect();
    for a in 1..=5 {
        for b in 1..=5 {
            for p in 1..=3 {
                for q in 1..=3 {
                    let (f, g) = (image("f", [a, b]), image("g", [p, q]));
                    let run = |x: &Array2<Poly>, y: &Array2<Poly>| -> Vec<Poly> {
                        let zero = Boundary2d::Fill(Poly::zero());
                        convolve2d(x.view(), y.view(), Mode::Full, zero)
                            .map(|z| z.iter().cloned().collect())
                            .unwrap_or_default()
                    };
                    out.push(Sides {
                        shapes: format!("f: [{a}, {b}], g: [{p}, {q}]"),
                        left: run(&f, &g),
                        right: run(&g, &f),
                    });
                }
            }
        }
    }
    out
}

/// The text `conv-oracle prove --show NAME` prints: the claim and, for its smallest shape
/// with at least two terms per side (or its counterexample), each output's polynomials on
/// both sides.
pub fn show(claim: &Claim) -> String {
    use std::fmt::Write as _;
    let verdict = claim.check();
    let cases = (claim.cases)();
    let sides = verdict.counterexample.clone().unwrap_or_else(|| {
        cases
            .iter()
            .find(|s| s.left.iter().any(|p| p.len() >= 2))
            .or(cases.first())
            .cloned()
            .unwrap_or(Sides {
                shapes: String::new(),
                left: Vec::new(),
                right: Vec::new(),
            })
    });
    let mut out = format!("{}: {}\n{}\n", claim.name, claim.statement, sides.shapes);
    for (k, (l, r)) in sides.left.iter().zip(&sides.right).enumerate() {
        let mark = if l == r { "=" } else { "!=" };
        let _ = writeln!(out, "  [{k}] {l}\n      {mark} {r}");
    }
    if sides.left.len() != sides.right.len() {
        let _ = writeln!(
            out,
            "  (left has {} outputs, right {})",
            sides.left.len(),
            sides.right.len()
        );
    }
    out
}
