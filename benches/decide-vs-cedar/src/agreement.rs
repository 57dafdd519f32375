//! The check run before anything is timed: every arrangement must give the same level,
//! decided by the same kind of rule, for every proposal. A benchmark of code that gives
//! wrong answers would measure nothing.

use std::collections::BTreeMap;

use interlock_core::Level;

use crate::Verdict;
use crate::arrangements::Arrangements;
use crate::cedar::CedarCase;
use crate::fixtures::{self, Case, Team};

/// Checks the worked example against SPEC §4, then all arrangements (built from `teams`)
/// against each other on the case list and on the band-edge sweep of `teams`. Panics on the first difference; returns how
/// many proposals were compared.
pub fn check_all(teams: &[Team], arrangements: &Arrangements, cases: &[Case]) -> usize {
    check_worked_example();
    let sweep = fixtures::edge_sweep(teams);
    for case in cases.iter().chain(&sweep) {
        check_case(arrangements, case);
    }
    cases.len() + sweep.len()
}

fn check_worked_example() {
    let rules = fixtures::worked_example();
    for (case, expected) in fixtures::worked_example_cases() {
        let level = rules.decide(&case.proposal()).map(|d| d.level);
        assert_eq!(level, Ok(expected), "worked example: {case:?}");
    }
}

fn check_case(arrangements: &Arrangements, case: &Case) {
    let ours = arrangements
        .interlock(case)
        .map(|d| Verdict::of(&d))
        .unwrap_or_else(|e| panic!("interlock-core refused {case:?}: {e}"));
    let cedar = CedarCase::of(case);
    for (name, answer) in arrangements.cedar_checked(&cedar) {
        match answer {
            Err(errors) => panic!("{name} met errors on {case:?}: {errors:?}"),
            Ok(answer) => assert_eq!(
                answer,
                Some(ours),
                "{name} disagrees with interlock-core on {case:?}"
            ),
        }
    }
}

/// How many proposals land on each level, to show the case list exercises all of them.
pub fn level_counts(arrangements: &Arrangements, cases: &[Case]) -> BTreeMap<Level, usize> {
    let mut counts = BTreeMap::new();
    for case in cases {
        if let Ok(d) = arrangements.interlock(case) {
            *counts.entry(d.level).or_insert(0) += 1;
        }
    }
    counts
}
