//! The outcome of judging: [`Report`], its [`Verdict`] and [`Failure`] reasons, the [`Worst`]
//! element and the [`Aggregate`] checks.

use super::model::Model;

/// Why a [`Report`] failed (the first reason found; element failures come first).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Failure {
    /// An input slice has the wrong length; nothing was compared.
    LengthMismatch {
        /// Which slice (`"exact"` or `"abs_sum"`).
        what: &'static str,
        /// Its expected length (the length of `got`).
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// A model parameter is NaN or negative (`rtol`, `atol` or the normwise `bound`); nothing
    /// was compared.
    InvalidParameter {
        /// The parameter's name.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// An `abs_sum` entry is NaN or negative, which no sum of absolute values is; nothing was
    /// compared.
    InvalidAbsSum {
        /// Flat index of the first such entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Some elements were outside their bound (or broke the special-value rules).
    Elements {
        /// How many.
        count: usize,
        /// The flat index of the first one.
        first: usize,
    },
    /// [`Model::Normwise`]: the 2-norm of the error exceeded the bound.
    Norm {
        /// `||y_hat - y_cr||_2` as computed.
        error: f64,
        /// The bound it was held to (the caller's bound plus the reference's rounding).
        bound: f64,
    },
    /// [`Model::Tosa`]: `|sum err_i| > 2 sqrt(KS T)`, a systematic bias.
    TosaBias {
        /// `sum err_i`.
        sum: f64,
        /// `2 sqrt(KS T)`.
        limit: f64,
    },
    /// [`Model::Tosa`]: `sum err_i^2 > 0.4 KS T`, too large an error variance.
    TosaVariance {
        /// `sum err_i^2`.
        sum_sq: f64,
        /// `0.4 KS T`.
        limit: f64,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::LengthMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "{what} has {got} elements, expected {expected}; nothing compared"
            ),
            Failure::InvalidParameter { what, value } => write!(
                f,
                "{what} = {value} is not a tolerance (NaN or negative); nothing compared"
            ),
            Failure::InvalidAbsSum { index, value } => write!(
                f,
                "abs_sum[{index}] = {value} is NaN or negative; nothing compared"
            ),
            Failure::Elements { count, first } => {
                write!(
                    f,
                    "{count} element(s) outside the bound, first at [{first}]"
                )
            }
            Failure::Norm { error, bound } => {
                write!(f, "error 2-norm {error:.3e} exceeds the bound {bound:.3e}")
            }
            Failure::TosaBias { sum, limit } => write!(
                f,
                "error bias |sum err| = {:.4} exceeds 2 sqrt(KS T) = {limit:.4}",
                sum.abs()
            ),
            Failure::TosaVariance { sum_sq, limit } => write!(
                f,
                "error variance sum err^2 = {sum_sq:.4} exceeds 0.4 KS T = {limit:.4}"
            ),
        }
    }
}

/// Pass, or fail with the first reason.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every check passed.
    Pass,
    /// Some check failed.
    Fail(Failure),
}

impl Verdict {
    /// Whether this is [`Verdict::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }
}

/// The element with the largest error-to-bound ratio (failing elements first, then the
/// first of equal ratios).
#[derive(Clone, Debug, PartialEq)]
pub struct Worst {
    /// Flat index into the slices.
    pub index: usize,
    /// The candidate's value (widened to f64).
    pub got: f64,
    /// The correctly rounded exact value (widened to f64).
    pub exact: f64,
    /// ULP distance between them ([`Float::ulp_distance`](super::Float::ulp_distance)).
    pub ulp: u64,
    /// `|got - exact|` computed in f64 (0 for matching special values, infinite for a
    /// special-value mismatch).
    pub error: f64,
    /// The absolute error this element was allowed: the componentwise bound, `atol + rtol |e|`,
    /// TOSA's `KS * scale` (0 where `bnd == 0`, infinite where `bnd` overflows), or the
    /// normwise bound of the whole block; `None` for [`Model::Exact`] and [`Model::Ulp`], whose
    /// limits are in ULPs (see [`Worst::ulp`]), and for special values.
    pub bound: Option<f64>,
    /// This element's error-to-bound ratio (`ulp / n` for `Ulp(n)`, `|err_i| / KS` for TOSA).
    pub ratio: f64,
    /// Extension point for a problem-level judge, which knows the problem: the
    /// `(weight, input)` pairs of this output's terms (a bias as `(b, 1)`).
    /// [`judge_elements`](super::judge_elements) sees only outputs and leaves it empty.
    pub taps: Vec<(f64, f64)>,
}

