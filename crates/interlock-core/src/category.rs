use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name on the wire that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`; expected one of: {expected}")]
pub struct ParseNameError {
    pub kind: &'static str,
    pub name: String,
    pub expected: String,
}

/// The seven kinds of action every deployment knows (SPEC §2). Matched exactly, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    SendEmail,
    SendChat,
    CrmUpdate,
    Refund,
    Schedule,
    InternalNote,
    Escalate,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::SendEmail,
        Category::SendChat,
        Category::CrmUpdate,
        Category::Refund,
        Category::Schedule,
        Category::InternalNote,
        Category::Escalate,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Category::SendEmail => "SEND_EMAIL",
            Category::SendChat => "SEND_CHAT",
            Category::CrmUpdate => "CRM_UPDATE",
            Category::Refund => "REFUND",
            Category::Schedule => "SCHEDULE",
            Category::InternalNote => "INTERNAL_NOTE",
            Category::Escalate => "ESCALATE",
        }
    }

    /// Position in [`Category::ALL`], for per-category tables.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseNameError {
                kind: "category",
                name: s.to_owned(),
                expected: Category::ALL.map(Category::as_str).join(", "),
            })
    }
}

/// How much autonomy an action gets. The declaration order is the strictness order
/// (SPEC §3): autonomous < time bomb < human approval < advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Autonomous,
    TimeBomb,
    HumanApproval,
    Advisory,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Autonomous,
        Level::TimeBomb,
        Level::HumanApproval,
        Level::Advisory,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Autonomous => "autonomous",
            Level::TimeBomb => "time_bomb",
            Level::HumanApproval => "human_approval",
            Level::Advisory => "advisory",
        }
    }

    /// Words for people: "time bomb" rather than `time_bomb`.
    pub const fn label(self) -> &'static str {
        match self {
            Level::Autonomous => "autonomous",
            Level::TimeBomb => "time bomb",
            Level::HumanApproval => "human approval",
            Level::Advisory => "advisory",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| ParseNameError {
                kind: "level",
                name: s.to_owned(),
                expected: Level::ALL.map(Level::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_from_loosest_to_strictest() {
        assert!(Level::Autonomous < Level::TimeBomb);
        assert!(Level::TimeBomb < Level::HumanApproval);
        assert!(Level::HumanApproval < Level::Advisory);
    }

    #[test]
    fn category_names_round_trip_and_are_matched_exactly() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        assert!("refund".parse::<Category>().is_err());
        assert!("Refund".parse::<Category>().is_err());
    }

    #[test]
    fn category_index_matches_its_position() {
        for (i, c) in Category::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }
}
