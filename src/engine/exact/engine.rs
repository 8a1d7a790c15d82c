//! [`ExactEngine`], its options and its [`Mutation`]s, and the two-tier run for each
//! element type ([`ExactElement`]): the certified fast sums, then the exact accumulator.

use super::fast::tiny_products;
use super::{ComplexDd, ComplexWide, DdKernel, Exact, Superacc, Walker, WideKernel};
use crate::engine::ConvEngine;
use crate::engine::direct::{self, Element, Kernel, Run};
use crate::problem::ConvError;
use crate::problem::Problem;
use ndarray::ArrayD;
use num_complex::Complex;

/// Deliberate bugs, for tests that show the properties can fail. Not for use.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The correct engine.
    #[default]
    None,
    /// Trusts the fast sum without its certificate (double rounding on hard cases).
    #[cfg(feature = "fault-injection")]
    Uncertified,
    /// The exact tier rounds ties away from zero instead of to even.
    #[cfg(feature = "fault-injection")]
    TiesAway,
    /// The exact tier truncates (rounds toward zero).
    #[cfg(feature = "fault-injection")]
    Truncate,
    /// The `f32` block kernel gives every channel of a block the first channel's weights
    /// (its blocks run in every build with this mutation).
    #[cfg(feature = "fault-injection")]
    BlockWeights,
}

crate::engine::mutation_predicates! {
    uncertified => Uncertified,
    block_weights => BlockWeights,
}

/// The correctly rounded engine (see the module docs; docs/numerics.md section 9). Plain
/// `Copy` data.
#[derive(Clone, Copy, Debug)]
pub struct ExactEngine {
    threads: usize,
    fast: bool,
    baseline_only: bool,
    mutation: Mutation,
}

impl Default for ExactEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// How many outputs each tier produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExactStats {
    /// Outputs computed.
    pub outputs: usize,
    /// Outputs the certified fast sum produced.
    pub certified: usize,
    /// Outputs recomputed with the exact accumulator.
    pub exact: usize,
}

impl ExactEngine {
    /// The engine, using every thread the machine offers
    /// (`std::thread::available_parallelism`).
    pub fn new() -> Self {
        ExactEngine {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            fast: true,
            baseline_only: false,
            mutation: Mutation::None,
        }
    }

    /// The engine splitting its outputs over `threads` threads (`0` or `1`: the calling
    /// thread only). The results do not depend on it.
    #[must_use]
    pub fn threads(self, threads: usize) -> Self {
        ExactEngine {
            threads: threads.max(1),
            ..self
        }
    }

    /// The engine computing every output with the exact accumulator (no fast tier). Slower;
    /// the same results. For tests and for timing the tiers.
    #[must_use]
    pub fn fallback_only(self) -> Self {
        ExactEngine {
            fast: false,
            ..self
        }
    }

    /// The engine that never takes the AVX2/FMA build of the fast tier (tests only: the
    /// results are the same).
    #[doc(hidden)]
    #[must_use]
    pub fn baseline_only(self) -> Self {
        ExactEngine {
            baseline_only: true,
            ..self
        }
    }

    #[cfg(feature = "fault-injection")]
    /// An engine with a deliberate bug (tests only).
    #[doc(hidden)]
    pub fn with_mutation(mutation: Mutation) -> Self {
        ExactEngine {
            mutation,
            ..Self::new()
        }
    }

    /// The threads this engine uses.
    pub fn thread_count(&self) -> usize {
        self.threads
    }

    /// Computes the problem and reports how many outputs each tier produced. Runs every check
    /// of [`Problem::validate`] first (same errors as the reference).
    pub fn conv_with_stats<T: ExactElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<(ArrayD<T>, ExactStats), ConvError> {
        T::run(self, p)
    }
}

impl<T: ExactElement> ConvEngine<T> for ExactEngine {
    fn name(&self) -> &str {
        match self.mutation {
            Mutation::None => "exact",
            #[cfg(feature = "fault-injection")]
            Mutation::Uncertified => "exact-uncertified",
            #[cfg(feature = "fault-injection")]
            Mutation::TiesAway => "exact-ties-away",
            #[cfg(feature = "fault-injection")]
            Mutation::Truncate => "exact-truncate",
            #[cfg(feature = "fault-injection")]
            Mutation::BlockWeights => "exact-block-weights",
        }
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        T::run(self, p).map(|(y, _)| y)
    }
    /// Correctly rounded: [`crate::tolerance::Model::Exact`].
    fn algorithm(&self, _: &Problem<'_, T>) -> crate::engine::Algorithm {
        crate::engine::Algorithm::Model(crate::tolerance::Model::Exact)
    }
}