/// Aggregate checks over all elements, for the models that have them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Aggregate {
    /// [`Model::Normwise`]: the computed error norm and the bound it was held to.
    Norm {
        /// `||y_hat - y_cr||_2`.
        error: f64,
        /// The caller's bound plus the reference's rounding, inflated for evaluation.
        bound: f64,
    },
    /// [`Model::Tosa`]: the error sums, in units of the per-element scale, and their limits.
    Tosa {
        /// `sum err_i`.
        err_sum: f64,
        /// `2 sqrt(KS T)`.
        bias_limit: f64,
        /// `sum err_i^2`.
        err_sum_sq: f64,
        /// `0.4 KS T`.
        variance_limit: f64,
    },
}

/// The outcome of [`judge_elements`](super::judge_elements).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The model judged under.
    pub model: Model,
    /// The element type, `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// `K`: terms per output (taps, plus one for a bias).
    pub terms: usize,
    /// Pass, or fail with the first reason.
    pub verdict: Verdict,
    /// Number of elements compared (0 when nothing was compared).
    pub elements: usize,
    /// Number of elements outside their bound or breaking the special-value rules.
    pub failed: usize,
    /// Largest ULP distance (`u64::MAX` for a special-value mismatch).
    pub max_ulp: u64,
    /// Largest error-to-bound ratio: per element for every model except [`Model::Normwise`],
    /// where it is the norm's; `ulp / n` for `Ulp(n)`; 0 or infinity for `Exact` (and
    /// against a zero bound). At most 1 when every element passes.
    pub max_ratio: f64,
    /// Elements at ULP distance 0 (correctly rounded; sign of zero ignored, NaN for NaN).
    pub correctly_rounded: usize,
    /// The element with the largest ratio (`None` when nothing was compared).
    pub worst: Option<Worst>,
    /// The aggregate checks of [`Model::Normwise`] and [`Model::Tosa`].
    pub aggregate: Option<Aggregate>,
}

impl Report {
    /// Whether the verdict is [`Verdict::Pass`].
    pub fn passed(&self) -> bool {
        self.verdict.is_pass()
    }
}

impl std::fmt::Display for Report {
    /// One paragraph: verdict, reason, counts, the aggregate checks and the worst element.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = if self.passed() { "PASS" } else { "FAIL" };
        write!(
            f,
            "{status} under {} ({}, K = {})",
            self.model, self.dtype, self.terms
        )?;
        if let Verdict::Fail(reason) = &self.verdict {
            write!(f, ": {reason}")?;
        }
        write!(
            f,
            ". {} elements, {} correctly rounded, max ",
            self.elements, self.correctly_rounded
        )?;
        if self.max_ulp == u64::MAX {
            write!(f, "ulp inf")?;
        } else {
            write!(f, "{} ulp", self.max_ulp)?;
        }
        write!(f, ", max error/bound {:.3}", self.max_ratio)?;
        match &self.aggregate {
            Some(Aggregate::Norm { error, bound }) => {
                write!(f, ", error 2-norm {error:.3e} (bound {bound:.3e})")?
            }
            Some(Aggregate::Tosa {
                err_sum,
                bias_limit,
                err_sum_sq,
                variance_limit,
            }) => write!(
                f,
                ", sum err {err_sum:.3} (limit {bias_limit:.3}), \
                 sum err^2 {err_sum_sq:.3} (limit {variance_limit:.3})"
            )?,
            None => {}
        }
        if let Some(w) = &self.worst {
            // Values in their own type's shortest form (f32 data widened to f64 is exact).
            let show = |v: f64| {
                if self.dtype == "f32" {
                    format!("{:?}", v as f32)
                } else {
                    format!("{v:?}")
                }
            };
            write!(
                f,
                ". Worst at [{}]: got {} vs exact {}, ",
                w.index,
                show(w.got),
                show(w.exact)
            )?;
            if w.ulp == u64::MAX {
                write!(f, "non-finite mismatch")?;
            } else {
                write!(f, "{} ulp, error {:.3e}", w.ulp, w.error)?;
            }
            if let Some(b) = w.bound {
                write!(f, ", bound {b:.3e}")?;
            }
        }
        write!(f, ".")
    }
}
