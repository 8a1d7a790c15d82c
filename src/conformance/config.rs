//! The battery's settings: how many random problems, the seed, and the tolerance an output
//! is held to.

use crate::engine::{Algorithm, ConvEngine};
use crate::problem::Problem;
use crate::testing::problems::Element;
use crate::testing::{DEFAULT_SEED, Kind, Violation};
use crate::tolerance::Model;

/// How close an engine's output must be to the correctly rounded result.
#[derive(Clone, Debug, Default)]
pub enum Tolerance<T> {
    /// The model of the algorithm the engine declares for each problem
    /// ([`ConvEngine::algorithm`], [`crate::engine::Algorithm::model`]): direct summation
    /// unless the engine says otherwise. A declaration that cannot compute the problem fails
    /// as [`Kind::Misdeclared`]. A transposed engine states its algorithm for the
    /// zero-stuffed direct form ([`crate::engine::ConvTransposeEngine::algorithm`]), where
    /// its model is evaluated; direct summation is judged by the scatter's own sums.
    #[default]
    Declared,
    /// One model for every problem.
    Model(Model),
    /// A model derived from each problem (e.g. a normwise bound that depends on the data).
    PerProblem(fn(&Problem<'_, T>) -> Model),
}

impl<T: Element> Tolerance<T> {
    /// The model `engine`'s output on `p` is held to.
    pub(crate) fn model(
        &self,
        engine: &dyn ConvEngine<T>,
        p: &Problem<'_, T>,
    ) -> Result<Model, Violation> {
        match self {
            Tolerance::Declared => declared_model(&engine.algorithm(p), p),
            Tolerance::Model(m) => Ok(m.clone()),
            Tolerance::PerProblem(f) => Ok(f(p)),
        }
    }

    /// [`Tolerance::model`], counting the declared algorithm in the coverage.
    pub(crate) fn model_counted(
        &self,
        engine: &dyn ConvEngine<T>,
        p: &Problem<'_, T>,
    ) -> Result<Model, Violation> {
        match self {
            Tolerance::Declared => {
                let algorithm = engine.algorithm(p);
                super::tally::algorithm(&algorithm.name());
                declared_model(&algorithm, p)
            }
            _ => self.model(engine, p),
        }
    }
}

fn declared_model<T: Element>(
    algorithm: &Algorithm,
    p: &Problem<'_, T>,
) -> Result<Model, Violation> {
    algorithm.model(p).map_err(|e| {
        Violation::new(
            Kind::Misdeclared,
            format!(
                "the engine declares {} for this problem, which cannot compute it: {e}",
                algorithm.name()
            ),
        )
    })
}

/// How [`check`](super::check) runs.
#[derive(Clone, Debug)]
pub struct Config<T> {
    /// Random problems of [`Section::Oracle`](super::Section::Oracle); each metamorphic
    /// relation draws a quarter as many (at least 16).
    pub cases: u32,
    /// The seed of every random draw (the same seed, the same problems).
    pub seed: u64,
    /// The tolerance (default: [`Tolerance::Declared`], the model of the engine's declared
    /// algorithm).
    pub tolerance: Tolerance<T>,
    /// Distinct failures reported per section (default 8); further ones are counted as
    /// repeats of the last.
    pub max_failures: usize,
}

impl<T> Default for Config<T> {
    fn default() -> Self {
        Config {
            cases: 256,
            seed: DEFAULT_SEED,
            tolerance: Tolerance::Declared,
            max_failures: 8,
        }
    }
}
