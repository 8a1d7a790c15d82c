//! The conformance battery on tract-core, with capabilities stating its documented API (any
//! rank, per-axis stride and dilation, asymmetric pads and its `SAME` rules, zeros and its
//! `Pad` modes constant, reflect and edge with no length limit, groups, bias, batch, `Result`
//! errors, an empty output for a kernel larger than the input). The only failures left must be
//! the genuine findings, each confirmed by hand in `tests/findings.rs`; the report prints with
//! `-- --nocapture`.

use conv_oracle::conformance::{Config, ConformanceReport, Counterexample, Section, check};
use conv_oracle::testing::Kind;
use zoo_tract::Tract;

fn has(c: &Counterexample, feature: &str) -> bool {
    c.features.iter().any(|f| f == feature)
}

/// Reflect pads not shorter than the input: zero-filled values or a panic in `Pad`
/// (`reflect_pad_not_shorter_than_input_fills_zero`,
/// `reflect_front_pad_past_the_data_and_back_pad_panics`,
/// `reflect_back_pad_past_the_front_pad_and_data_panics`).
fn long_reflect_pad(c: &Counterexample) -> bool {
    has(c, "boundary Reflect")
        && has(c, "pad >= input")
        && matches!(c.kind, Kind::BoundExceeded | Kind::Panicked)
}

fn section(r: &ConformanceReport, s: Section) -> &[Counterexample] {
    r.sections
        .iter()
        .find(|x| x.section == s)
        .map_or(&[], |x| &x.failures)
}

#[test]
fn fails_only_by_its_findings() {
    let r = check::<f32>(&Tract, &Config::default());
    println!("{r}");
    for s in &r.sections {
        assert!(s.checked > 0, "{:?} checked nothing:\n{r}", s.section);
    }
    for s in [Section::Catalogue, Section::Oracle, Section::Metamorphic] {
        assert!(section(&r, s).iter().all(long_reflect_pad), "{s:?}:\n{r}");
    }
    // Both faces of the reflect finding are found: wrong values and panics.
    let reflect = || {
        [Section::Catalogue, Section::Oracle]
            .into_iter()
            .flat_map(|s| section(&r, s))
    };
    assert!(reflect().any(|c| c.kind == Kind::BoundExceeded), "{r}");
    assert!(reflect().any(|c| c.kind == Kind::Panicked), "{r}");
    // The panics are at the two lines of `Pad` and the two invalid inputs below.
    for p in &r.panics {
        let at = |file: &str, lines: &[u32]| {
            lines
                .iter()
                .any(|l| p.site.ends_with(&format!("{file}:{l}")))
        };
        assert!(
            at("tract-core-0.23.10/src/ops/array/pad.rs", &[64, 74])
                || at("tract-core-0.23.10/src/ops/cnn/padding.rs", &[155])
                || at("tract-data-0.23.10/src/dim/mod.rs", &[60]),
            "a panic at {}:\n{r}",
            p.site
        );
    }
    let got: Vec<(String, Kind)> = section(&r, Section::Invalid)
        .iter()
        .map(|c| (c.what.clone(), c.kind))
        .collect();
    let want = [
        // zero_stride_panics
        ("zero stride", Kind::Panicked),
        // zero_dilation_is_computed
        ("zero dilation", Kind::Accepted),
        // empty_input_gives_an_empty_output
        ("empty spatial axis", Kind::Accepted),
        // empty_kernel_panics
        ("empty kernel axis", Kind::Panicked),
    ];
    let want: Vec<(String, Kind)> = want
        .iter()
        .map(|(w, k)| (format!("invalid input: {w}"), *k))
        .collect();
    assert_eq!(got, want, "{r}");
}