/// The element types the exact engine accepts: `f32`, `f64`, `Complex<f32>`,
/// `Complex<f64>` (sealed).
pub trait ExactElement: sealed::Sealed + Element + Exact {
    #[doc(hidden)]
    fn run(e: &ExactEngine, p: &Problem<'_, Self>)
    -> Result<(ArrayD<Self>, ExactStats), ConvError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for num_complex::Complex<f32> {}
    impl Sealed for num_complex::Complex<f64> {}
}

/// Runs both tiers: the fast kernel over the direct layout, then the exact accumulator for
/// every output the kernel did not certify (or for all, without the fast tier).
fn run_tiers<K, T>(
    e: &ExactEngine,
    p: &Problem<'_, T>,
    make: impl FnOnce(&Problem<'_, T>) -> K,
) -> Result<(ArrayD<T>, ExactStats), ConvError>
where
    T: Element + Exact,
    K: Kernel<In = T, Out = (T, bool)>,
{
    let (geo, l) = direct::prepare(p, direct::Mutation::None)?;
    let outputs =
        p.input.shape()[0] * p.weight.shape()[0] * geo.output_shape().iter().product::<usize>();
    let mut out: Vec<(T, bool)> = match (&l, e.fast) {
        (Ok(l), true) => {
            let k = make(p);
            let run = Run {
                mutation: direct::Mutation::None,
                baseline_only: e.baseline_only,
                threads: e.threads,
            };
            direct::compute(&k, p, &geo, l, run)
        }
        _ => vec![(T::default(), false); outputs],
    };
    if e.mutation.uncertified() {
        for o in &mut out {
            o.1 = true;
        }
    }
    let pending: Vec<usize> = (0..out.len()).filter(|&i| !out[i].1).collect();
    let stats = ExactStats {
        outputs: out.len(),
        certified: out.len() - pending.len(),
        exact: pending.len(),
    };
    let threads = e.threads.clamp(1, pending.len().max(1));
    let rounding = e.mutation;
    let walker = Walker::new(p, &geo);
    let values: Vec<T> = if threads == 1 {
        let mut acc = Superacc::new();
        pending
            .iter()
            .map(|&i| T::exact(&walker, i, &mut acc, rounding))
            .collect()
    } else {
        let per = pending.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = pending
                .chunks(per)
                .map(|part| {
                    let walker = &walker;
                    scope.spawn(move || {
                        let mut acc = Superacc::new();
                        part.iter()
                            .map(|&i| T::exact(walker, i, &mut acc, rounding))
                            .collect::<Vec<T>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    for (&i, v) in pending.iter().zip(values) {
        out[i].0 = v;
    }
    let y = direct::output_array(p, &geo, out.into_iter().map(|(v, _)| v).collect())?;
    Ok((y, stats))
}

impl ExactElement for f64 {
    fn run(e: &ExactEngine, p: &Problem<'_, f64>) -> Result<(ArrayD<f64>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            DdKernel::new(products(p), tiny_products(p, |v| [v, 0.0]))
        })
    }
}

impl ExactElement for f32 {
    fn run(e: &ExactEngine, p: &Problem<'_, f32>) -> Result<(ArrayD<f32>, ExactStats), ConvError> {
        let simd = simd_available(e);
        run_tiers(e, p, |p| {
            WideKernel::new(
                products(p) + usize::from(p.bias.is_some()),
                simd,
                e.mutation,
            )
        })
    }
}

impl ExactElement for Complex<f64> {
    fn run(
        e: &ExactEngine,
        p: &Problem<'_, Complex<f64>>,
    ) -> Result<(ArrayD<Complex<f64>>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            let tiny = tiny_products(p, |v| [v.re, v.im]);
            ComplexDd(DdKernel::new(2 * products(p), tiny))
        })
    }
}

impl ExactElement for Complex<f32> {
    fn run(
        e: &ExactEngine,
        p: &Problem<'_, Complex<f32>>,
    ) -> Result<(ArrayD<Complex<f32>>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            ComplexWide(WideKernel::new(
                2 * products(p) + usize::from(p.bias.is_some()),
                false,
                Mutation::None,
            ))
        })
    }
}

/// Products per output: `C/G` channels times the kernel's taps.
fn products<T>(p: &Problem<'_, T>) -> usize {
    p.weight.shape()[1..].iter().product()
}

/// Whether the AVX-512 kernels may run: the CPU has AVX-512F, and the engine was not
/// restricted to the baseline build.
fn simd_available(e: &ExactEngine) -> bool {
    #[cfg(target_arch = "x86_64")]
    if !e.baseline_only {
        return std::arch::is_x86_feature_detected!("avx512f");
    }
    let _ = e;
    false
}
