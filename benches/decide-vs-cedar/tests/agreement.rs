//! The agreement check also runs under `cargo test -p decide-vs-cedar`, so a change to
//! interlock-core that breaks the comparison shows without running the benchmark.

use decide_vs_cedar::agreement;
use decide_vs_cedar::arrangements::Arrangements;
use decide_vs_cedar::fixtures;

#[test]
fn interlock_and_both_cedar_arrangements_agree_on_every_case_and_band_edge() {
    let teams = fixtures::teams();
    let cases = fixtures::cases(&teams);
    let arrangements = Arrangements::new(&teams);
    let compared = agreement::check_all(&teams, &arrangements, &cases);
    assert!(compared > cases.len());
}

#[test]
fn the_case_list_reaches_every_level() {
    let teams = fixtures::teams();
    let cases = fixtures::cases(&teams);
    let counts = agreement::level_counts(&Arrangements::new(&teams), &cases);
    assert_eq!(counts.len(), 4, "{counts:?}");
}
