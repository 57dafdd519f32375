//! Support for the `decide` benchmark: the same team rules decided by interlock-core and
//! by Cedar, and a check that both give the same answer before anything is timed.
//!
//! The timed cases themselves are in `benches/decide.rs`; the method and the results
//! are in `BENCHMARKS.md` at the repository root.

pub mod agreement;
pub mod arrangements;
pub mod cedar;
pub mod fixtures;

use interlock_core::{Currency, DecidingRule, Decision, Level};
use rust_decimal::Decimal;

/// What an arrangement answers: the level and which kind of rule decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub rule: RuleKind,
    pub level: Level,
}

impl Verdict {
    pub fn of(decision: &Decision) -> Verdict {
        let rule = match decision.rule {
            DecidingRule::Default => RuleKind::Default,
            DecidingRule::Threshold { .. } => RuleKind::Threshold,
            DecidingRule::AdvisoryTag { .. } => RuleKind::AdvisoryTag,
        };
        Verdict {
            rule,
            level: decision.level,
        }
    }
}

/// The kinds of deciding rule, in increasing priority (SPEC §5): an advisory tag beats a
/// band, which beats the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleKind {
    Default,
    Threshold,
    AdvisoryTag,
}

impl RuleKind {
    pub const ALL: [RuleKind; 3] = [
        RuleKind::Default,
        RuleKind::Threshold,
        RuleKind::AdvisoryTag,
    ];

    /// The same names as `DecidingRule::as_str`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleKind::Default => "default",
            RuleKind::Threshold => "threshold",
            RuleKind::AdvisoryTag => "advisory_tag",
        }
    }
}

/// An amount as a whole number of the currency's minor units (cents for USD). Exact:
/// amounts and bounds never have more decimals than the currency allows, and 15 integer
/// digits plus 3 decimals fit an `i64`.
pub fn minor_units(amount: Decimal, currency: Currency) -> i64 {
    let mut scaled = amount;
    scaled.rescale(currency.minor_units());
    assert_eq!(scaled, amount, "{amount} has more decimals than {currency}");
    i64::try_from(scaled.mantissa()).expect("amounts fit in an i64 of minor units")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_are_exact_for_every_precision() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let cur = |c: &str| c.parse::<Currency>().unwrap();
        assert_eq!(minor_units(d("49.99"), Currency::USD), 4999);
        assert_eq!(minor_units(d("50"), Currency::USD), 5000);
        assert_eq!(minor_units(d("5000"), cur("JPY")), 5000);
        assert_eq!(minor_units(d("1.005"), cur("KWD")), 1005);
        assert_eq!(
            minor_units(d("999999999999999.999"), cur("KWD")),
            999_999_999_999_999_999
        );
    }

    #[test]
    fn rule_kind_names_match_interlock_core() {
        assert_eq!(RuleKind::Default.as_str(), DecidingRule::Default.as_str());
        assert_eq!(
            RuleKind::AdvisoryTag.as_str(),
            DecidingRule::AdvisoryTag { tag: "".into() }.as_str()
        );
    }
}
