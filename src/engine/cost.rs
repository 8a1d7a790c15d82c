//! The fitted cost model: predicted seconds of a direct and an FFT evaluation from a
//! problem's shape, which [`super::method::Method::Auto`] and the FFT engine's overlap-add block
//! choice use.

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
