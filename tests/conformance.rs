//! The conformance battery used as a user would: a convolution engine written here, outside
//! the crate (its own padding, boundary and index code), implements `ConvEngine` and is
//! checked with `conformance::check` and the `conv_conformance_tests!` macro. Planted bugs in
//! it, each one seen in the wild or a classic slip, must each be rejected with a small
//! counterexample; every built-in engine must pass.

mod common;
use common::{Num, fft_model};
use conv_oracle::conformance::{
    AxisSetting, BoundaryRule, Capabilities, Config, ConformanceReport, LargeKernel, PaddingRule,
    Pads, Peer, ProblemShape, Section, Tolerance, check, check_sections,
};
use conv_oracle::engine::dense::DenseEngine;
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::engine::fft::FftEngine;
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::testing::Kind;
use conv_oracle::tolerance::Model;
use conv_oracle::{Boundary, ConvError, Flip, Padding, Problem};
use ndarray::{ArrayD, IxDyn};

// ---------------------------------------------------------------- a user's engine

/// A slip planted in [`Toy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    /// True convolution computed as cross-correlation (the kernel is never flipped).
    MissingFlip,
    /// "same" padding split the wrong way when the total is odd (even kernels).
    SameOffByOne,
    /// Reflect (numpy `reflect`, edge not repeated) and symmetric (edge repeated) swapped.
    ReflectSymmetricSwapped,
    /// Circular and reflect pads wider than the input wrap or mirror only once, then clamp
    /// (ndarray-conv 0.6.1).
    WidePadsWrapOnce,
    /// Every group reads the first group's input channels (burn issue 2286).
    GroupChannels,
    /// An NCHW input is read as NHWC when `C == H == W` (candle issue 3404).
    NchwAsNhwcWhenSquare,
    /// Dilation applied to the input positions instead of the kernel taps.
    DilationOnInput,
    /// Stride applied before the padding is subtracted (the pad is scaled by the stride).
    StrideBeforePadding,
    /// The bias of the next output channel.
    BiasWrongChannel,
    /// float64 data accumulated in float32.
    F32Accumulation,
}

const BUGS: [Bug; 10] = [
    Bug::MissingFlip,
    Bug::SameOffByOne,
    Bug::ReflectSymmetricSwapped,
    Bug::WidePadsWrapOnce,
    Bug::GroupChannels,
    Bug::NchwAsNhwcWhenSquare,
    Bug::DilationOnInput,
    Bug::StrideBeforePadding,
    Bug::BiasWrongChannel,
    Bug::F32Accumulation,
];

/// A plain N-D convolution written from the definition, with an optional bug.
#[derive(Clone, Copy, Debug, Default)]
struct Toy {
    bug: Option<Bug>,
}

