use std::sync::Arc;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::category::{Category, Level};
use crate::money::{AmountError, Money};
use crate::rules::{Band, RuleSet, TimeBombSettings};
use crate::schedule::{ReminderKind, Schedule};
use crate::span::Span;

/// What `decide` needs to know about a proposed action.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub category: Category,
    pub amount: Option<Money>,
    pub tags: &'a [String],
}

/// The rule that decided the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecidingRule {
    /// The category's default level (no band applies, or the category has none).
    Default,
    /// A threshold override; `index` is its position in the category's bands.
    Threshold { index: usize, band: Band },
    /// An advisory tag on the action.
    AdvisoryTag { tag: Arc<str> },
}

impl DecidingRule {
    /// The wire name (SPEC §16): `default`, `threshold` or `advisory_tag`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            DecidingRule::Default => "default",
            DecidingRule::Threshold { .. } => "threshold",
            DecidingRule::AdvisoryTag { .. } => "advisory_tag",
        }
    }
}

/// The countdown a time-bomb decision arms: duration and which reminders are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBombPlan {
    pub duration: Span,
    pub remind_at_50: bool,
    pub remind_at_90: bool,
    pub final_warning: Option<Span>,
}

impl TimeBombPlan {
    /// The reminders this countdown sends, as offsets from arming: each strictly after
    /// arming and before the deadline, ordered, and never two at the same instant.
    pub fn reminder_offsets(&self) -> Vec<(ReminderKind, chrono::TimeDelta)> {
        crate::schedule::reminder_offsets(self)
    }

    /// Deadline and reminder instants for a countdown armed at `armed_at`.
    pub fn schedule(&self, armed_at: chrono::DateTime<chrono::Utc>) -> Schedule {
        Schedule::new(self, armed_at)
    }
}

/// The outcome of deciding: a level, why, and for time bombs the countdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub category: Category,
    pub amount: Option<Money>,
    pub level: Level,
    pub rule: DecidingRule,
    pub rule_set_version: u64,
    pub time_bomb: Option<TimeBombPlan>,
}

/// A proposal that cannot be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("{category} has threshold overrides, so an action of this category needs an amount")]
    AmountRequired { category: Category },
    #[error(transparent)]
    Currency(AmountError),
}

impl DecideError {
    pub const fn code(&self) -> &'static str {
        match self {
            DecideError::AmountRequired { .. } => "amount_required",
            DecideError::Currency(e) => e.code(),
        }
    }
}

impl RuleSet {
    /// Decides the level of a proposal (SPEC §5): an advisory tag, else the band that holds
    /// the amount, else the category's default. Pure and allocation-free except for the
    /// name of a deciding advisory tag.
    pub fn decide(&self, proposal: &Proposal<'_>) -> Result<Decision, DecideError> {
        let category = proposal.category;
        let rules = self.category(category);
        if let Some(money) = proposal.amount
            && money.currency() != self.currency()
        {
            return Err(DecideError::Currency(AmountError::CurrencyMismatch {
                expected: self.currency(),
                got: money.currency(),
            }));
        }
        let decision = |level: Level, rule: DecidingRule, duration: Option<Span>| Decision {
            category,
            amount: proposal.amount,
            level,
            rule,
            rule_set_version: self.version(),
            time_bomb: (level == Level::TimeBomb).then(|| plan(&rules.time_bomb, duration)),
        };

        if let Some(tag) = self
            .advisory_tags()
            .iter()
            .find(|a| proposal.tags.iter().any(|t| t.as_str() == &***a))
        {
            let rule = DecidingRule::AdvisoryTag { tag: tag.clone() };
            return Ok(decision(Level::Advisory, rule, None));
        }
        let ranges = self.ranges(category);
        if !ranges.is_empty() {
            let minor = proposal
                .amount
                .ok_or(DecideError::AmountRequired { category })?
                .minor_units();
            if let Some(index) = ranges.iter().position(|r| r.contains(minor)) {
                let t = &rules.thresholds[index];
                let rule = DecidingRule::Threshold {
                    index,
                    band: t.band,
                };
                return Ok(decision(t.level, rule, t.duration));
            }
        }
        Ok(decision(rules.level, DecidingRule::Default, None))
    }
}

fn plan(settings: &TimeBombSettings, band_duration: Option<Span>) -> TimeBombPlan {
    TimeBombPlan {
        duration: band_duration.unwrap_or(settings.duration),
        remind_at_50: settings.remind_at_50,
        remind_at_90: settings.remind_at_90,
        final_warning: settings.final_warning,
    }
}

impl Decision {
    /// One line for people, e.g. "REFUND 120.00 USD → time bomb 24 h: band 50.00–500.00, rules v3".
    pub fn explanation(&self) -> String {
        let subject = match self.amount {
            Some(m) => format!("{} {m}", self.category),
            None => self.category.to_string(),
        };
        let outcome = match self.time_bomb {
            Some(tb) => format!("{} {}", self.level.label(), tb.duration.label()),
            None => self.level.label().to_owned(),
        };
        let reason = match &self.rule {
            DecidingRule::Default => match self.amount {
                Some(m) => format!(
                    "no band holds {}, so the category's default level",
                    m.amount_text()
                ),
                None => "the category's default level".to_owned(),
            },
            DecidingRule::Threshold { band, .. } => {
                let currency = self.amount.map_or(crate::Currency::USD, |m| m.currency());
                format!("band {}", band.label(currency))
            }
            DecidingRule::AdvisoryTag { tag } => format!("tagged {tag}, which is always advisory"),
        };
        format!(
            "{subject} → {outcome}: {reason}, rules v{}",
            self.rule_set_version
        )
    }
}

/// The decision object of the API (SPEC §16) and of `interlock rules decide --json`.
impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Decision", 7)?;
        st.serialize_field("level", &self.level)?;
        st.serialize_field("rule", self.rule.as_str())?;
        st.serialize_field("rule_set_version", &self.rule_set_version)?;
        st.serialize_field("explanation", &self.explanation())?;
        match &self.rule {
            DecidingRule::Threshold { index, band } => {
                let currency = self.amount.map_or(crate::Currency::USD, |m| m.currency());
                st.serialize_field(
                    "band",
                    &serde_json::json!({"index": index, "label": band.label(currency)}),
                )?;
            }
            DecidingRule::AdvisoryTag { tag } => st.serialize_field("tag", &**tag)?,
            DecidingRule::Default => {}
        }
        if let Some(tb) = &self.time_bomb {
            let reminders: Vec<_> = tb
                .reminder_offsets()
                .into_iter()
                .map(|(kind, after)| {
                    serde_json::json!({
                        "kind": kind,
                        "after": crate::schedule::offset_text(after),
                        "after_seconds": after.num_seconds(),
                    })
                })
                .collect();
            st.serialize_field(
                "time_bomb",
                &serde_json::json!({
                    "duration": tb.duration,
                    "duration_seconds": tb.duration.seconds(),
                    "reminders": reminders,
                }),
            )?;
        }
        st.end()
    }
}
