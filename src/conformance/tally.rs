//! What a run of the battery saw besides its failures: the problems checked and declined per
//! feature (the coverage), and the sites where the engine panicked.
//!
//! The sections record into a collector of the running thread ([`collect`]), so that every
//! section, and every search inside one, adds to the same tally without passing it around.

use super::report::{ConformanceReport, FeatureCount, PanicSite, Section, SectionReport};
use crate::engine::ProblemShape;
use crate::problem::Padding;
use crate::tolerance::Float;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Counts per feature and per panic site.
#[derive(Default)]
pub(crate) struct Tally {
    /// Feature -> (checked, declined).
    features: BTreeMap<String, (usize, usize)>,
    /// Site -> (first message, count).
    panics: BTreeMap<String, (String, usize)>,
}

impl Tally {
    pub(crate) fn coverage(&self) -> Vec<FeatureCount> {
        self.features
            .iter()
            .map(|(feature, &(checked, declined))| FeatureCount {
                feature: feature.clone(),
                checked,
                declined,
            })
            .collect()
    }

    pub(crate) fn panics(&self) -> Vec<PanicSite> {
        self.panics
            .iter()
            .map(|(site, (message, count))| PanicSite {
                site: site.clone(),
                message: message.clone(),
                count: *count,
            })
            .collect()
    }
}

thread_local! {
    static TALLY: RefCell<Option<Tally>> = const { RefCell::new(None) };
}

/// Runs `f` with a fresh collector and returns what it recorded (the collector of an outer
/// run, if any, is put back afterwards).
pub(crate) fn collect<R>(f: impl FnOnce() -> R) -> (R, Tally) {
    let outer = TALLY.with(|t| t.borrow_mut().replace(Tally::default()));
    let r = f();
    let tally = TALLY.with(|t| std::mem::replace(&mut *t.borrow_mut(), outer));
    (r, tally.unwrap_or_default())
}

fn record(f: impl FnOnce(&mut Tally)) {
    TALLY.with(|t| {
        if let Some(tally) = t.borrow_mut().as_mut() {
            f(tally);
        }
    });
}

/// A problem the engine answered (judged, whatever the verdict).
pub(crate) fn checked(p: &ProblemShape) {
    checked_with(features(p));
}

/// A problem with these features that the engine answered ([`checked`], for a battery whose
/// problems have features of their own: the transposed one).
pub(crate) fn checked_with(features: Vec<String>) {
    record(|t| {
        for f in features {
            t.features.entry(f).or_default().0 += 1;
        }
    });
}

/// A problem judged under the model of the algorithm the engine declared for it.
pub(crate) fn algorithm(name: &str) {
    record(|t| t.features.entry(format!("algorithm {name}")).or_default().0 += 1);
}

/// A problem with these features, outside the capabilities, that the engine declined as
/// unsupported.
pub(crate) fn declined_with(features: Vec<String>) {
    record(|t| {
        for f in features {
            t.features.entry(f).or_default().1 += 1;
        }
    });
}

/// A panic the battery caught.
pub(crate) fn panicked(site: &str, message: &str) {
    record(|t| {
        t.panics
            .entry(site.to_string())
            .or_insert_with(|| (message.to_string(), 0))
            .1 += 1;
    });
}

/// The features a problem exercises, as the coverage counts them: its rank, padding rule,
/// boundary and flip, and each option it uses (stride, dilation, pads, groups, bias, batch).
pub(crate) fn features(p: &ProblemShape) -> Vec<String> {
    let spec = &p.spec;
    let rank = p.rank();
    let mut out = vec![
        format!("rank {rank}"),
        format!(
            "padding {:?}",
            crate::engine::PaddingRule::of(&spec.padding)
        ),
        format!(
            "boundary {:?}",
            crate::engine::BoundaryRule::of(&spec.boundary)
        ),
        format!("flip {:?}", spec.flip),
    ];
    for (what, values) in [("stride", &spec.stride), ("dilation", &spec.dilation)] {
        if values.iter().any(|&v| v > 1) {
            out.push(format!("{what} > 1"));
        }
        if values.windows(2).any(|w| w[0] != w[1]) {
            out.push(format!("{what} differs by axis"));
        }
    }
    if let Some(pads) = p.pads() {
        if pads.iter().any(|&(lo, hi)| lo + hi > 0) {
            out.push("padded".to_string());
        }
        if pads.iter().any(|&(lo, hi)| lo != hi) {
            out.push("asymmetric pads".to_string());
        }
        if pads
            .iter()
            .zip(p.spatial())
            .any(|(&(lo, hi), &n)| lo.max(hi) >= n)
        {
            out.push("pad >= input".to_string());
        }
    }
    if spec.groups > 1 {
        out.push("groups > 1".to_string());
    }
    if p.bias {
        out.push("bias".to_string());
    }
    if p.input.first().is_some_and(|&n| n > 1) {
        out.push("batch > 1".to_string());
    }
    out
}

/// The features that tell one failure from another: [`features`] without the plainest
/// choices (rank 1, explicit or valid padding, zeros, cross-correlation), which every
/// shrunk problem has.
pub(crate) fn signature(p: &ProblemShape) -> Vec<String> {
    let plain = |f: &String| {
        f == "rank 1"
            || f == "boundary Zeros"
            || f == "flip Correlation"
            || (matches!(p.spec.padding, Padding::Explicit(_) | Padding::Valid)
                && f.starts_with("padding "))
    };
    features(p).into_iter().filter(|f| !plain(f)).collect()
}

/// The report of `engine` on `sections`, each run by `run`, with what the runs recorded.
pub(crate) fn report_of<T: Float>(
    engine: &str,
    sections: &[Section],
    run: impl Fn(Section) -> SectionReport,
) -> ConformanceReport {
    let (sections, tally) = collect(|| sections.iter().map(|&s| run(s)).collect::<Vec<_>>());
    ConformanceReport {
        engine: engine.to_string(),
        dtype: T::NAME,
        sections,
        coverage: tally.coverage(),
        panics: tally.panics(),
    }
}
