//! The worked example of SPEC §4, row by row and edge by edge.

use interlock_core::rules::RuleSet;
use interlock_core::{
    Category, Currency, DecidingRule, Level, Money, Proposal, ReminderKind, Span,
};

const EXAMPLE_JSON: &str = include_str!("../../../examples/rules.json");
const EXAMPLE_TOML: &str = include_str!("../../../examples/rules.toml");

fn rules() -> RuleSet {
    RuleSet::from_json_str(EXAMPLE_JSON).expect("the worked example is valid")
}

fn usd(amount: &str) -> Option<Money> {
    Some(Money::parse(amount, Currency::USD).unwrap())
}

fn refund(amount: &str) -> interlock_core::Decision {
    rules()
        .decide(&Proposal {
            category: Category::Refund,
            amount: usd(amount),
            tags: &[],
        })
        .unwrap()
}

#[test]
fn a_refund_of_49_99_is_autonomous() {
    let d = refund("49.99");
    assert_eq!(d.level, Level::Autonomous);
    assert!(matches!(d.rule, DecidingRule::Threshold { index: 0, .. }));
    assert_eq!(d.time_bomb, None);
}

#[test]
fn a_refund_of_exactly_fifty_dollars_arms_a_24_hour_time_bomb() {
    let d = refund("50.00");
    assert_eq!(d.level, Level::TimeBomb);
    assert_eq!(d.time_bomb.unwrap().duration, Span::from_hours(24));
    assert!(matches!(d.rule, DecidingRule::Threshold { index: 1, .. }));
}

#[test]
fn a_refund_of_exactly_five_hundred_dollars_arms_a_24_hour_time_bomb() {
    let d = refund("500.00");
    assert_eq!(d.level, Level::TimeBomb);
    assert_eq!(d.time_bomb.unwrap().duration, Span::from_hours(24));
}

#[test]
fn a_refund_of_500_01_needs_human_approval() {
    let d = refund("500.01");
    assert_eq!(d.level, Level::HumanApproval);
    assert!(matches!(d.rule, DecidingRule::Threshold { index: 2, .. }));
}

#[test]
fn a_refund_of_zero_is_autonomous() {
    assert_eq!(refund("0").level, Level::Autonomous);
}

#[test]
fn a_legal_notice_tag_makes_any_amount_advisory() {
    for amount in ["0.00", "49.99", "120.00", "500.00", "99999.99"] {
        let d = rules()
            .decide(&Proposal {
                category: Category::Refund,
                amount: usd(amount),
                tags: &["legal_notice".to_owned()],
            })
            .unwrap();
        assert_eq!(d.level, Level::Advisory, "{amount}");
        assert_eq!(
            d.rule,
            DecidingRule::AdvisoryTag {
                tag: "legal_notice".into()
            }
        );
    }
}

#[test]
fn an_advisory_tag_needs_no_amount_even_on_a_category_with_bands() {
    let d = rules()
        .decide(&Proposal {
            category: Category::Refund,
            amount: None,
            tags: &["contract_change".to_owned()],
        })
        .unwrap();
    assert_eq!(d.level, Level::Advisory);
}

#[test]
fn tags_that_are_not_advisory_change_nothing() {
    let d = rules()
        .decide(&Proposal {
            category: Category::Refund,
            amount: usd("10.00"),
            tags: &["vip".to_owned()],
        })
        .unwrap();
    assert_eq!(d.level, Level::Autonomous);
}

#[test]
fn a_category_left_out_of_the_rules_needs_human_approval() {
    for category in [Category::SendEmail, Category::CrmUpdate, Category::Escalate] {
        let d = rules()
            .decide(&Proposal {
                category,
                amount: None,
                tags: &[],
            })
            .unwrap();
        assert_eq!(d.level, Level::HumanApproval);
        assert_eq!(d.rule, DecidingRule::Default);
    }
}

#[test]
fn a_category_without_bands_ignores_an_amount() {
    let d = rules()
        .decide(&Proposal {
            category: Category::SendEmail,
            amount: usd("9999.00"),
            tags: &[],
        })
        .unwrap();
    assert_eq!(d.level, Level::HumanApproval);
}

