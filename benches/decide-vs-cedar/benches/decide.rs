//! One decision per iteration, for interlock-core and for the same rules in Cedar.
//!
//! Inputs (parsed amounts, Cedar requests) are built before timing; each iteration takes
//! the next case of a fixed, shuffled list. Before anything is timed, `main` checks that
//! every arrangement gives the same answers (see `agreement`). Method and results:
//! `BENCHMARKS.md`.

use std::sync::LazyLock;

use decide_vs_cedar::agreement;
use decide_vs_cedar::arrangements::Arrangements;
use decide_vs_cedar::cedar::CedarCase;
use decide_vs_cedar::fixtures::{self, Case, Team};
use divan::{Bencher, black_box};
use interlock_core::rules::RuleSet;

struct Fixture {
    teams: Vec<Team>,
    worked_example: RuleSet,
    worked_example_cases: Vec<Case>,
    arrangements: Arrangements,
    cases: Vec<Case>,
    cedar_cases: Vec<CedarCase>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let teams = fixtures::teams();
    let cases = fixtures::cases(&teams);
    Fixture {
        worked_example: fixtures::worked_example(),
        worked_example_cases: fixtures::worked_example_cases()
            .into_iter()
            .map(|(case, _)| case)
            .collect(),
        arrangements: Arrangements::new(&teams),
        cedar_cases: cases.iter().map(CedarCase::of).collect(),
        cases,
        teams,
    }
});

fn main() {
    let f = &*FIXTURE;
    let compared = agreement::check_all(&f.teams, &f.arrangements, &f.cases);
    eprintln!(
        "checked: interlock-core and both Cedar arrangements agree on {compared} proposals \
         ({} timed cases, levels {:?}; {} policies in the one Cedar set)",
        f.cases.len(),
        agreement::level_counts(&f.arrangements, &f.cases),
        f.arrangements.cedar_all_teams_policy_count(),
    );
    divan::main();
}

// Sample sizes are fixed rather than left to divan: it picks them from the first, cold
// calls, and then times the fast cases one call per sample, below the timer's precision.
// Each sample runs long enough to cycle through many cases.

/// Hands out the items in order, round and round, outside the timed region.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut next = 0;
    move || {
        let item = &items[next];
        next = (next + 1) % items.len();
        item
    }
}

#[divan::bench(sample_count = 1000, sample_size = 1000)]
fn interlock_worked_example(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher
        .with_inputs(cycle(&f.worked_example_cases))
        .bench_local_values(|case: &Case| {
            black_box(&f.worked_example).decide(&black_box(case).proposal())
        });
}

#[divan::bench(sample_count = 1000, sample_size = 1000)]
fn interlock_50_teams(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher
        .with_inputs(cycle(&f.cases))
        .bench_local_values(|case: &Case| f.arrangements.interlock(black_box(case)));
}

/// Not a target figure: `interlock_50_teams` without the slug lookup (the rule set is
/// picked before timing), to show what the lookup costs and what `decide` itself does.
#[divan::bench(sample_count = 1000, sample_size = 1000)]
fn interlock_50_teams_decide_only(bencher: Bencher) {
    let f = &*FIXTURE;
    let preselected: Vec<(&RuleSet, &Case)> = f
        .cases
        .iter()
        .map(|case| (f.arrangements.rule_set(&case.team), case))
        .collect();
    bencher.with_inputs(cycle(&preselected)).bench_local_values(
        |(rules, case): &(&RuleSet, &Case)| black_box(*rules).decide(&black_box(*case).proposal()),
    );
}

#[divan::bench(sample_count = 200, sample_size = 10)]
fn cedar_one_policy_set(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher
        .with_inputs(cycle(&f.cedar_cases))
        .bench_local_values(|case: &CedarCase| f.arrangements.cedar_all_teams(black_box(case)));
}

#[divan::bench(sample_count = 500, sample_size = 100)]
fn cedar_per_team_category(bencher: Bencher) {
    let f = &*FIXTURE;
    bencher
        .with_inputs(cycle(&f.cedar_cases))
        .bench_local_values(|case: &CedarCase| f.arrangements.cedar_per_category(black_box(case)));
}
