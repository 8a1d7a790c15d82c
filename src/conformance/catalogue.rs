//! The catalogue section: fixed problems over every padding rule, boundary and flip, with
//! stride, dilation, groups, bias and batch.

use super::ablate::{case_features, necessary};
use super::code::{case_code, case_size, oracle_check_code};
use super::config::Config;
use super::report::{Counterexample, Section, SectionReport};
use super::verdict::{Outcome, judge_case, probe_undeclared};
use crate::engine::{BoundaryRule, Capabilities, ConvEngine, ProblemShape};
use crate::problem::{ConvSpec, Flip, Padding};
use crate::testing::cases::{Arr, Case, boundary_of};
use crate::testing::problems::Element;
use crate::testing::{Kind, Violation};
use ndarray::{ArrayD, IxDyn};

/// Small integers in `-4..=4` (never all zero), deterministic: exact in every float type, and
/// distinct enough that a shifted or mirrored read changes the result.
pub(crate) fn small_ints<T: Element>(shape: &[usize], seed: u64) -> Arr<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Arr(ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = ((s >> 33) % 9) as i32 - 4;
        T::from_f64(f64::from(if v == 0 { 3 } else { v }))
    }))
}

/// A named fixed case.
pub(super) struct Entry<T> {
    pub(super) name: String,
    pub(super) case: Case<T>,
}

/// The fixed problems (the battery's module docs), every one built; [`catalogue_section`]
/// keeps those the engine supports.
fn catalogue<T: Element>() -> Vec<Entry<T>> {
    let mut out = Vec::new();
    let mut seed = 1u64;
    let mut add = |name: String,
                   input: &[usize],
                   weight: &[usize],
                   bias: bool,
                   spec: ConvSpec<T>,
                   out: &mut Vec<Entry<T>>| {
        seed += 1;
        let bias_values = small_ints::<T>(&[weight[0]], seed * 7).0;
        out.push(Entry {
            name,
            case: Case {
                input: small_ints(input, seed),
                weight: small_ints(weight, seed * 3),
                bias: bias.then(|| bias_values.iter().copied().collect()),
                spec,
            },
        });
    };
    let three = T::from_f64(3.0);
    // Every padding rule, boundary and flip, ranks 1 and 2, odd and even kernels.
    for rank in 1..=2usize {
        for k in [3usize, 2, 4] {
            let n = if rank == 1 { 9 } else { 6 };
            for padding in [
                Padding::Explicit(vec![(2, 1); rank]),
                Padding::Valid,
                Padding::Full,
                Padding::SameUpper,
                Padding::SameLower,
                Padding::TorchSame,
            ] {
                for b in BoundaryRule::ALL {
                    for flip in [Flip::Correlation, Flip::Convolution] {
                        let mut input = vec![1, 2];
                        input.extend(vec![n; rank]);
                        let mut weight = vec![2, 2];
                        weight.extend(vec![k; rank]);
                        let spec = ConvSpec::new()
                            .padding(padding.clone())
                            .boundary(boundary_of(b.index(), three))
                            .flip(flip);
                        add(
                            format!("rank {rank}, kernel {k}, {padding:?}, {b:?}, {flip:?}"),
                            &input,
                            &weight,
                            false,
                            spec,
                            &mut out,
                        );
                    }
                }
            }
        }
    }
    // Pads wider than the input, every boundary (numpy's rules for any pad length).
    for b in BoundaryRule::ALL {
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(5, 4)]))
            .boundary(boundary_of(b.index(), three));
        add(
            format!("pads (5, 4) around an input of 3, {b:?}"),
            &[1, 1, 3],
            &[1, 1, 3],
            false,
            spec,
            &mut out,
        );
    }
    // Stride, dilation, both; with explicit, valid and same padding; rank 1, then 2.
    for rank in 1..=2usize {
        for (stride, dilation) in [(2usize, 1usize), (3, 1), (1, 2), (2, 2), (3, 2)] {
            for padding in [
                Padding::Explicit(vec![(1, 2), (2, 0)][..rank].to_vec()),
                Padding::Valid,
                Padding::SameUpper,
                Padding::SameLower,
            ] {
                let spec = ConvSpec::new()
                    .stride(vec![stride; rank])
                    .dilation(vec![dilation; rank])
                    .padding(padding.clone());
                let (input, weight) = if rank == 1 {
                    (vec![1, 2, 9], vec![2, 2, 3])
                } else {
                    (vec![1, 2, 9, 8], vec![3, 2, 3, 2])
                };
                add(
                    format!("rank {rank}, stride {stride}, dilation {dilation}, {padding:?}"),
                    &input,
                    &weight,
                    false,
                    spec,
                    &mut out,
                );
            }
        }
    }
    // Groups (each group reads its own input channels), with a bias per output channel.
    for (groups, c, o, rank) in [
        (2usize, 2usize, 2usize, 1usize),
        (2, 4, 6, 1),
        (3, 3, 6, 1),
        (2, 4, 4, 2),
    ] {
        let spec = ConvSpec::new().groups(groups).padding(Padding::SameUpper);
        let mut input = vec![2, c, 5];
        let mut weight = vec![o, c / groups, 3];
        if rank == 2 {
            input.push(4);
            weight.push(2);
        }
        add(
            format!("{groups} groups, {c} input and {o} output channels, rank {rank}, bias"),
            &input,
            &weight,
            true,
            spec,
            &mut out,
        );
    }
    // Channels equal to the spatial extents (a layout confusion cannot hide), batch 2, bias.
    for n in [2usize, 3] {
        let spec = ConvSpec::new().padding(Padding::Valid);
        add(
            format!("C == H == W == {n}, batch 2, bias"),
            &[2, n, n, n],
            &[2, n, 2, 1],
            true,
            spec,
            &mut out,
        );
    }
    // Rank 3, and a bias on each of several output channels.
    add(
        "rank 3, stride (1, 2, 1), SameLower, bias".to_string(),
        &[1, 2, 4, 5, 3],
        &[3, 2, 2, 3, 2],
        true,
        ConvSpec::new()
            .stride(vec![1, 2, 1])
            .padding(Padding::SameLower),
        &mut out,
    );
    // One input channel and a 1x1 kernel: an im2col matrix of one column, whose product an
    // engine may lay out column-major (convolutions-rs 0.3.4), on a non-square input.
    add(
        "1 input channel, 1x1 kernel, 3 output channels, 3x4 input".to_string(),
        &[1, 1, 3, 4],
        &[3, 1, 1, 1],
        false,
        ConvSpec::new(),
        &mut out,
    );
    add(
        "5 output channels with a bias, 1x1 kernel".to_string(),
        &[1, 3, 4, 3],
        &[5, 3, 1, 1],
        true,
        ConvSpec::new(),
        &mut out,
    );
    out
}

