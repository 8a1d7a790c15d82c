//! The conformance battery on ndarray-conv, with capabilities stating its documented API
//! (any rank, per-axis stride and dilation, asymmetric pads, numpy's boundary modes but
//! symmetric, both flips, `Result` errors). The only failures left must be the genuine
//! findings, each confirmed by hand in `tests/findings.rs`; the reports print with
//! `-- --nocapture`.

use conv_oracle::conformance::{Config, ConformanceReport, Counterexample, Section, check};
use conv_oracle::testing::Kind;
use zoo_ndarray_conv::NdarrayConv;

fn has(c: &Counterexample, feature: &str) -> bool {
    c.features.iter().any(|f| f == feature)
}

/// Reflect and circular pads not shorter than the input: wrong values (zero-filled) or a
/// panic (a front pad past the padded buffer), `reflect_pad_not_shorter_than_input_fills_zero_*`,
/// `circular_pad_longer_than_input_fills_zero_*`, `asymmetric_reflect_pad_panics`.
fn long_pad(c: &Counterexample) -> bool {
    (has(c, "boundary Reflect") || has(c, "boundary Circular"))
        && has(c, "pad >= input")
        && matches!(c.kind, Kind::BoundExceeded | Kind::Panicked)
}

fn section(r: &ConformanceReport, s: Section) -> &[Counterexample] {
    r.sections
        .iter()
        .find(|x| x.section == s)
        .map_or(&[], |x| &x.failures)
}

fn report(engine: NdarrayConv) -> ConformanceReport {
    let r = check::<f32>(&engine, &Config::default());
    println!("{r}");
    r
}

/// Zero stride panics (`zero_stride_panics`); a zero dilation is computed as if every tap
/// read one element.
fn invalid_findings(r: &ConformanceReport) {
    let invalid = section(r, Section::Invalid);
    assert!(
        invalid
            .iter()
            .any(|c| c.what == "invalid input: zero stride" && c.kind == Kind::Panicked),
        "{r}"
    );
    assert!(
        invalid
            .iter()
            .any(|c| c.what == "invalid input: zero dilation"),
        "{r}"
    );
    assert!(
        invalid
            .iter()
            .all(|c| c.what.ends_with("zero stride") || c.what.ends_with("zero dilation")),
        "{r}"
    );
}

#[test]
fn conv_fails_only_by_its_findings() {
    let r = report(NdarrayConv::direct());
    for s in [Section::Catalogue, Section::Oracle, Section::Metamorphic] {
        assert!(section(&r, s).iter().all(long_pad), "{s:?}:\n{r}");
    }
    let catalogue = section(&r, Section::Catalogue);
    assert!(
        catalogue
            .iter()
            .any(|c| has(c, "boundary Reflect") && c.kind == Kind::BoundExceeded),
        "{r}"
    );
    assert!(
        catalogue
            .iter()
            .any(|c| has(c, "boundary Circular") && c.kind == Kind::BoundExceeded),
        "{r}"
    );
    assert!(
        section(&r, Section::Oracle)
            .iter()
            .any(|c| c.kind == Kind::Panicked),
        "{r}"
    );
    invalid_findings(&r);
    // Everything it declares was checked; symmetric, which it lacks, declined.
    let declined = r
        .coverage
        .iter()
        .find(|c| c.feature == "boundary Symmetric");
    assert!(
        declined.is_some_and(|c| c.checked == 0 && c.declined > 0),
        "{r}"
    );
}

/// `conv_fft` shares the padding code, so the same wrong values and panics with long reflect
/// and circular pads; judged under the FFT model it declares (single precision at its own
/// lengths), nothing else fails. Zero stride and zero dilation panic
/// (`zero_stride_panics_conv_fft`, `zero_dilation_panics_conv_fft`).
#[test]
fn conv_fft_fails_only_by_its_findings() {
    let r = report(NdarrayConv::fft());
    for s in [Section::Catalogue, Section::Oracle, Section::Metamorphic] {
        assert!(section(&r, s).iter().all(long_pad), "{s:?}:\n{r}");
    }
    let oracle = section(&r, Section::Oracle);
    assert!(
        oracle
            .iter()
            .any(|c| long_pad(c) && c.kind == Kind::Panicked),
        "{r}"
    );
    assert!(
        oracle
            .iter()
            .any(|c| long_pad(c) && c.kind == Kind::BoundExceeded),
        "{r}"
    );
    let invalid = section(&r, Section::Invalid);
    for what in ["invalid input: zero stride", "invalid input: zero dilation"] {
        assert!(
            invalid
                .iter()
                .any(|c| c.what == what && c.kind == Kind::Panicked),
            "{what}: {r}"
        );
    }
    assert_eq!(invalid.len(), 2, "{r}");
    // Every problem it answered was judged under its declared FFT.
    let fft = r.coverage.iter().find(|c| c.feature == "algorithm fft");
    assert!(fft.is_some_and(|c| c.checked > 1000), "{r}");
}
