//! Method choice: [`Method::{Direct, Fft, OverlapAdd, Auto}`](Method) and the cost model that
//! `Auto` (and overlap-add's block choice) use.

use super::ConvEngine;
pub use super::cost::{CostModel, FftShape};
use super::direct::{DirectElement, DirectEngine};
use super::fft::{FftElement, FftEngine};
use crate::problem::ConvError;
use crate::problem::Problem;
use ndarray::ArrayD;
use std::fmt;
use std::str::FromStr;

/// How a convolution is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Sums of products ([`DirectEngine`]).
    Direct,
    /// Whole-signal transforms ([`FftEngine::new`]).
    Fft,
    /// Overlap-add transforms ([`FftEngine::overlap_add`]).
    OverlapAdd,
    /// Whichever of the three the [`CostModel`] predicts to be fastest.
    Auto,
}

impl Method {
    /// Every method, in the order of [`Method::name`]'s table.
    pub const ALL: [Method; 4] = [
        Method::Direct,
        Method::Fft,
        Method::OverlapAdd,
        Method::Auto,
    ];

    /// The name used by the CLI and in printed plans.
    pub fn name(self) -> &'static str {
        match self {
            Method::Direct => "direct",
            Method::Fft => "fft",
            Method::OverlapAdd => "overlap-add",
            Method::Auto => "auto",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown method {s:?} (direct, fft, overlap-add, auto)"))
    }
}

/// What [`MethodEngine::plan`] decides: a printable value.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodPlan {
    /// The method asked for.
    pub requested: Method,
    /// The method that runs (never `Auto`).
    pub chosen: Method,
    /// The chosen engine's own plan, printed (its path, or why it uses the reference).
    pub detail: String,
    /// Predicted seconds of each concrete method, where it would use its fast path.
    pub predicted: Vec<(Method, f64)>,
}

impl fmt::Display for MethodPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requested == self.chosen {
            write!(f, "{}: {}", self.chosen, self.detail)?;
        } else {
            write!(f, "{} -> {}: {}", self.requested, self.chosen, self.detail)?;
        }
        if !self.predicted.is_empty() {
            f.write_str("; predicted")?;
            for (m, t) in &self.predicted {
                write!(f, " {m} {:.3} ms", t * 1e3)?;
            }
        }
        Ok(())
    }
}

/// An engine that runs the [`Method`] it was built with (`Auto`: chosen per problem).
pub struct MethodEngine {
    method: Method,
    cost: CostModel,
    direct: DirectEngine,
    fft: FftEngine,
    overlap_add: FftEngine,
}

impl fmt::Debug for MethodEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodEngine")
            .field("method", &self.method)
            .field("cost", &self.cost)
            .finish()
    }
}

impl MethodEngine {
    /// An engine for `method` with the default [`CostModel`].
    pub fn new(method: Method) -> Self {
        Self::with_cost_model(method, CostModel::default())
    }

    /// An engine for `method` with a given cost model.
    pub fn with_cost_model(method: Method, cost: CostModel) -> Self {
        MethodEngine {
            method,
            cost,
            direct: DirectEngine::new(),
            fft: FftEngine::new().cost_model(cost),
            overlap_add: FftEngine::overlap_add().cost_model(cost),
        }
    }

    /// The method this engine was built with.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Which method runs for `p`, with the chosen engine's plan and the predicted times.
    /// Same errors as [`Problem::validate_geometry`]: the multiply-add limit
    /// ([`crate::problem::Limits::max_work`]) bounds direct summation only, so `Auto` does not choose
    /// `Direct` beyond it, and `Direct` (or a transform engine that falls back to the
    /// reference) reports it.
    pub fn plan<T: FftElement + DirectElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<MethodPlan, ConvError> {
        // The transform methods are not bound by the multiply-add limit; direct is.
        let geo = p.validate_geometry()?;
        let direct_allowed = p.validate().is_ok();
        let mut predicted = Vec::new();
        if let Some(t) = self.fft.predicted_seconds(p)? {
            predicted.push((Method::Fft, t));
        }
        if let Some(t) = self.overlap_add.predicted_seconds(p)? {
            predicted.push((Method::OverlapAdd, t));
        }
        // The direct engine sums every tap for every output (padding materialised).
        let outputs = p.input.shape()[0] as f64
            * p.weight.shape()[0] as f64
            * geo.axes.iter().map(|a| a.output as f64).product::<f64>();
        let taps: f64 = p.weight.shape()[1..].iter().map(|&k| k as f64).product();
        if direct_allowed {
            predicted.insert(
                0,
                (
                    Method::Direct,
                    self.cost.direct_seconds(outputs * taps, outputs),
                ),
            );
        }
        let chosen = match self.method {
            Method::Auto => predicted
                .iter()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(Method::Direct, |&(m, _)| m),
            m => m,
        };
        let detail = match chosen {
            Method::Direct => self.direct.plan(p)?.to_string(),
            Method::Fft => self.fft.plan(p)?.to_string(),
            _ => self.overlap_add.plan(p)?.to_string(),
        };
        Ok(MethodPlan {
            requested: self.method,
            chosen,
            detail,
            predicted,
        })
    }
}

impl<T: FftElement + DirectElement> ConvEngine<T> for MethodEngine {
    fn name(&self) -> &str {
        self.method.name()
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        let chosen = match self.method {
            Method::Auto => self.plan(p)?.chosen,
            m => m,
        };
        match chosen {
            Method::Direct => self.direct.conv(p),
            Method::Fft => self.fft.conv(p),
            _ => self.overlap_add.conv(p),
        }
    }
    fn algorithm(&self, p: &Problem<'_, T>) -> super::Algorithm {
        let chosen = match self.method {
            Method::Auto => match self.plan(p) {
                Ok(plan) => plan.chosen,
                Err(_) => return super::Algorithm::Direct,
            },
            m => m,
        };
        match chosen {
            Method::Direct => super::Algorithm::Direct,
            Method::Fft => self.fft.algorithm(p),
            _ => self.overlap_add.algorithm(p),
        }
    }
}
