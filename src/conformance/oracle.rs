//! The oracle section: random problems inside the capabilities, judged against the
//! correctly rounded result.

use super::ablate::{case_features, necessary};
use super::code::{case_code, case_size, oracle_check_code};
use super::config::Config;
use super::report::{Counterexample, Section, SectionReport};
use super::search::{found, search_all};
use super::verdict::judge_case;
use crate::engine::{Capabilities, ConvEngine};
use crate::testing::problems::{Element, cases};
use crate::testing::{Kind, Violation};
use proptest::prelude::*;
use std::fmt;

pub(super) fn oracle_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let check = oracle_check_code(config);
    random_section(
        cases::<T>(caps, caps.special_values),
        config,
        "oracle: a random problem (shrunk)",
        |c| judge_case(engine, caps, config, c),
        case_features,
        |c, kind| {
            necessary(c, |d| {
                judge_case(engine, caps, config, d).is_err_and(|v| v.kind == kind)
            })
        },
        |c| (case_code(c, &check), case_size(c)),
    )
}

/// [`Section::Oracle`] over `strategy` (`None`: nothing inside the capabilities): `test`
/// judges a case, `features` lists a case's features and `necessary` those a failure of a
/// kind needs, `code` prints a failing one and gives its size. Every distinct failure is reported ([`search_all`]); a section that checked
/// nothing although it had cases to run fails as [`Kind::Uncovered`].
pub(crate) fn random_section<V: Clone + fmt::Debug, T>(
    strategy: Option<BoxedStrategy<V>>,
    config: &Config<T>,
    what: &str,
    test: impl Fn(&V) -> Result<bool, Violation>,
    features: impl Fn(&V) -> Vec<String>,
    necessary: impl Fn(&V, Kind) -> Vec<String>,
    code: impl Fn(&V) -> (String, usize),
) -> SectionReport {
    let mut report = SectionReport::new(Section::Oracle);
    match strategy {
        None => report.skipped = config.cases as usize,
        Some(strategy) => search_all(
            &mut report,
            strategy,
            config.cases,
            config.seed,
            config.max_failures,
            test,
            features,
            necessary,
            |failure, features| Counterexample {
                features,
                ..found(what.to_string(), failure, &code)
            },
        ),
    }
    if report.checked == 0 && config.cases > 0 {
        report.failures.push(uncovered(report.skipped));
    }
    report
}

/// The failure of a section that checked nothing.
pub(crate) fn uncovered(skipped: usize) -> Counterexample {
    Counterexample {
        what: "oracle: no problem was checked".to_string(),
        kind: Kind::Uncovered,
        detail: format!(
            "all {skipped} problems were outside the capabilities (or turned away by their predicate): declare what the engine supports"
        ),
        code: String::new(),
        size: 0,
        features: Vec::new(),
        repeats: 0,
    }
}
