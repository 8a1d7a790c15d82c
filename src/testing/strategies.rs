//! Random convolution problems for your own properties: the generators the conformance
//! battery draws from, as proptest strategies and (feature `quickcheck`) as quickcheck
//! `Arbitrary` types.
//!
//! Shapes are drawn first and the data second, at the length the shapes fix, so shrinking a
//! failing problem keeps it well formed: proptest shrinks the shapes and the values, and the
//! quickcheck types shrink by zeroing values (and dropping the bias) with the shapes kept.
//!
//! | generator | problems |
//! |---|---|
//! | [`problems`] | [`Case`]s inside a [`Capabilities`]: ranks 1 to 3, the padding rules, boundaries and flips it lists, stride, dilation, groups, bias; uniform, cancelling and twelve-decade data, NaN and infinities when `special_values` |
//! | [`transpose_problems`] | [`TransposeCase`]s inside a [`TransposeCapabilities`] (explicit pads, `SAME_*`, `output_shape`, output padding) |
//!
//! ```
//! use conv_oracle::tolerance::{Model};
//! use conv_oracle::oracle::{judge};
//! use conv_oracle::conformance::Capabilities;
//! use conv_oracle::testing::strategies::problems;
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! // Inside a test of yours: your engine against the oracle on 16 drawn problems.
//! let mut runner = TestRunner::new(Config { cases: 16, ..Config::default() });
//! runner
//!     .run(&problems::<f64>(&Capabilities::deep_learning()), |case| {
//!         case.with(|p| {
//!             if p.validate().is_ok() {
//!                 let got = conv_oracle::conv(p).expect("valid"); // your engine here
//!                 let report = judge(p, got.view(), &Model::Componentwise).expect("judged");
//!                 prop_assert!(report.passed(), "{}", report);
//!             }
//!             Ok(())
//!         })
//!     })
//!     .expect("every drawn problem passes");
//! ```

pub use super::problems::Element;
use super::problems::cases;
pub use super::transpose_problems::TransposeCase;
use super::transpose_problems::cases as transpose_cases;
use crate::engine::{Capabilities, TransposeCapabilities};
pub use crate::testing::cases::Case;
use proptest::prelude::*;

/// Problems inside `caps` (an empty strategy is impossible: with no rank, rule, boundary or
/// flip to draw, the problems are the reference's, [`Capabilities::all`]).
pub fn problems<T: Element>(caps: &Capabilities) -> BoxedStrategy<Case<T>> {
    cases::<T>(caps, caps.special_values)
        .or_else(|| cases::<T>(&Capabilities::all(), caps.special_values))
        .unwrap_or_else(|| Just(empty_case()).boxed())
}

/// Transposed problems inside `caps` (as [`problems`]).
pub fn transpose_problems<T: Element>(
    caps: &TransposeCapabilities,
) -> BoxedStrategy<TransposeCase<T>> {
    transpose_cases::<T>(caps, caps.special_values)
        .or_else(|| transpose_cases::<T>(&TransposeCapabilities::all(), caps.special_values))
        .unwrap_or_else(|| {
            let c = empty_case::<T>();
            Just(TransposeCase {
                input: c.input,
                weight: c.weight,
                bias: None,
                spec: Default::default(),
            })
            .boxed()
        })
}

fn empty_case<T: Element>() -> Case<T> {
    let one = |shape: &[usize]| {
        crate::testing::cases::Arr(ndarray::ArrayD::from_elem(
            ndarray::IxDyn(shape),
            T::from_f64(1.0),
        ))
    };
    Case {
        input: one(&[1, 1, 1]),
        weight: one(&[1, 1, 1]),
        bias: None,
        spec: crate::problem::ConvSpec::new(),
    }
}

/// quickcheck `Arbitrary` problems (feature `quickcheck`).
#[cfg(feature = "quickcheck")]
pub mod arbitrary {
    use super::*;
    use proptest::strategy::ValueTree;
    use quickcheck::{Arbitrary, Gen};

    /// A problem of [`problems`] with [`Capabilities::all`] and finite data.
    #[derive(Clone, Debug)]
    pub struct AnyProblem<T>(pub Case<T>);

    /// A transposed problem of [`transpose_problems`] with
    /// [`TransposeCapabilities::all`] and finite data.
    #[derive(Clone, Debug)]
    pub struct AnyTransposeProblem<T>(pub TransposeCase<T>);

    /// One draw of `strategy`, seeded from `g`.
    fn draw<V: std::fmt::Debug>(strategy: BoxedStrategy<V>, g: &mut Gen) -> Option<V> {
        let mut runner = crate::testing::runner(1, u64::arbitrary(g));
        strategy.new_tree(&mut runner).ok().map(|t| t.current())
    }

    /// Shrinks: the bias dropped, then each nonzero value (input first) set to zero.
    fn shrink_data<T: Element>(
        input: &ndarray::ArrayD<T>,
        weight: &ndarray::ArrayD<T>,
        bias: bool,
    ) -> Vec<(ndarray::ArrayD<T>, ndarray::ArrayD<T>, bool)> {
        let zero = T::from_f64(0.0);
        let mut out = Vec::new();
        if bias {
            out.push((input.clone(), weight.clone(), false));
        }
        for (i, v) in input.iter().enumerate() {
            if *v != zero {
                let mut x = input.clone();
                if let Some(s) = x.iter_mut().nth(i) {
                    *s = zero;
                }
                out.push((x, weight.clone(), bias));
            }
        }
        for (i, v) in weight.iter().enumerate() {
            if *v != zero {
                let mut w = weight.clone();
                if let Some(s) = w.iter_mut().nth(i) {
                    *s = zero;
                }
                out.push((input.clone(), w, bias));
            }
        }
        out
    }

    impl<T: Element + Send + Sync> Arbitrary for AnyProblem<T> {
        fn arbitrary(g: &mut Gen) -> Self {
            let caps = Capabilities {
                special_values: false,
                ..Capabilities::all()
            };
            AnyProblem(draw(problems::<T>(&caps), g).unwrap_or_else(empty_case))
        }

        fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
            let c = self.0.clone();
            let steps = shrink_data(&c.input.0, &c.weight.0, c.bias.is_some());
            Box::new(steps.into_iter().map(move |(x, w, b)| {
                AnyProblem(Case {
                    input: crate::testing::cases::Arr(x),
                    weight: crate::testing::cases::Arr(w),
                    bias: if b { c.bias.clone() } else { None },
                    spec: c.spec.clone(),
                })
            }))
        }
    }

    impl<T: Element + Send + Sync> Arbitrary for AnyTransposeProblem<T> {
        fn arbitrary(g: &mut Gen) -> Self {
            let caps = TransposeCapabilities {
                special_values: false,
                ..TransposeCapabilities::all()
            };
            let c = draw(transpose_problems::<T>(&caps), g).unwrap_or_else(|| {
                let e = empty_case::<T>();
                TransposeCase {
                    input: e.input,
                    weight: e.weight,
                    bias: None,
                    spec: Default::default(),
                }
            });
            AnyTransposeProblem(c)
        }

        fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
            let c = self.0.clone();
            let steps = shrink_data(&c.input.0, &c.weight.0, c.bias.is_some());
            Box::new(steps.into_iter().map(move |(x, w, b)| {
                AnyTransposeProblem(TransposeCase {
                    input: crate::testing::cases::Arr(x),
                    weight: crate::testing::cases::Arr(w),
                    bias: if b { c.bias.clone() } else { None },
                    spec: c.spec.clone(),
                })
            }))
        }
    }
}
