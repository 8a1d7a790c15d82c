//! The tolerance models: how far a candidate may be from the correctly rounded exact output.

/// How far a candidate may be from the correctly rounded exact output. The special-value
/// rules apply to every model first (docs/numerics.md sections 5 and 8.1); each model's rule
/// is derived in docs/numerics.md section 8.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Model {
    /// Bit-equal to the correctly rounded exact value, up to the sign of zero; NaN equals NaN.
    /// The rule for the exact engine. Same verdicts as `Ulp(0)`.
    Exact,
    /// At most this many ULPs ([`Float::ulp_distance`](super::Float::ulp_distance)) from the
    /// correctly rounded value.
    Ulp(u64),
    /// The componentwise bound of any direct summation, against the correctly rounded value:
    /// `|y_hat - y_cr| <= gamma_K A_hat + u |y_cr| + (K + 1)(1 + gamma_K) eta / 2`
    /// ([`componentwise_bound_cr`](super::componentwise_bound_cr) evaluates it, rounded up),
    /// `u` the element type's unit roundoff, `K` = `terms`, `A_hat` = `abs_sum[i]`. Sound for a
    /// candidate that sums the `K` rounded products in `F` (or wider) in any order, with or
    /// without FMA. An element whose `A_hat (1 + gamma_K)` reaches `F`'s largest finite value
    /// is not judged (an overflow is possible) unless `y_cr` is NaN. docs/numerics.md
    /// section 8.2.
    Componentwise,
    /// A normwise bound over all the elements judged together: the caller's `bound` on
    /// `||y_hat - y||_2` (from [`fft::FftTerms::bound`](super::fft::FftTerms::bound) for one
    /// block, or [`crate::engine::fft::FftEngine::normwise_model`] for a whole output); the
    /// policy adds the rounding of `y_cr` and of its own evaluation. docs/numerics.md
    /// section 8.5.
    Normwise {
        /// The caller's bound on `||y_hat - y||_2` against the exact `y`.
        bound: f64,
    },
    /// A bound per element: the caller's `bounds[i]` on `|y_hat_i - y_i|` against the exact
    /// `y_i` (from [`winograd::WinogradTile`](super::winograd::WinogradTile), or any
    /// algorithm's own analysis), in the output's row-major order; the policy adds the
    /// rounding of `y_cr` (`u |y_cr| / (1 - u)` and half the smallest subnormal). An infinite
    /// entry marks an element whose computation may overflow: it is not judged, unless `y_cr`
    /// is NaN. docs/numerics.md section 8.9.
    Elementwise {
        /// The caller's bound on `|y_hat_i - y_i|`, one per element (`>= 0`, infinity
        /// allowed).
        bounds: Vec<f64>,
    },
    /// TOSA's dot-product rule with `KS = terms` and `bnd = abs_sum[i]`, plus its aggregate
    /// bias and variance checks over all the elements; the overflow exception of
    /// [`Model::Componentwise`] applies too. docs/numerics.md sections 6 and 8.6.
    Tosa,
    /// `|got - e| <= atol + rtol |e|` with `e` the correctly rounded value, evaluated in f64:
    /// a peer's own test rule ([`Preset`](super::Preset) holds their defaults).
    /// docs/numerics.md section 8.7.
    RtolAtol {
        /// Relative tolerance (`>= 0`).
        rtol: f64,
        /// Absolute tolerance (`>= 0`).
        atol: f64,
    },
}

impl Model {
    /// Whether the model reads `abs_sum` (then it must have one entry per element).
    pub fn uses_abs_sum(&self) -> bool {
        matches!(self, Model::Componentwise | Model::Tosa)
    }
}

// `Display` and `From<Preset>` for `Model` are in preset.rs: the display names a matching preset.
