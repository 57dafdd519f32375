//! A team's rule set (SPEC §4): its model, its wire document (JSON and TOML share one
//! shape) and the validation that turns the one into the other.

mod band;
mod doc;
mod validate;

pub use validate::check_tag;

use std::fmt;
use std::sync::Arc;

pub use band::{Band, MinorRange};
pub use doc::{AmountText, BandDoc, CategoryDoc, DocStyle, RuleSetDoc, TimeBombDoc};

use crate::category::{Category, Level};
use crate::money::Currency;
use crate::span::Span;

/// Time-bomb durations are allowed from one hour to three days.
pub const MIN_TIME_BOMB: Span = Span::from_hours(1);
pub const MAX_TIME_BOMB: Span = Span::from_hours(72);
/// Bounds on input sizes: a rule set is read on every decision and edited by hand.
pub const MAX_BANDS_PER_CATEGORY: usize = 32;
pub const MAX_ADVISORY_TAGS: usize = 64;
pub const MAX_TAG_LEN: usize = 64;
/// The tags a new team starts with: compliance-sensitive actions stay human-only.
pub const DEFAULT_ADVISORY_TAGS: [&str; 3] =
    ["legal_notice", "pricing_commitment", "contract_change"];

/// Countdown and reminder settings used whenever a category resolves to time bomb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBombSettings {
    pub duration: Span,
    pub remind_at_50: bool,
    pub remind_at_90: bool,
    /// Lead time before the deadline; `None` is off.
    pub final_warning: Option<Span>,
}

impl Default for TimeBombSettings {
    fn default() -> Self {
        TimeBombSettings {
            duration: Span::from_hours(4),
            remind_at_50: true,
            remind_at_90: true,
            final_warning: Some(Span::from_hours(1)),
        }
    }
}

/// One threshold override: an amount band and the level it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub band: Band,
    pub level: Level,
    /// A time-bomb band's own countdown, replacing the category's duration.
    pub duration: Option<Span>,
}

/// One category's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRules {
    pub level: Level,
    pub time_bomb: TimeBombSettings,
    pub thresholds: Vec<Threshold>,
}

impl Default for CategoryRules {
    /// Conservative: every category starts at human approval with no overrides.
    fn default() -> Self {
        CategoryRules {
            level: Level::HumanApproval,
            time_bomb: TimeBombSettings::default(),
            thresholds: Vec::new(),
        }
    }
}

/// A validated rule set. It can only be built through [`RuleSet::from_doc`] (or the
/// conservative default), so every rule set in the system is well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    version: u64,
    currency: Currency,
    /// Shared strings, so a decision names its tag without allocating.
    advisory_tags: Vec<Arc<str>>,
    categories: [CategoryRules; 7],
    /// Each category's bands as minor-unit ranges, in band order: what `decide` compares.
    ranges: [Vec<MinorRange>; 7],
}

impl RuleSet {
    /// What a new team starts with (SPEC §4).
    pub fn conservative() -> RuleSet {
        RuleSet {
            version: 1,
            currency: Currency::USD,
            advisory_tags: DEFAULT_ADVISORY_TAGS.map(Arc::from).to_vec(),
            categories: Default::default(),
            ranges: Default::default(),
        }
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The same rules under another version number; the store numbers saved versions.
    pub fn with_version(mut self, version: u64) -> RuleSet {
        self.version = version;
        self
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn advisory_tags(&self) -> &[Arc<str>] {
        &self.advisory_tags
    }

    pub fn category(&self, category: Category) -> &CategoryRules {
        &self.categories[category.index()]
    }

    /// A category's bands as minor-unit ranges, index for index with its thresholds.
    pub(crate) fn ranges(&self, category: Category) -> &[MinorRange] {
        &self.ranges[category.index()]
    }

    /// The same rules, ignoring the version number: a save that changes nothing.
    pub fn same_rules_as(&self, other: &RuleSet) -> bool {
        self.currency == other.currency
            && self.advisory_tags == other.advisory_tags
            && self.categories == other.categories
    }
}

/// One thing wrong with a rule-set document: where, and what, in words that name the
/// category and bands involved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// A path into the document, e.g. `categories.REFUND.thresholds[1].to`.
    pub field: String,
    pub message: String,
}

/// Every problem found in a rule-set document, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleSetErrors(pub Vec<Problem>);

impl fmt::Display for RuleSetErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the rule set has {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  {}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

/// Why a rules file or body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesReadError {
    #[error("the rule set is not well-formed {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error(transparent)]
    Invalid(#[from] RuleSetErrors),
}

impl RuleSet {
    pub fn from_json_str(text: &str) -> Result<RuleSet, RulesReadError> {
        let doc: RuleSetDoc = serde_json::from_str(text).map_err(|e| RulesReadError::Syntax {
            format: "JSON",
            message: e.to_string(),
        })?;
        Ok(RuleSet::from_doc(&doc)?)
    }

    pub fn from_toml_str(text: &str) -> Result<RuleSet, RulesReadError> {
        let doc: RuleSetDoc = toml::from_str(text).map_err(|e| RulesReadError::Syntax {
            format: "TOML",
            message: e.to_string(),
        })?;
        Ok(RuleSet::from_doc(&doc)?)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_doc(DocStyle::Json)).expect("rule sets serialize")
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.to_doc(DocStyle::Toml)).expect("rule sets serialize")
    }
}