impl Toy {
    fn has(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    /// The input index a padded position `q` (may be negative or past the end) reads, or
    /// `None` for the boundary constant.
    fn source<T>(&self, boundary: &Boundary<T>, q: i64, n: usize) -> Option<usize> {
        let n = n as i64;
        if (0..n).contains(&q) {
            return Some(q as usize);
        }
        let swap = self.has(Bug::ReflectSymmetricSwapped);
        let once = self.has(Bug::WidePadsWrapOnce);
        let (reflect, symmetric) = match boundary {
            Boundary::Zeros | Boundary::Constant(_) => return None,
            Boundary::Replicate => return Some(q.clamp(0, n - 1) as usize),
            Boundary::Circular if once => {
                return Some((if q < 0 { q + n } else { q - n }).clamp(0, n - 1) as usize);
            }
            Boundary::Circular => return Some(q.rem_euclid(n) as usize),
            Boundary::Reflect => (!swap, swap),
            Boundary::Symmetric => (swap, !swap),
        };
        let i = if reflect {
            if n == 1 {
                0
            } else if once {
                (if q < 0 { -q } else { 2 * (n - 1) - q }).clamp(0, n - 1)
            } else {
                let m = q.rem_euclid(2 * (n - 1));
                if m < n { m } else { 2 * (n - 1) - m }
            }
        } else {
            debug_assert!(symmetric);
            if once {
                (if q < 0 { -q - 1 } else { 2 * n - 1 - q }).clamp(0, n - 1)
            } else {
                let m = q.rem_euclid(2 * n);
                if m < n { m } else { 2 * n - 1 - m }
            }
        };
        Some(i as usize)
    }

    /// `(lo, hi)` pads of one axis.
    fn pads(
        &self,
        padding: &Padding,
        rank: usize,
        axis: usize,
        n: usize,
        eff: usize,
        s: usize,
    ) -> Result<(usize, usize), ConvError> {
        Ok(match padding {
            Padding::Explicit(p) => {
                if p.len() != rank {
                    return Err(ConvError::RankMismatch {
                        what: "explicit pads",
                        expected: rank,
                        got: p.len(),
                    });
                }
                p[axis]
            }
            Padding::Valid => (0, 0),
            Padding::Full => (eff - 1, eff - 1),
            Padding::SameUpper | Padding::SameLower => {
                let out = n.div_ceil(s);
                let total = ((out - 1) * s + eff).saturating_sub(n);
                let (small, big) = (total / 2, total - total / 2);
                let upper = (*padding == Padding::SameUpper) != self.has(Bug::SameOffByOne);
                if upper { (small, big) } else { (big, small) }
            }
            Padding::TorchSame => {
                if s != 1 {
                    return Err(ConvError::SameNeedsUnitStride { axis, stride: s });
                }
                let total = eff - 1;
                let (small, big) = (total / 2, total - total / 2);
                if self.has(Bug::SameOffByOne) {
                    (big, small)
                } else {
                    (small, big)
                }
            }
        })
    }

    fn run<T: Num>(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        let (xs, ws) = (p.input.shape().to_vec(), p.weight.shape().to_vec());
        if xs.len() < 3 {
            return Err(ConvError::RankMismatch {
                what: "input",
                expected: 3,
                got: xs.len(),
            });
        }
        if ws.len() != xs.len() {
            return Err(ConvError::RankMismatch {
                what: "weight",
                expected: xs.len(),
                got: ws.len(),
            });
        }
        let rank = xs.len() - 2;
        let (batch, c_in, c_out, cg) = (xs[0], xs[1], ws[0], ws[1]);
        let groups = p.spec.groups;
        if groups == 0 || c_in % groups != 0 || c_out % groups != 0 {
            return Err(ConvError::GroupsDoNotDivide {
                what: "channels",
                groups,
                got: c_in,
            });
        }
        if cg * groups != c_in {
            return Err(ConvError::ChannelMismatch {
                expected: cg * groups,
                got: c_in,
            });
        }
        if let Some(a) = (1..xs.len()).find(|&a| xs[a] == 0) {
            return Err(ConvError::EmptyArray {
                what: "input",
                axis: a,
            });
        }
        if let Some(a) = (0..ws.len()).find(|&a| ws[a] == 0) {
            return Err(ConvError::EmptyArray {
                what: "weight",
                axis: a,
            });
        }
        let per_axis = |v: &Vec<usize>, what| {
            if v.is_empty() {
                Ok(vec![1; rank])
            } else if v.len() == rank {
                Ok(v.clone())
            } else {
                Err(ConvError::RankMismatch {
                    what,
                    expected: rank,
                    got: v.len(),
                })
            }
        };
        let stride = per_axis(&p.spec.stride, "stride")?;
        let dilation = per_axis(&p.spec.dilation, "dilation")?;
        if let Some(axis) = stride.iter().position(|&s| s == 0) {
            return Err(ConvError::ZeroStride { axis });
        }
        if let Some(axis) = dilation.iter().position(|&d| d == 0) {
            return Err(ConvError::ZeroDilation { axis });
        }
        if let Some(b) = &p.bias
            && b.len() != c_out
        {
            return Err(ConvError::BiasLength {
                expected: c_out,
                got: b.len(),
            });
        }
        let mut lo = Vec::new();
        let mut out = Vec::new();
        for a in 0..rank {
            let (n, k, s, d) = (xs[a + 2], ws[a + 2], stride[a], dilation[a]);
            let eff = d * (k - 1) + 1;
            let (l, h) = self.pads(&p.spec.padding, rank, a, n, eff, s)?;
            if n + l + h < eff {
                return Err(ConvError::KernelTooLarge {
                    axis: a,
                    padded_input: n + l + h,
                    kernel_extent: eff,
                });
            }
            lo.push(l);
            out.push((n + l + h - eff) / s + 1);
        }
        let fill = match &p.spec.boundary {
            Boundary::Constant(c) => c.to64(),
            _ => 0.0,
        };
        let og = c_out / groups;
        let square = rank == 2 && c_in == xs[2] && c_in == xs[3];
        let x_flat: Vec<f64> = p.input.iter().map(|v| v.to64()).collect();
        let read = |n: usize, c: usize, pos: &[usize]| -> f64 {
            if self.has(Bug::NchwAsNhwcWhenSquare) && square {
                // The memory of an (N, H, W, C) array.
                let (h, w) = (xs[2], xs[3]);
                x_flat[((n * h + pos[0]) * w + pos[1]) * c_in + c]
            } else {
                let mut idx = vec![n, c];
                idx.extend_from_slice(pos);
                p.input[IxDyn(&idx)].to64()
            }
        };
        let mut shape = vec![batch, c_out];
        shape.extend(&out);
        let kshape = &ws[2..];
        let taps: usize = kshape.iter().product();
        let y = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
            let (n, o) = (i[0], i[1]);
            let g = o / og;
            let mut sum32 = 0f32;
            let mut sum = match &p.bias {
                Some(b) => {
                    let ob = if self.has(Bug::BiasWrongChannel) {
                        (o + 1) % c_out
                    } else {
                        o
                    };
                    b[ob].to64()
                }
                None => 0.0,
            };
            if self.has(Bug::F32Accumulation) {
                sum32 = sum as f32;
            }
            for c in 0..cg {
                let ci = if self.has(Bug::GroupChannels) {
                    c
                } else {
                    g * cg + c
                };
                for t in 0..taps {
                    // Kernel position of tap t, row-major.
                    let mut k = vec![0usize; rank];
                    let mut rest = t;
                    for a in (0..rank).rev() {
                        k[a] = rest % kshape[a];
                        rest /= kshape[a];
                    }
                    let flip = p.spec.flip == Flip::Convolution && !self.has(Bug::MissingFlip);
                    let mut widx = vec![o, c];
                    widx.extend((0..rank).map(|a| if flip { kshape[a] - 1 - k[a] } else { k[a] }));
                    let wv = p.weight[IxDyn(&widx)].to64();
                    let mut pos = Vec::with_capacity(rank);
                    let mut inside = true;
                    for a in 0..rank {
                        let (s, d, l) = (stride[a] as i64, dilation[a] as i64, lo[a] as i64);
                        let (j, kk) = (i[a + 2] as i64, k[a] as i64);
                        let q = if self.has(Bug::DilationOnInput) {
                            (j * s + kk) * d - l
                        } else if self.has(Bug::StrideBeforePadding) {
                            (j - l) * s + kk * d
                        } else {
                            j * s + kk * d - l
                        };
                        match self.source(&p.spec.boundary, q, xs[a + 2]) {
                            Some(v) => pos.push(v),
                            None => inside = false,
                        }
                    }
                    let xv = if inside { read(n, ci, &pos) } else { fill };
                    if self.has(Bug::F32Accumulation) {
                        sum32 += (wv * xv) as f32;
                    } else {
                        sum += wv * xv;
                    }
                }
            }
            if self.has(Bug::F32Accumulation) {
                T::from64(f64::from(sum32))
            } else {
                T::from64(sum)
            }
        });
        Ok(y)
    }
}