#[test]
fn a_refund_without_an_amount_is_refused_as_amount_required() {
    let err = rules()
        .decide(&Proposal {
            category: Category::Refund,
            amount: None,
            tags: &[],
        })
        .unwrap_err();
    assert_eq!(err.code(), "amount_required");
}

#[test]
fn a_refund_in_another_currency_is_refused_not_converted() {
    let eur = Money::parse("120.00", "EUR".parse().unwrap()).unwrap();
    let err = rules()
        .decide(&Proposal {
            category: Category::Refund,
            amount: Some(eur),
            tags: &[],
        })
        .unwrap_err();
    assert_eq!(err.code(), "currency_mismatch");
}

#[test]
fn negative_and_over_precise_amounts_are_refused_before_deciding() {
    assert_eq!(
        Money::parse("-5.00", Currency::USD).unwrap_err().code(),
        "negative_amount"
    );
    assert_eq!(
        Money::parse("50.001", Currency::USD).unwrap_err().code(),
        "too_many_decimals"
    );
    let jpy = "JPY".parse().unwrap();
    assert_eq!(
        Money::parse("5000.00", jpy).unwrap_err().code(),
        "too_many_decimals"
    );
    assert!(Money::parse("5000", jpy).is_ok());
}

#[test]
fn a_gap_between_bands_falls_back_to_the_default_level() {
    let rules = RuleSet::from_json_str(
        r#"{"categories": {"REFUND": {"level": "advisory", "thresholds": [
            {"below": "50.00", "level": "autonomous"},
            {"above": "500.00", "level": "human_approval"}]}}}"#,
    )
    .unwrap();
    let d = rules
        .decide(&Proposal {
            category: Category::Refund,
            amount: usd("120.00"),
            tags: &[],
        })
        .unwrap();
    assert_eq!((d.level, d.rule), (Level::Advisory, DecidingRule::Default));
}

#[test]
fn the_explanation_names_the_band_the_duration_and_the_version() {
    let rules = rules().with_version(3);
    let d = rules
        .decide(&Proposal {
            category: Category::Refund,
            amount: usd("120"),
            tags: &[],
        })
        .unwrap();
    assert_eq!(
        d.explanation(),
        "REFUND 120.00 USD → time bomb 24 h: band 50.00–500.00, rules v3"
    );
}

#[test]
fn a_24_hour_time_bomb_reminds_at_12_hours_21_6_hours_and_23_hours() {
    let offsets: Vec<_> = refund("120.00")
        .time_bomb
        .unwrap()
        .reminder_offsets()
        .into_iter()
        .map(|(k, d)| (k, d.num_minutes()))
        .collect();
    assert_eq!(
        offsets,
        vec![
            (ReminderKind::Half, 12 * 60),
            (ReminderKind::Ninety, 21 * 60 + 36),
            (ReminderKind::FinalWarning, 23 * 60)
        ]
    );
}

#[test]
fn the_toml_example_is_the_same_rule_set_as_the_json_example() {
    assert_eq!(RuleSet::from_toml_str(EXAMPLE_TOML).unwrap(), rules());
}

#[test]
fn a_rule_set_survives_a_round_trip_through_json_and_toml() {
    let r = rules().with_version(7);
    assert_eq!(RuleSet::from_json_str(&r.to_json_pretty()).unwrap(), r);
    assert_eq!(RuleSet::from_toml_str(&r.to_toml()).unwrap(), r);
}

#[test]
fn json_number_amounts_are_read_exactly() {
    let r = RuleSet::from_json_str(
        r#"{"categories": {"REFUND": {"thresholds": [{"below": 50.10, "level": "autonomous"}]}}}"#,
    )
    .unwrap();
    let d = |a| {
        r.decide(&Proposal {
            category: Category::Refund,
            amount: usd(a),
            tags: &[],
        })
        .unwrap()
        .level
    };
    assert_eq!(d("50.09"), Level::Autonomous);
    assert_eq!(d("50.10"), Level::HumanApproval);
}

#[test]
fn toml_float_amounts_are_refused() {
    let err = RuleSet::from_toml_str(
        "[[categories.REFUND.thresholds]]\nbelow = 50.5\nlevel = \"autonomous\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("strings"), "{err}");
}
