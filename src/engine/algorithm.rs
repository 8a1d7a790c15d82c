//! How an engine computes a problem ([`Algorithm`]), so that a judge holds its output to the
//! error model of that algorithm rather than to one model for every engine.

use super::fft::{FftElement, declared_model};
use crate::problem::{ConvError, Problem};
use crate::scalar::Ring;
use crate::tolerance::fft::TransformPrecision;
use crate::tolerance::winograd::WinogradTile;
use crate::tolerance::{Float, Model};

/// How an engine computes one problem ([`super::ConvEngine::algorithm`]), and through
/// [`Algorithm::model`] the error model its output is held to.
///
/// | algorithm | model | sound for |
/// |---|---|---|
/// | [`Algorithm::Direct`] | [`Model::Componentwise`] | the taps' products summed in the element type or wider, in any order, with or without FMA |
/// | [`Algorithm::Fft`] | [`Model::Normwise`], evaluated at the engine's own transform lengths and precision ([`declared_model`]) | the convolution theorem: transforms of the padded input and the kernel, products summed over channels, one inverse transform |
/// | [`Algorithm::Winograd`] | [`Model::Elementwise`], per element from the tile ([`WinogradTile::bounds`]) | Winograd / Toom-Cook tiles with the transforms of the tile's points |
/// | [`Algorithm::Model`] | the model given | anything else, with its own analysis |
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Algorithm {
    /// Sums of the products `w x` (and the bias).
    Direct,
    /// The convolution theorem.
    Fft {
        /// The precision of the transforms and everything after them.
        precision: TransformPrecision,
        /// The transform length on each spatial axis (the product is the `N` of the bound).
        lengths: Vec<usize>,
        /// Overlap-add: the most blocks summed into one output (1: one transform per axis).
        overlap: usize,
    },
    /// Winograd's minimal filtering, tile by tile.
    Winograd(WinogradTile),
    /// An explicit model.
    Model(Model),
}

impl Algorithm {
    /// One transform per axis of the given lengths, in `precision`.
    pub fn fft(precision: TransformPrecision, lengths: Vec<usize>) -> Self {
        Algorithm::Fft {
            precision,
            lengths,
            overlap: 1,
        }
    }

    /// A short name for reports (`direct`, `fft`, `winograd F(4, 3)`, `model`).
    pub fn name(&self) -> String {
        match self {
            Algorithm::Direct => "direct".into(),
            Algorithm::Fft { .. } => "fft".into(),
            Algorithm::Winograd(t) => format!("winograd F({}, {})", t.outputs(), t.taps()),
            Algorithm::Model(_) => "model".into(),
        }
    }

    /// The error model of this algorithm on `p`. Errors: those of [`Problem::validate`], and
    /// [`ConvError::Unsupported`] when the declaration cannot compute `p` (FFT lengths that
    /// cannot hold the padded input, a tile whose kernel size, stride or dilation differs).
    pub fn model<T>(&self, p: &Problem<'_, T>) -> Result<Model, ConvError>
    where
        T: FftElement + Float + Ring,
    {
        match self {
            Algorithm::Direct => Ok(Model::Componentwise),
            Algorithm::Fft {
                precision,
                lengths,
                overlap,
            } => declared_model(p, *precision, lengths, *overlap),
            Algorithm::Winograd(tile) => Ok(Model::Elementwise {
                bounds: tile.bounds(p)?,
            }),
            Algorithm::Model(m) => Ok(m.clone()),
        }
    }
}