impl<T: Num> ConvEngine<T> for Toy {
    fn name(&self) -> &str {
        "toy"
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.run(p)
    }
}

// ---------------------------------------------------------------- the macro, as a user

conv_oracle::conv_conformance_tests!(toy_f64: f64 => Toy::default());
conv_oracle::conv_conformance_tests!(
    toy_f32: f32 => Toy::default(),
    Config { cases: 128, ..Default::default() }
);

/// A deep-learning layer that supports only what PyTorch's Conv does (zero padding,
/// cross-correlation): the battery keeps to it.
struct TorchLike;

impl ConvEngine<f64> for TorchLike {
    fn name(&self) -> &str {
        "torch-like"
    }
    fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
        Toy::default().run(p)
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::deep_learning()
    }
}

conv_oracle::conv_conformance_tests!(torch_like: f64 => TorchLike);

// ---------------------------------------------------------------- the planted bugs

fn report_for(bug: Bug) -> ConformanceReport {
    let config = Config::<f64> {
        cases: 256,
        ..Default::default()
    };
    check(&Toy { bug: Some(bug) }, &config)
}

/// Every planted bug is rejected, with a counterexample that names the failure, is small
/// (shrunk, or a small catalogue entry), and prints as a pasteable function. Each bug reads
/// the wrong positions, channels or bias, or sums in the wrong precision, on an output of the
/// right shape: the oracle's judge rejects the values ([`Kind::BoundExceeded`]), not a
/// refusal, a panic or a shape.
#[test]
fn every_planted_bug_is_rejected_with_a_small_counterexample() {
    let mut table = String::new();
    for bug in BUGS {
        let r = report_for(bug);
        let Some(c) = r.failure() else {
            panic!("{bug:?} was not rejected:\n{r}");
        };
        assert_eq!(c.kind, Kind::BoundExceeded, "{bug:?}:\n{r}");
        assert!(
            c.code
                .starts_with("fn conv_oracle_counterexample(engine: &dyn"),
            "{}",
            c.code
        );
        assert!(c.code.contains("let p = conv_oracle::Problem::new("));
        assert!(
            c.size <= 32,
            "{bug:?}: counterexample of {} elements:\n{r}",
            c.size
        );
        table += &format!("{bug:?}: {} ({} elements)\n", c.what, c.size);
    }
    println!("{table}");
}

