use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Band, RuleSet, Threshold};
use crate::category::Category;
use crate::money::format_amount;

/// The rule set as written in JSON (SPEC §16) and TOML. Everything is optional on input
/// (a category left out keeps the conservative default) and kept as text until
/// validation, so that every problem can be reported at once with its location.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory_tags: Option<Vec<String>>,
    #[serde(default)]
    pub categories: BTreeMap<String, CategoryDoc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_bomb: Option<TimeBombDoc>,
    #[serde(default)]
    pub thresholds: Vec<BandDoc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeBombDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at_50: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at_90: Option<bool>,
    /// Absent: the default (1 h). `null` or `"off"`: no final warning.
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub final_warning: Option<Option<String>>,
}

/// A band: exactly one of `below`, `at_most`, `above`, `at_least`, or `from` with `to`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<AmountText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<AmountText>,
    #[serde(default)]
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

fn present_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// An amount exactly as written: a JSON string, a JSON number read from its digits (never
/// through a float) or an integer. Floats from formats that only have floats (TOML) are
/// refused: write amounts as strings there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountText(pub String);

impl Serialize for AmountText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AmountText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor)
    }
}

struct AmountVisitor;

impl<'de> Visitor<'de> for AmountVisitor {
    type Value = AmountText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount as a decimal string such as \"50.00\" or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AmountText, E> {
        Ok(AmountText(v.to_owned()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AmountText, E> {
        Ok(AmountText(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AmountText, E> {
        Ok(AmountText(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AmountText, E> {
        Err(E::custom(
            "amounts with decimals must be written as strings here, e.g. \"50.00\"",
        ))
    }

    /// serde_json with `arbitrary_precision` hands numbers over as a one-entry map holding
    /// the digits; `serde_json::Number` knows how to read that.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AmountText, A::Error> {
        let n = serde_json::Number::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(AmountText(n.to_string()))
    }
}

/// `final_warning: off` is `null` in JSON; TOML has no null, so it is written `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStyle {
    Json,
    Toml,
}

impl RuleSet {
    /// The full document: every category, every setting, amounts in the team currency.
    pub fn to_doc(&self, style: DocStyle) -> RuleSetDoc {
        let amount = |x| Some(AmountText(format_amount(x, self.currency)));
        let categories = Category::ALL
            .into_iter()
            .map(|c| {
                let rules = self.category(c);
                let tb = rules.time_bomb;
                let final_warning = match (tb.final_warning, style) {
                    (Some(lead), _) => Some(lead.to_string()),
                    (None, DocStyle::Json) => None,
                    (None, DocStyle::Toml) => Some("off".to_owned()),
                };
                let thresholds = rules
                    .thresholds
                    .iter()
                    .map(|t: &Threshold| {
                        let mut b = BandDoc {
                            level: t.level.as_str().to_owned(),
                            duration: t.duration.map(|d| d.to_string()),
                            ..BandDoc::default()
                        };
                        match t.band {
                            Band::Below(x) => b.below = amount(x),
                            Band::AtMost(x) => b.at_most = amount(x),
                            Band::Above(x) => b.above = amount(x),
                            Band::AtLeast(x) => b.at_least = amount(x),
                            Band::Between { from, to } => {
                                b.from = amount(from);
                                b.to = amount(to);
                            }
                        }
                        b
                    })
                    .collect();
                let doc = CategoryDoc {
                    level: Some(rules.level.as_str().to_owned()),
                    time_bomb: Some(TimeBombDoc {
                        duration: Some(tb.duration.to_string()),
                        remind_at_50: Some(tb.remind_at_50),
                        remind_at_90: Some(tb.remind_at_90),
                        final_warning: Some(final_warning),
                    }),
                    thresholds,
                };
                (c.as_str().to_owned(), doc)
            })
            .collect();
        RuleSetDoc {
            version: Some(self.version()),
            currency: Some(self.currency().code().to_owned()),
            advisory_tags: Some(self.advisory_tags().iter().map(|t| t.to_string()).collect()),
            categories,
        }
    }
}