pub(super) fn catalogue_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let check = oracle_check_code(config);
    fixed_section(
        catalogue::<T>()
            .into_iter()
            .map(|e| (e.name, e.case))
            .collect(),
        config.max_failures,
        |c| {
            let inside = c.with(|p| caps.admits(&ProblemShape::of(p)));
            if inside {
                judge_case(engine, caps, config, c).map(|ok| {
                    if ok {
                        Outcome::Checked
                    } else {
                        Outcome::Skipped
                    }
                })
            } else if caps.validates {
                probe_undeclared(engine, config, c)
            } else {
                Ok(Outcome::Skipped)
            }
        },
        case_features,
        |c, kind| {
            necessary(c, |d| {
                judge_case(engine, caps, config, d).is_err_and(|v| v.kind == kind)
            })
        },
        |c| (case_code(c, &check), case_size(c)),
    )
}

/// [`Section::Catalogue`] over named fixed cases, each run by `test`; the distinct failures
/// (at most `cap`; a failure is known when an earlier one covers its `features`, and keeps the
/// features it `necessary`-ly needs) are reported with the code `code` prints.
pub(crate) fn fixed_section<V>(
    entries: Vec<(String, V)>,
    cap: usize,
    test: impl Fn(&V) -> Result<Outcome, Violation>,
    features: impl Fn(&V) -> Vec<String>,
    necessary: impl Fn(&V, Kind) -> Vec<String>,
    code: impl Fn(&V) -> (String, usize),
) -> SectionReport {
    let mut report = SectionReport::new(Section::Catalogue);
    for (name, case) in entries {
        match test(&case) {
            Ok(Outcome::Checked) => report.checked += 1,
            Ok(Outcome::Skipped) => report.skipped += 1,
            Ok(Outcome::Declined) => report.declined += 1,
            Err(violation) => {
                report.checked += 1;
                if report.repeat(violation.kind, &features(&case), cap) {
                    continue;
                }
                let (code, size) = code(&case);
                report.failures.push(Counterexample {
                    what: format!("catalogue: {name}"),
                    kind: violation.kind,
                    features: necessary(&case, violation.kind),
                    detail: violation.detail,
                    code,
                    size,
                    repeats: 0,
                });
            }
        }
    }
    report
}