/// The F32 mutant's failure is a numeric one, judged by the componentwise model, not a
/// catalogue shape error: the report names the bound.
#[test]
fn float32_accumulation_fails_the_componentwise_bound() {
    let r = report_for(Bug::F32Accumulation);
    let c = r.failure().expect("rejected");
    assert_eq!(c.kind, Kind::BoundExceeded);
    assert!(
        c.detail.contains("FAIL under componentwise"),
        "{}",
        c.detail
    );
}

/// The layout bug shows only when `C == H == W`: the catalogue's square case catches it.
#[test]
fn layout_confusion_is_caught_by_the_square_catalogue_entry() {
    let r = report_for(Bug::NchwAsNhwcWhenSquare);
    let c = r.failure().expect("rejected");
    assert!(c.what.contains("C == H == W"), "{}", c.what);
}

/// The random search alone (no catalogue) finds and shrinks the group bug to a problem with
/// two groups of one channel.
#[test]
fn the_oracle_section_shrinks_a_group_bug() {
    let r = check_sections(
        &Toy {
            bug: Some(Bug::GroupChannels),
        },
        &Config::<f64>::default(),
        &[Section::Oracle],
    );
    let c = r.failure().expect("rejected");
    assert_eq!(c.kind, Kind::BoundExceeded, "{r}");
    assert!(c.code.contains(".groups(2)"), "{}", c.code);
    assert!(c.size <= 12, "{r}");
}

/// An engine that returns an output for an invalid problem fails the invalid-input section;
/// one that does not claim to validate is not asked.
#[test]
fn invalid_inputs_must_be_refused_when_validation_is_claimed() {
    struct Lenient(bool);
    impl ConvEngine<f64> for Lenient {
        fn name(&self) -> &str {
            "lenient"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            match Toy::default().run(p) {
                Ok(y) => Ok(y),
                Err(_) => Ok(ArrayD::zeros(IxDyn(&[1]))),
            }
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                validates: self.0,
                ..Capabilities::all()
            }
        }
    }
    let config = Config::<f64>::default();
    let r = check_sections(&Lenient(true), &config, &[Section::Invalid]);
    let c = r.failure().expect("rejected");
    assert_eq!(c.kind, Kind::Accepted, "{r}");
    assert!(c.detail.contains("instead of an error"));
    let r = check_sections(&Lenient(false), &config, &[Section::Invalid]);
    assert!(r.passed());
    assert_eq!(r.sections[0].checked, 0);
    assert!(r.sections[0].skipped > 0);
}

/// An engine whose batch samples interfere fails the metamorphic section (the relations
/// that crop or split the batch see it).
#[test]
fn a_batch_leak_fails_the_metamorphic_section() {
    struct Leak;
    impl ConvEngine<f64> for Leak {
        fn name(&self) -> &str {
            "leak"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            let mut y = Toy::default().run(p)?;
            // The first sample's first output leaks into the last sample's.
            let first = y.iter().next().copied().unwrap_or(0.0);
            if y.shape()[0] > 1
                && let Some(v) = y.iter_mut().last()
            {
                *v += first;
            }
            Ok(y)
        }
    }
    let r = check_sections(&Leak, &Config::default(), &[Section::Metamorphic]);
    let c = r.failure().expect("rejected");
    assert_eq!(c.kind, Kind::Mismatch, "{r}");
    assert!(c.what.starts_with("metamorphic: "), "{}", c.what);
}

