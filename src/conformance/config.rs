//! The battery's settings: how many random problems, the seed, and the tolerance an output
//! is held to.

use crate::problem::Problem;
use crate::testing::DEFAULT_SEED;
use crate::tolerance::Model;

/// How close an engine's output must be to the correctly rounded result.
#[derive(Clone, Debug)]
pub enum Tolerance<T> {
    /// One model for every problem.
    Model(Model),
    /// A model derived from each problem (e.g. a normwise bound that depends on the data).
    PerProblem(fn(&Problem<'_, T>) -> Model),
}

impl<T> Tolerance<T> {
    pub(crate) fn model(&self, p: &Problem<'_, T>) -> Model {
        match self {
            Tolerance::Model(m) => m.clone(),
            Tolerance::PerProblem(f) => f(p),
        }
    }
}

/// How [`check`](super::check) runs.
#[derive(Clone, Debug)]
pub struct Config<T> {
    /// Random problems of [`Section::Oracle`](super::Section::Oracle); each metamorphic
    /// relation draws a quarter as many (at least 16).
    pub cases: u32,
    /// The seed of every random draw (the same seed, the same problems).
    pub seed: u64,
    /// The tolerance (default: [`Model::Componentwise`]).
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
            tolerance: Tolerance::Model(Model::Componentwise),
            max_failures: 8,
        }
    }
}
