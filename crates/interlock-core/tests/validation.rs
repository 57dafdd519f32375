//! Rule-set validation reports every problem at once, each naming its category and band.

use interlock_core::rules::{RuleSet, RuleSetErrors, RulesReadError};
use interlock_core::{Level, Span};

fn problems(json: &str) -> Vec<(String, String)> {
    match RuleSet::from_json_str(json) {
        Err(RulesReadError::Invalid(RuleSetErrors(ps))) => {
            ps.into_iter().map(|p| (p.field, p.message)).collect()
        }
        other => panic!("expected validation problems, got {other:?}"),
    }
}

#[test]
fn an_empty_document_is_the_conservative_default() {
    let r = RuleSet::from_json_str("{}").unwrap();
    assert!(r.same_rules_as(&RuleSet::conservative()));
    let tags: Vec<&str> = r.advisory_tags().iter().map(|t| &**t).collect();
    assert_eq!(
        tags,
        ["legal_notice", "pricing_commitment", "contract_change"]
    );
    for c in interlock_core::Category::ALL {
        let rules = r.category(c);
        assert_eq!(rules.level, Level::HumanApproval);
        assert!(rules.thresholds.is_empty());
        assert_eq!(rules.time_bomb.duration, Span::from_hours(4));
        assert_eq!(rules.time_bomb.final_warning, Some(Span::from_hours(1)));
    }
}

#[test]
fn overlapping_bands_are_refused_naming_the_category_and_both_bands() {
    let ps = problems(
        r#"{"categories": {"REFUND": {"thresholds": [
            {"below": "60.00", "level": "autonomous"},
            {"from": "50.00", "to": "500.00", "level": "time_bomb"}]}}}"#,
    );
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].0, "categories.REFUND.thresholds[1]");
    assert!(ps[0].1.contains("REFUND"), "{}", ps[0].1);
    assert!(
        ps[0]
            .1
            .contains("band 2 (50.00–500.00) overlaps band 1 (< 60.00)"),
        "{}",
        ps[0].1
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let ps = problems(
        r#"{"currency": "USD", "advisory_tags": ["Legal Notice"], "categories": {
            "REFUNDS": {},
            "REFUND": {"level": "yolo", "time_bomb": {"duration": "100h", "final_warning": "5h"}, "thresholds": [
                {"from": "500.00", "to": "50.00", "level": "time_bomb"},
                {"below": "-1", "level": "autonomous"},
                {"at_least": "10.001", "level": "autonomous"},
                {"above": "5", "at_most": "9", "level": "autonomous"},
                {"above": "5", "level": "human_approval", "duration": "2h"}
            ]},
            "SEND_EMAIL": {"time_bomb": {"duration": "30m"}}
        }}"#,
    );
    let fields: Vec<&str> = ps.iter().map(|(f, _)| f.as_str()).collect();
    for expected in [
        "advisory_tags[0]",
        "categories.REFUNDS",
        "categories.REFUND.level",
        "categories.REFUND.time_bomb.duration",
        "categories.REFUND.thresholds[0]",
        "categories.REFUND.thresholds[1].below",
        "categories.REFUND.thresholds[2].at_least",
        "categories.REFUND.thresholds[3]",
        "categories.REFUND.thresholds[4].duration",
        "categories.SEND_EMAIL.time_bomb.duration",
    ] {
        assert!(fields.contains(&expected), "missing {expected} in {ps:#?}");
    }
    let reversed = &ps
        .iter()
        .find(|(f, _)| f == "categories.REFUND.thresholds[0]")
        .unwrap()
        .1;
    assert!(
        reversed.contains("lower end is above its upper end"),
        "{reversed}"
    );
}

#[test]
fn a_bound_with_more_decimals_than_the_team_currency_is_refused() {
    let ps = problems(
        r#"{"currency": "JPY", "categories": {"REFUND": {"thresholds": [{"below": "50.50", "level": "autonomous"}]}}}"#,
    );
    assert_eq!(ps.len(), 1);
    assert!(ps[0].1.contains("JPY allows 0"), "{}", ps[0].1);
}

#[test]
fn an_unknown_currency_is_reported_once_not_per_band() {
    let ps = problems(
        r#"{"currency": "DOGE", "categories": {"REFUND": {"thresholds": [{"below": "50.505", "level": "autonomous"}]}}}"#,
    );
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].0, "currency");
}

#[test]
fn a_final_warning_must_be_shorter_than_the_duration() {
    let ps = problems(
        r#"{"categories": {"SCHEDULE": {"time_bomb": {"duration": "2h", "final_warning": "2h"}}}}"#,
    );
    assert_eq!(ps[0].0, "categories.SCHEDULE.time_bomb.final_warning");
    // Leaving the default 1 h warning with a 1 h duration is the same mistake.
    let ps = problems(r#"{"categories": {"SCHEDULE": {"time_bomb": {"duration": "1h"}}}}"#);
    assert_eq!(ps[0].0, "categories.SCHEDULE.time_bomb.final_warning");
}

#[test]
fn a_final_warning_can_be_turned_off_with_null_or_off() {
    for off in ["null", "\"off\""] {
        let r = RuleSet::from_json_str(&format!(
            r#"{{"categories": {{"SCHEDULE": {{"time_bomb": {{"duration": "1h", "final_warning": {off}}}}}}}}}"#
        ))
        .unwrap();
        assert_eq!(
            r.category(interlock_core::Category::Schedule)
                .time_bomb
                .final_warning,
            None
        );
    }
}

#[test]
fn time_bomb_durations_from_one_to_seventy_two_hours_are_accepted() {
    for ok in ["1h", "72h", "90m"] {
        let json = format!(
            r#"{{"categories": {{"REFUND": {{"time_bomb": {{"duration": "{ok}", "final_warning": null}}}}}}}}"#
        );
        assert!(RuleSet::from_json_str(&json).is_ok(), "{ok}");
    }
    for bad in ["59m", "73h", "0m"] {
        let json = format!(
            r#"{{"categories": {{"REFUND": {{"time_bomb": {{"duration": "{bad}", "final_warning": null}}}}}}}}"#
        );
        assert!(RuleSet::from_json_str(&json).is_err(), "{bad}");
    }
}

#[test]
fn unknown_fields_are_refused_rather_than_ignored() {
    let err = RuleSet::from_json_str(r#"{"categories": {"REFUND": {"levle": "autonomous"}}}"#)
        .unwrap_err();
    assert!(matches!(err, RulesReadError::Syntax { .. }), "{err:?}");
    assert!(err.to_string().contains("levle"), "{err}");
}

#[test]
fn too_many_bands_are_refused() {
    let bands: Vec<String> = (0..33)
        .map(|i| format!(r#"{{"from": "{i}.00", "to": "{i}.50", "level": "autonomous"}}"#))
        .collect();
    let ps = problems(&format!(
        r#"{{"categories": {{"REFUND": {{"thresholds": [{}]}}}}}}"#,
        bands.join(",")
    ));
    assert!(ps[0].1.contains("at most 32"), "{ps:?}");
}