/// Validity first: an engine that does not claim to validate is never given a problem the
/// reference refuses. This one panics on any (as a crate without validation would, reading
/// past its input) and computes the rest correctly: it passes, although the random search
/// drew invalid problems (the oracle section skipped them) and the invalid-input section asks
/// nothing of it.
#[test]
fn a_non_validating_engine_never_receives_an_invalid_problem() {
    struct Trusting;
    impl ConvEngine<f64> for Trusting {
        fn name(&self) -> &str {
            "trusting"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if let Err(e) = p.validate() {
                panic!("given a problem the reference refuses: {e}");
            }
            Toy::default().run(p)
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                validates: false,
                ..Capabilities::all()
            }
        }
    }
    let r = check(&Trusting, &Config::default());
    r.assert_passed();
    let section = |s: Section| r.sections.iter().find(|x| x.section == s).expect("run");
    // Random problems are drawn inside what the reference accepts: none is left out.
    assert_eq!(section(Section::Oracle).skipped, 0, "{r}");
    assert!(section(Section::Oracle).checked > 0, "{r}");
    assert_eq!(section(Section::Invalid).checked, 0, "{r}");
}

/// An engine that refuses valid problems, and one that panics, fail every section that runs
/// them, each by its own kind.
#[test]
fn refusals_and_panics_are_failures_of_their_own_kind() {
    struct Refuses;
    impl ConvEngine<f64> for Refuses {
        fn name(&self) -> &str {
            "refuses"
        }
        fn conv(&self, _: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            Err(ConvError::EmptyArray {
                what: "input",
                axis: 2,
            })
        }
    }
    struct Panics;
    impl ConvEngine<f64> for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            let y = Toy::default().run(p)?;
            let at = y.len();
            Ok(ArrayD::from_shape_fn(y.raw_dim(), |i| {
                y[i.clone()] + y.as_slice().expect("standard layout")[at]
            }))
        }
    }
    let config = Config::<f64>::default();
    for section in [Section::Catalogue, Section::Oracle, Section::Metamorphic] {
        let r = check_sections(&Refuses, &config, &[section]);
        let c = r.failure().expect("a refusing engine fails");
        assert_eq!(c.kind, Kind::Refused, "{section:?}:\n{r}");
        let r = check_sections(&Panics, &config, &[section]);
        let c = r.failure().expect("a panicking engine fails");
        assert_eq!(c.kind, Kind::Panicked, "{section:?}:\n{r}");
        // Caught quietly: the battery's hook recorded the site (the indexing in `Panics::conv`,
        // in this file) instead of printing the panic.
        assert!(
            c.detail
                .starts_with("the engine panicked at tests/conformance.rs:"),
            "{}",
            c.detail
        );
        // One summary line per panic site, however many panics shrinking caught there.
        assert_eq!(r.panics.len(), 1, "{r}");
        assert!(r.panics[0].site.starts_with("tests/conformance.rs:"), "{r}");
        assert!(r.panics[0].count >= 1, "{r}");
        assert!(r.to_string().contains("x at tests/conformance.rs:"), "{r}");
    }
}

// ---------------------------------------------------------------- the built-in engines

#[test]
fn every_built_in_engine_passes() {
    let quick = Config::<f64> {
        cases: 128,
        ..Default::default()
    };
    let (direct, exact, fft) = (
        DirectEngine::default(),
        ExactEngine::default(),
        FftEngine::default(),
    );
    let engines: Vec<(&dyn ConvEngine<f64>, Config<f64>)> = vec![
        (&ReferenceEngine, quick.clone()),
        (&direct, quick.clone()),
        (&exact, quick.clone()),
        (&DenseEngine, quick.clone()),
        (
            &fft,
            Config {
                tolerance: Tolerance::PerProblem(fft_model),
                ..quick.clone()
            },
        ),
    ];
    for (e, config) in engines {
        check(e, &config).assert_passed();
    }
    let quick32 = Config::<f32> {
        cases: 128,
        ..Default::default()
    };
    check(
        &ExactEngine::default(),
        &Config {
            tolerance: Tolerance::Model(Model::Exact),
            ..quick32.clone()
        },
    )
    .assert_passed();
    check(&DirectEngine::default(), &quick32).assert_passed();
}

/// The capabilities keep the battery inside what an engine supports.
#[test]
fn capabilities_narrow_the_problems() {
    let caps = Capabilities {
        ranks: 1..=1,
        paddings: vec![PaddingRule::Valid],
        boundaries: vec![BoundaryRule::Zeros],
        flips: vec![Flip::Correlation],
        stride: AxisSetting::Unit,
        dilation: AxisSetting::Unit,
        groups: false,
        bias: false,
        validates: false,
        ..Capabilities::all()
    };
    struct Narrow(Capabilities);
    impl ConvEngine<f64> for Narrow {
        fn name(&self) -> &str {
            "narrow"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            // Refuses anything outside its capabilities (the battery must not ask).
            if let Some(what) = self.0.outside(&ProblemShape::of(p)) {
                return Err(ConvError::unsupported(what));
            }
            Toy::default().run(p)
        }
        fn capabilities(&self) -> Capabilities {
            self.0.clone()
        }
    }
    let r = check(&Narrow(caps), &Config::default());
    r.assert_passed();
    // Most of the catalogue is outside.
    assert!(r.sections[0].skipped > r.sections[0].checked, "{r}");
}

