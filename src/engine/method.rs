//! Method choice: [`Method::{Direct, Fft, OverlapAdd, Auto}`](Method) and the cost model that
//! `Auto` (and overlap-add's block choice) use.

use super::ConvEngine;
use super::direct::{DirectElement, DirectEngine};
use super::fft::{FftElement, FftEngine};
use crate::error::ConvError;
use crate::reference::Problem;
use ndarray::ArrayD;
use std::fmt;
use std::str::FromStr;

/// Predicted running times on this machine, in seconds: a linear model whose coefficients
/// were fitted to measured times (see [`CostModel::default`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostModel {
    /// Seconds per `m log2 n` of one N-D transform of total length `n` holding `m` complex
    /// values (`m = n / 2` for real data).
    pub fft_nlogn: f64,
    /// Seconds of fixed cost per N-D transform (per block: setup, placing, bookkeeping).
    pub fft_transform: f64,
    /// Seconds per complex multiply-add of spectra and per output value written.
    pub fft_elementwise: f64,
    /// Seconds of fixed cost per 1-D transform row (call overhead).
    pub fft_row: f64,
    /// Seconds per multiply-add of the direct engine.
    pub direct_mac: f64,
    /// Seconds per output value of the direct engine.
    pub direct_output: f64,
}

impl Default for CostModel {
    /// Fitted on the development machine (2-core Xeon with AVX2/FMA, idle) by
    /// `cargo bench --bench fit_cost_model`: 104 FFT and overlap-add timings (1-D signals of
    /// 1e3..1e6 samples with 4..65536 taps, 2-D images of 32x32..512x512 with 3x3..63x63
    /// kernels, channels, 3-D) and 45 direct timings, fitted by non-negative least squares in
    /// relative error. The worst prediction was off by a factor 2.39 (FFT) and 5.14 (direct,
    /// whose large-kernel loops run below their small-kernel speed).
    fn default() -> Self {
        CostModel {
            fft_nlogn: 5.483e-10,
            fft_transform: 1.837e-7,
            fft_elementwise: 9.111e-10,
            fft_row: 1.598e-8,
            direct_mac: 1.264e-10,
            direct_output: 6.470e-10,
        }
    }
}

/// What the FFT-path cost depends on.
#[derive(Clone, Debug)]
pub struct FftShape {
    /// Transform length per spatial axis.
    pub lengths: Vec<usize>,
    /// Real data (r2c / c2r on the last axis).
    pub real: bool,
    /// Number of overlap-add blocks (1 for whole transforms).
    pub blocks: f64,
    /// Samples in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Input channels per group.
    pub cg: usize,
    /// Output positions per (sample, output channel).
    pub outputs: f64,
}

impl CostModel {
    /// The four FFT coefficients, in the order of [`CostModel::fft_features`].
    pub fn fft_coefficients(&self) -> [f64; 4] {
        [
            self.fft_nlogn,
            self.fft_transform,
            self.fft_elementwise,
            self.fft_row,
        ]
    }

    /// The two direct coefficients, in the order of [`CostModel::direct_features`].
    pub fn direct_coefficients(&self) -> [f64; 2] {
        [self.direct_mac, self.direct_output]
    }

    /// What an FFT-engine call costs, per coefficient: `(sum of m log2 n, number of N-D
    /// transforms, elementwise products and outputs, 1-D transform rows)` over all its
    /// transforms.
    pub fn fft_features(s: &FftShape) -> [f64; 4] {
        let n: f64 = s.lengths.iter().map(|&l| l as f64).product();
        let m = if s.real { n / 2.0 } else { n };
        let rows: f64 = s.lengths.iter().map(|&l| n / l as f64).sum();
        let (batch, c_in, c_out, cg) = (s.batch as f64, s.c_in as f64, s.c_out as f64, s.cg as f64);
        // Kernel transforms once per call; per block, every input channel forward and every
        // output channel inverse.
        let transforms = c_out * cg + batch * s.blocks * (c_in + c_out);
        let elementwise = batch * s.blocks * c_out * cg * m + batch * c_out * s.outputs;
        [
            transforms * m * n.log2().max(1.0),
            transforms,
            elementwise,
            transforms * rows,
        ]
    }

    /// What a direct-engine call costs, per coefficient: `(multiply-adds, outputs)`.
    pub fn direct_features(macs: f64, outputs: f64) -> [f64; 2] {
        [macs, outputs]
    }

    /// Predicted seconds of an FFT-engine call.
    pub fn fft_seconds(&self, s: &FftShape) -> f64 {
        dot(&self.fft_coefficients(), &Self::fft_features(s))
    }

    /// Predicted seconds of a direct-engine call with `macs` multiply-adds and `outputs`
    /// output values.
    pub fn direct_seconds(&self, macs: f64, outputs: f64) -> f64 {
        dot(
            &self.direct_coefficients(),
            &Self::direct_features(macs, outputs),
        )
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

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
    /// ([`crate::Limits::max_work`]) bounds direct summation only, so `Auto` does not choose
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
}
