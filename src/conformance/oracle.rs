//! The oracle section: random problems inside the capabilities, judged against the
//! correctly rounded result.

use super::code::{case_code, case_size, oracle_check_code};
use super::config::Config;
use super::report::{Section, SectionReport};
use super::search::{found, search};
use super::verdict::judge_case;
use crate::engine::{Capabilities, ConvEngine};
use crate::testing::Violation;
use crate::testing::problems::{Element, cases};
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
        |c| judge_case(engine, config, c),
        |c| (case_code(c, &check), case_size(c)),
    )
}

/// [`Section::Oracle`] over `strategy` (`None`: every case skipped): `test` judges a case,
/// `code` prints a failing one and gives its size.
pub(crate) fn random_section<V: Clone + fmt::Debug, T>(
    strategy: Option<BoxedStrategy<V>>,
    config: &Config<T>,
    what: &str,
    test: impl Fn(&V) -> Result<bool, Violation>,
    code: impl Fn(&V) -> (String, usize),
) -> SectionReport {
    let mut report = SectionReport {
        section: Section::Oracle,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    let Some(strategy) = strategy else {
        report.skipped = config.cases as usize;
        return report;
    };
    let (checked, skipped, failure) = search(strategy, config.cases, config.seed, test);
    report.checked = checked;
    report.skipped = skipped;
    report.failure = failure.map(|f| found(what.to_string(), f, code));
    report
}