/// A counterexample exactly as the battery printed it for `Bug::SameOffByOne`, pasted here:
/// the printed code compiles and runs, fails on the buggy engine and passes on the correct one.
#[allow(clippy::all)]
#[rustfmt::skip]
fn conv_oracle_counterexample(engine: &dyn conv_oracle::engine::ConvEngine<f64>) {
    let input = ndarray::ArrayD::<f64>::from_shape_vec(ndarray::IxDyn(&[1, 2, 9]), vec![-1.0, -2.0, 3.0, 3.0, 3.0, -2.0, -4.0, -2.0, 3.0, -2.0, -1.0, 2.0, 3.0, 3.0, -2.0, -3.0, -1.0, -3.0]).unwrap();
    let weight = ndarray::ArrayD::<f64>::from_shape_vec(ndarray::IxDyn(&[2, 2, 2]), vec![-4.0, -3.0, 2.0, 4.0, 3.0, -4.0, 3.0, 2.0]).unwrap();
    let spec = conv_oracle::ConvSpec::new().padding(conv_oracle::Padding::SameUpper).boundary(conv_oracle::Boundary::Zeros).flip(conv_oracle::Flip::Correlation);
    let p = conv_oracle::Problem::new(input.view(), weight.view()).spec(spec);
    let got = engine.conv(&p).expect("a valid problem");
    let model = engine.algorithm(&p).model(&p).expect("the declared algorithm computes this problem");
    let report = conv_oracle::oracle::judge(&p, got.view(), &model).unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn a_pasted_counterexample_runs_and_decides() {
    conv_oracle_counterexample(&Toy::default());
    let buggy = Toy {
        bug: Some(Bug::SameOffByOne),
    };
    let failed = std::panic::catch_unwind(|| conv_oracle_counterexample(&buggy));
    assert!(failed.is_err());
    // And the battery still prints this very problem.
    let code = report_for(Bug::SameOffByOne)
        .failure()
        .unwrap()
        .code
        .clone();
    assert!(
        code.contains("IxDyn(&[1, 2, 9]), vec![-1.0, -2.0, 3.0, 3.0, 3.0, -2.0"),
        "{code}"
    );
}

// ---------------------------------------------------------------- capabilities of real APIs

/// A correct engine that implements exactly `caps`: it declines anything else as unsupported
/// when it validates, and panics when it does not (so the test fails if the battery gives a
/// non-validating engine a problem it did not declare).
struct Declared {
    caps: Capabilities,
}

impl ConvEngine<f64> for Declared {
    fn name(&self) -> &str {
        "declared"
    }
    fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
        if let Some(what) = self.caps.outside(&ProblemShape::of(p)) {
            assert!(self.caps.validates, "given an undeclared problem: {what}");
            return Err(ConvError::unsupported(what));
        }
        Toy::default().run(p)
    }
    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }
}

fn coverage(r: &ConformanceReport, feature: &str) -> (usize, usize) {
    r.coverage
        .iter()
        .find(|c| c.feature == feature)
        .map_or((0, 0), |c| (c.checked, c.declined))
}

/// One stride and one dilation for all axes (candle), symmetric pads (PyTorch's
/// `padding=(p, q)`) and PyTorch's pad limits (reflect `< n`, circular `<= n`, no symmetric):
/// a correct engine with exactly these passes, validating or not, and what it declined is
/// counted, not failed.
#[test]
fn a_correct_engine_with_narrow_real_capabilities_passes() {
    for validates in [false, true] {
        let caps = Capabilities {
            stride: AxisSetting::Shared,
            dilation: AxisSetting::Shared,
            pads: Pads::Symmetric,
            validates,
            ..Capabilities::all()
        }
        .with_pad_limits_of(Peer::Torch);
        assert!(!caps.boundaries.contains(&BoundaryRule::Symmetric));
        let r = check(&Declared { caps }, &Config::default());
        r.assert_passed();
        for s in &r.sections {
            assert!(s.checked > 0 || s.section == Section::Invalid, "{r}");
        }
        // The limited modes and the shared settings were exercised.
        for feature in [
            "boundary Reflect",
            "boundary Circular",
            "stride > 1",
            "dilation > 1",
        ] {
            assert!(coverage(&r, feature).0 > 0, "{feature}: {r}");
        }
        assert_eq!(coverage(&r, "stride differs by axis").0, 0, "{r}");
        assert_eq!(coverage(&r, "boundary Symmetric").0, 0, "{r}");
        let declined: usize = r.sections.iter().map(|s| s.declined).sum();
        if validates {
            // The catalogue's problems outside the capabilities were offered and declined.
            assert!(declined > 0, "{r}");
            assert!(coverage(&r, "boundary Symmetric").1 > 0, "{r}");
        } else {
            assert_eq!(declined, 0, "{r}");
        }
    }
}

