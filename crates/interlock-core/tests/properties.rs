//! Properties of deciding, validation, schedules and the state machine, over random input.

use chrono::{DateTime, TimeDelta, Utc};
use interlock_core::rules::RuleSet;
use interlock_core::{
    ActionState, Category, Currency, Level, Money, Proposal, Span, Status, TimeBombPlan,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A band on a grid of half units from 0 to 20, written as the wire JSON.
#[derive(Debug, Clone)]
enum BandSpec {
    Below(u32),
    AtMost(u32),
    Above(u32),
    AtLeast(u32),
    Between(u32, u32),
}

fn half(n: u32) -> String {
    format!("{}.{}", n / 2, if n % 2 == 1 { "50" } else { "00" })
}

impl BandSpec {
    fn json(&self, level: &str) -> String {
        let shape = match self {
            BandSpec::Below(x) => format!(r#""below": "{}""#, half(*x)),
            BandSpec::AtMost(x) => format!(r#""at_most": "{}""#, half(*x)),
            BandSpec::Above(x) => format!(r#""above": "{}""#, half(*x)),
            BandSpec::AtLeast(x) => format!(r#""at_least": "{}""#, half(*x)),
            BandSpec::Between(a, b) => format!(r#""from": "{}", "to": "{}""#, half(*a), half(*b)),
        };
        format!(r#"{{{shape}, "level": "{level}"}}"#)
    }

    /// The oracle: membership written independently of the crate's interval logic.
    fn holds(&self, quarter_units: u32) -> bool {
        let x = quarter_units; // compare in quarters: a half unit n is 2n quarters
        match *self {
            BandSpec::Below(n) => x < 2 * n,
            BandSpec::AtMost(n) => x <= 2 * n,
            BandSpec::Above(n) => x > 2 * n,
            BandSpec::AtLeast(n) => x >= 2 * n,
            BandSpec::Between(a, b) => 2 * a <= x && x <= 2 * b,
        }
    }
}

fn band_spec() -> impl Strategy<Value = BandSpec> {
    prop_oneof![
        (0u32..=40).prop_map(BandSpec::Below),
        (0u32..=40).prop_map(BandSpec::AtMost),
        (0u32..=40).prop_map(BandSpec::Above),
        (0u32..=40).prop_map(BandSpec::AtLeast),
        (0u32..=40, 0u32..=40).prop_map(|(a, b)| BandSpec::Between(a, b)),
    ]
}

fn level_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "autonomous",
        "time_bomb",
        "human_approval",
        "advisory",
    ])
}

fn rules_json(bands: &[(BandSpec, &str)]) -> String {
    let bands: Vec<String> = bands.iter().map(|(b, l)| b.json(l)).collect();
    format!(
        r#"{{"categories": {{"REFUND": {{"thresholds": [{}]}}}}}}"#,
        bands.join(",")
    )
}

/// Every quarter unit from 0 to 21: enough to find any shared point of grid bands.
fn sample_points() -> impl Iterator<Item = u32> {
    0..=84
}

fn quarters_to_money(q: u32) -> Money {
    let cents = Decimal::new(i64::from(q) * 25, 2);
    Money::parse(&cents.to_string(), Currency::USD).unwrap()
}

fn refund(rules: &RuleSet, amount: Money) -> interlock_core::Decision {
    rules
        .decide(&Proposal {
            category: Category::Refund,
            amount: Some(amount),
            tags: &[],
        })
        .expect("deciding a refund with an amount in the team currency never fails")
}

proptest! {
    #[test]
    fn validation_accepts_exactly_the_well_formed_non_overlapping_band_sets(
        bands in prop::collection::vec((band_spec(), level_name()), 0..6)
    ) {
        let oracle_ok = bands.iter().all(|(b, _)| sample_points().any(|q| b.holds(q)))
            && bands.iter().enumerate().all(|(i, (a, _))| {
                bands.iter().skip(i + 1).all(|(b, _)| !sample_points().any(|q| a.holds(q) && b.holds(q)))
            });
        let result = RuleSet::from_json_str(&rules_json(&bands));
        prop_assert_eq!(result.is_ok(), oracle_ok, "{:?}", result);
    }

    #[test]
    fn in_a_valid_band_set_every_amount_falls_in_at_most_one_band_and_decide_is_total_and_deterministic(
        bands in prop::collection::vec((band_spec(), level_name()), 0..6),
        default_level in level_name(),
    ) {
        let json = rules_json(&bands).replacen(r#"{"thresholds""#, &format!(r#"{{"level": "{default_level}", "thresholds""#), 1);
        let Ok(rules) = RuleSet::from_json_str(&json) else { return Ok(()) };
        let thresholds = &rules.category(Category::Refund).thresholds;
        for q in sample_points() {
            let money = quarters_to_money(q);
            let holding = thresholds.iter().filter(|t| t.band.contains(money.amount())).count();
            prop_assert!(holding <= 1);
            let first = refund(&rules, money);
            prop_assert_eq!(&first, &refund(&rules, money));
            let expected = thresholds
                .iter()
                .find(|t| t.band.contains(money.amount()))
                .map_or(rules.category(Category::Refund).level, |t| t.level);
            prop_assert_eq!(first.level, expected);
        }
    }

    #[test]
    fn schedules_are_strictly_inside_the_countdown_ordered_and_unique(
        duration_s in 3600u32..=72 * 3600,
        remind_at_50: bool,
        remind_at_90: bool,
        lead_fraction in prop::option::of(1u32..1000),
        armed_ms in 0i64..4_000_000_000_000,
    ) {
        let plan = TimeBombPlan {
            duration: Span::from_seconds(duration_s),
            remind_at_50,
            remind_at_90,
            final_warning: lead_fraction.map(|f| Span::from_seconds((duration_s / 1000 * f).max(1))),
        };
        let armed: DateTime<Utc> = DateTime::from_timestamp_millis(armed_ms).unwrap();
        let s = plan.schedule(armed);
        prop_assert_eq!(s.deadline, armed + TimeDelta::seconds(i64::from(duration_s)));
        for r in &s.reminders {
            prop_assert!(armed < r.at && r.at < s.deadline);
        }
        for pair in s.reminders.windows(2) {
            prop_assert!(pair[0].at < pair[1].at);
            prop_assert!(pair[0].kind != pair[1].kind);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Command {
    Approve { fresh: bool, deps: bool },
    Hold { fresh: bool },
    Reject { fresh: bool },
    Withdraw,
    Deadline { deps: bool },
    DependenciesMet,
    DependencyFailed,
    Succeed,
    Fail,
    Retry,
    Dismiss,
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (any::<bool>(), any::<bool>()).prop_map(|(fresh, deps)| Command::Approve { fresh, deps }),
        any::<bool>().prop_map(|fresh| Command::Hold { fresh }),
        any::<bool>().prop_map(|fresh| Command::Reject { fresh }),
        Just(Command::Withdraw),
        any::<bool>().prop_map(|deps| Command::Deadline { deps }),
        Just(Command::DependenciesMet),
        Just(Command::DependencyFailed),
        Just(Command::Succeed),
        Just(Command::Fail),
        Just(Command::Retry),
        Just(Command::Dismiss),
    ]
}

fn apply(
    s: ActionState,
    c: Command,
) -> Result<interlock_core::Transition, interlock_core::TransitionError> {
    let seen = |fresh: bool| {
        if fresh {
            s.version
        } else {
            s.version.wrapping_sub(1)
        }
    };
    match c {
        Command::Approve { fresh, deps } => s.approve(seen(fresh), deps),
        Command::Hold { fresh } => s.hold(seen(fresh)),
        Command::Reject { fresh } => s.reject(seen(fresh)),
        Command::Withdraw => s.withdraw(),
        Command::Deadline { deps } => s.deadline(deps),
        Command::DependenciesMet => s.dependencies_met(),
        Command::DependencyFailed => s.dependency_failed(),
        Command::Succeed => s.start_execution().and_then(|()| s.execution_succeeded()),
        Command::Fail => s.start_execution().and_then(|()| s.execution_failed()),
        Command::Retry => s.retry(),
        Command::Dismiss => s.dismiss(),
    }
}

proptest! {
    #[test]
    fn random_command_sequences_never_execute_twice_never_leave_a_terminal_status_and_never_execute_advisories(
        level in prop::sample::select(Level::ALL.to_vec()),
        deps in any::<bool>(),
        commands in prop::collection::vec(command(), 0..40),
    ) {
        let mut state = ActionState { status: Status::initial(level, deps), version: 1 };
        let mut executions = 0;
        for c in commands {
            if let Ok(t) = apply(state, c) {
                    prop_assert!(!state.status.is_terminal(), "left terminal {:?} by {:?}", state.status, c);
                    prop_assert_eq!((t.from, t.from_version), (state.status, state.version));
                    prop_assert_eq!(t.to_version, state.version + 1);
                    if t.to == Status::Executed {
                        executions += 1;
                    }
                    state = t.state();
            }
            if level == Level::Advisory {
                prop_assert!(matches!(state.status, Status::Advisory | Status::Dismissed));
            }
        }
        prop_assert!(executions <= 1);
    }
}