/// Capabilities of their own in some ranks (burn: symmetric pads only in 3-D; groups only in
/// 2-D): each rank is drawn inside its own.
#[test]
fn per_rank_capabilities_hold_in_their_rank() {
    let caps = Capabilities {
        groups: false,
        validates: false,
        ..Capabilities::all()
    }
    .in_rank(3, |c| Capabilities {
        pads: Pads::Symmetric,
        stride: AxisSetting::Shared,
        ..c
    })
    .in_rank(2, |c| Capabilities { groups: true, ..c });
    assert_eq!(caps.for_rank(3).pads, Pads::Symmetric);
    assert!(!caps.for_rank(1).groups && caps.for_rank(2).groups && !caps.for_rank(3).groups);
    let r = check(&Declared { caps }, &Config::default());
    r.assert_passed();
    assert!(coverage(&r, "rank 3").0 > 0, "{r}");
    assert!(coverage(&r, "groups > 1").0 > 0, "{r}");
}

/// An engine that declines a problem it declared fails, by kind `Refused`, whatever error it
/// uses: declaring everything and implementing less is not a way to pass.
#[test]
fn declining_a_declared_problem_is_a_failure() {
    struct Overclaims;
    impl ConvEngine<f64> for Overclaims {
        fn name(&self) -> &str {
            "overclaims"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if p.spec.groups > 1 {
                return Err(ConvError::unsupported("groups"));
            }
            Toy::default().run(p)
        }
    }
    let r = check_sections(
        &Overclaims,
        &Config::default(),
        &[Section::Catalogue, Section::Oracle],
    );
    assert!(!r.passed());
    for c in r.failures() {
        assert_eq!(c.kind, Kind::Refused, "{r}");
        assert!(
            c.detail
                .contains("declined a problem inside its declared capabilities"),
            "{r}"
        );
        assert!(c.features.contains(&"groups > 1".to_string()), "{r}");
    }
}

/// An engine that validates must decline a valid problem it does not implement with
/// `ConvError::Unsupported`, not with an error that calls the problem invalid.
#[test]
fn undeclared_problems_must_be_declined_as_unsupported() {
    struct Misleads;
    impl ConvEngine<f64> for Misleads {
        fn name(&self) -> &str {
            "misleads"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if p.input.ndim() != 3 {
                return Err(ConvError::RankMismatch {
                    what: "input",
                    expected: 3,
                    got: p.input.ndim(),
                });
            }
            Toy::default().run(p)
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                ranks: 1..=1,
                ..Capabilities::all()
            }
        }
    }
    let r = check_sections(&Misleads, &Config::default(), &[Section::Catalogue]);
    let c = r.failure().expect("a misleading refusal fails");
    assert_eq!(c.kind, Kind::Refused, "{r}");
    assert!(c.detail.contains("ConvError::Unsupported"), "{r}");
    // The same engine declining with `Unsupported` passes, and the rank-2 problems it
    // declined are counted.
    let caps = Capabilities {
        ranks: 1..=1,
        ..Capabilities::all()
    };
    let r = check_sections(
        &Declared { caps },
        &Config::default(),
        &[Section::Catalogue],
    );
    r.assert_passed();
    assert!(coverage(&r, "rank 2").1 > 0, "{r}");
    assert_eq!(coverage(&r, "rank 2").0, 0, "{r}");
}

/// An engine that declares nothing the battery can draw, or whose predicate turns every
/// problem away, checked nothing: it does not pass.
#[test]
fn an_engine_that_checks_nothing_does_not_pass() {
    let none = Capabilities {
        ranks: 4..=4,
        validates: false,
        ..Capabilities::all()
    };
    let away = Capabilities {
        accepts: Some(|_| false),
        validates: false,
        ..Capabilities::all()
    };
    for caps in [none, away] {
        let r = check_sections(&Declared { caps }, &Config::default(), &[Section::Oracle]);
        let c = r.failure().expect("nothing checked");
        assert_eq!(c.kind, Kind::Uncovered, "{r}");
    }
}

/// The predicate narrows what no field says (here: kernels of at most 3 taps per axis); the
/// problems it turns away are skipped, and the engine is never given one.
#[test]
fn the_capability_predicate_turns_problems_away() {
    let caps = Capabilities {
        accepts: Some(|s: &ProblemShape| s.weight[2..].iter().all(|&k| k <= 3)),
        validates: false,
        ..Capabilities::all()
    };
    let r = check(&Declared { caps }, &Config::default());
    r.assert_passed();
    let oracle = &r.sections[1];
    assert!(oracle.skipped > 0 && oracle.checked > oracle.skipped, "{r}");
}

/// A kernel larger than the padded input: an engine whose declared policy is an empty output
/// (tract) passes when it returns one of the right shape, and fails by kind when it does
/// otherwise.
#[test]
fn the_large_kernel_policy_is_checked() {
    struct Empties {
        policy: LargeKernel,
        /// What it really does: empty outputs (`true`) or errors.
        empties: bool,
    }
    impl ConvEngine<f64> for Empties {
        fn name(&self) -> &str {
            "empties"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            match p.validate() {
                Err(ConvError::KernelTooLarge { .. }) if self.empties => {
                    // Length 0 where the kernel does not fit, computed independently of the
                    // battery: floor((n + pads - eff) / s) + 1, or 0.
                    let (x, w) = (p.input.shape(), p.weight.shape());
                    let mut shape = vec![x[0], w[0]];
                    for a in 2..x.len() {
                        let pads = match &p.spec.padding {
                            Padding::Explicit(v) => v[a - 2].0 + v[a - 2].1,
                            _ => 0,
                        };
                        let (n, k) = ((x[a] + pads) as i64, w[a] as i64);
                        shape.push(if n < k { 0 } else { (n - k + 1) as usize });
                    }
                    Ok(ArrayD::zeros(IxDyn(&shape)))
                }
                _ => Toy::default().run(p),
            }
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                large_kernel: self.policy,
                ..Capabilities::all()
            }
        }
    }
    let run = |policy, empties| {
        check_sections(
            &Empties { policy, empties },
            &Config::default(),
            &[Section::Invalid],
        )
    };
    run(LargeKernel::EmptyOutput, true).assert_passed();
    run(LargeKernel::Refuses, false).assert_passed();
    let r = run(LargeKernel::Refuses, true);
    assert!(r.failures().count() >= 3, "{r}");
    assert!(r.failures().all(|c| c.kind == Kind::Accepted), "{r}");
    let r = run(LargeKernel::EmptyOutput, false);
    assert!(r.failures().count() >= 3, "{r}");
    assert!(r.failures().all(|c| c.kind == Kind::Refused), "{r}");
}

/// Two bugs in one engine, in different features: the battery reports both, each with its
/// own minimal problem, instead of stopping at the first.
#[test]
fn a_second_bug_behind_a_first_is_reported() {
    /// Reflect and symmetric swapped, and the stride scaling the pad elsewhere.
    struct TwoBugs;
    impl ConvEngine<f64> for TwoBugs {
        fn name(&self) -> &str {
            "two bugs"
        }
        fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            let bug = match p.spec.boundary {
                Boundary::Reflect | Boundary::Symmetric => Bug::ReflectSymmetricSwapped,
                _ => Bug::StrideBeforePadding,
            };
            Toy { bug: Some(bug) }.run(p)
        }
    }
    let r = check_sections(
        &TwoBugs,
        &Config::default(),
        &[Section::Catalogue, Section::Oracle],
    );
    let reflect = |c: &&conv_oracle::conformance::Counterexample| {
        c.features
            .iter()
            .any(|f| f == "boundary Reflect" || f == "boundary Symmetric")
    };
    let stride = |c: &&conv_oracle::conformance::Counterexample| {
        !reflect(c) && c.features.iter().any(|f| f == "stride > 1")
    };
    for s in &r.sections {
        let failures: Vec<_> = s.failures.iter().collect();
        assert!(failures.iter().any(reflect), "{:?}:\n{r}", s.section);
        assert!(failures.iter().any(stride), "{:?}:\n{r}", s.section);
        assert!(
            failures.iter().all(|c| c.kind == Kind::BoundExceeded),
            "{r}"
        );
    }
    let text = r.to_string();
    assert!(text.contains("failure 2 of"), "{text}");
    // Each failure brings its own pasteable problem.
    assert_eq!(
        text.matches("fn conv_oracle_counterexample").count(),
        r.failures().filter(|c| !c.code.is_empty()).count()
    );
}
