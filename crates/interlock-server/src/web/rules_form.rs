//! The HITL rules editor's form, both ways: a rule set shown as inputs, and the submitted
//! inputs read back into the same document the API takes, so one validator
//! (`RuleSet::from_doc`) judges both and its problems land next to the inputs they concern.

use interlock_core::rules::{AmountText, DocStyle, RuleSet};
use interlock_core::rules::{BandDoc, CategoryDoc, Problem, RuleSetDoc, TimeBombDoc};
use interlock_core::{Category, Level};

/// Empty band rows offered under each category, for adding bands without a script.
const BLANK_BANDS: usize = 2;
/// The most band rows read from one category of a form (the validator allows fewer).
const MAX_FORM_BANDS: usize = 64;

/// The band shapes of SPEC §4, as the form's selector names them.
pub const BAND_KINDS: [(&str, &str); 5] = [
    ("below", "below"),
    ("at_most", "at most"),
    ("from", "from … to"),
    ("above", "above"),
    ("at_least", "at least"),
];

#[derive(Debug, Clone, Default)]
pub struct BandRow {
    /// Position in the form (input names); stable while editing.
    pub index: usize,
    /// One of [`BAND_KINDS`], or empty for an unused row.
    pub kind: String,
    pub amount: String,
    pub to: String,
    pub level: String,
    pub duration: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CategoryForm {
    pub name: &'static str,
    pub level: String,
    pub duration: String,
    pub remind_at_50: bool,
    pub remind_at_90: bool,
    /// A duration, or `off`.
    pub final_warning: String,
    pub bands: Vec<BandRow>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RulesForm {
    pub currency: String,
    pub advisory_tags: String,
    pub categories: Vec<CategoryForm>,
    /// Problems that belong to no single input.
    pub problems: Vec<String>,
}

fn text(a: &Option<AmountText>) -> String {
    a.as_ref().map(|t| t.0.clone()).unwrap_or_default()
}

fn band_row(index: usize, b: &BandDoc) -> BandRow {
    let (kind, amount, to) = if b.below.is_some() {
        ("below", text(&b.below), String::new())
    } else if b.at_most.is_some() {
        ("at_most", text(&b.at_most), String::new())
    } else if b.above.is_some() {
        ("above", text(&b.above), String::new())
    } else if b.at_least.is_some() {
        ("at_least", text(&b.at_least), String::new())
    } else {
        ("from", text(&b.from), text(&b.to))
    };
    BandRow {
        index,
        kind: kind.to_owned(),
        amount,
        to,
        level: b.level.clone(),
        duration: b.duration.clone().unwrap_or_default(),
        problems: Vec::new(),
    }
}

fn blank_rows(bands: &mut Vec<BandRow>) {
    let next = bands.last().map_or(0, |b| b.index + 1);
    bands.extend((0..BLANK_BANDS).map(|i| BandRow {
        index: next + i,
        level: Level::TimeBomb.as_str().to_owned(),
        ..BandRow::default()
    }));
}

impl RulesForm {
    /// A saved rule set as a form.
    pub fn from_rules(rules: &RuleSet) -> RulesForm {
        let doc = rules.to_doc(DocStyle::Toml);
        let categories = Category::ALL
            .into_iter()
            .map(|c| {
                let d = doc.categories.get(c.as_str()).cloned().unwrap_or_default();
                let tb = d.time_bomb.unwrap_or_default();
                let mut bands: Vec<BandRow> = d
                    .thresholds
                    .iter()
                    .enumerate()
                    .map(|(i, b)| band_row(i, b))
                    .collect();
                blank_rows(&mut bands);
                CategoryForm {
                    name: c.as_str(),
                    level: d.level.unwrap_or_default(),
                    duration: tb.duration.unwrap_or_default(),
                    remind_at_50: tb.remind_at_50.unwrap_or(false),
                    remind_at_90: tb.remind_at_90.unwrap_or(false),
                    final_warning: tb.final_warning.flatten().unwrap_or_else(|| "off".into()),
                    bands,
                    problems: Vec::new(),
                }
            })
            .collect();
        RulesForm {
            currency: doc.currency.unwrap_or_default(),
            advisory_tags: doc.advisory_tags.unwrap_or_default().join(", "),
            categories,
            problems: Vec::new(),
        }
    }

    /// The submitted form, exactly as typed (so a refused form comes back as it was).
    pub fn from_fields(fields: &[(String, String)]) -> RulesForm {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let categories = Category::ALL
            .into_iter()
            .map(|c| {
                let p = |field: &str| format!("{c}.{field}");
                let mut bands = Vec::new();
                for i in 0..MAX_FORM_BANDS {
                    let b = |field: &str| get(&format!("{c}.band.{i}.{field}"));
                    let present = fields
                        .iter()
                        .any(|(n, _)| n.starts_with(&format!("{c}.band.{i}.")));
                    if !present {
                        continue;
                    }
                    if b("remove") == "on" || b("kind").is_empty() {
                        continue;
                    }
                    bands.push(BandRow {
                        index: i,
                        kind: b("kind"),
                        amount: b("amount"),
                        to: b("to"),
                        level: b("level"),
                        duration: b("duration"),
                        problems: Vec::new(),
                    });
                }
                CategoryForm {
                    name: c.as_str(),
                    level: get(&p("level")),
                    duration: get(&p("duration")),
                    remind_at_50: get(&p("remind_at_50")) == "on",
                    remind_at_90: get(&p("remind_at_90")) == "on",
                    final_warning: get(&p("final_warning")),
                    bands,
                    problems: Vec::new(),
                }
            })
            .collect();
        RulesForm {
            currency: get("currency"),
            advisory_tags: get("advisory_tags"),
            categories,
            problems: Vec::new(),
        }
    }

    /// The document the validator reads.
    pub fn to_doc(&self) -> RuleSetDoc {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let amount = |s: &str| Some(AmountText(s.to_owned()));
        let categories = self
            .categories
            .iter()
            .map(|c| {
                let thresholds = c
                    .bands
                    .iter()
                    .map(|b| {
                        let mut d = BandDoc {
                            level: b.level.clone(),
                            duration: opt(&b.duration),
                            ..BandDoc::default()
                        };
                        match b.kind.as_str() {
                            "below" => d.below = amount(&b.amount),
                            "at_most" => d.at_most = amount(&b.amount),
                            "above" => d.above = amount(&b.amount),
                            "at_least" => d.at_least = amount(&b.amount),
                            _ => {
                                d.from = amount(&b.amount);
                                d.to = amount(&b.to);
                            }
                        }
                        d
                    })
                    .collect();
                let final_warning = match c.final_warning.as_str() {
                    "" | "off" => None,
                    other => Some(other.to_owned()),
                };
                let doc = CategoryDoc {
                    level: opt(&c.level),
                    time_bomb: Some(TimeBombDoc {
                        duration: opt(&c.duration),
                        remind_at_50: Some(c.remind_at_50),
                        remind_at_90: Some(c.remind_at_90),
                        final_warning: Some(final_warning),
                    }),
                    thresholds,
                };
                (c.name.to_owned(), doc)
            })
            .collect();
        let tags = self
            .advisory_tags
            .split([',', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        RuleSetDoc {
            version: None,
            currency: opt(&self.currency),
            advisory_tags: Some(tags),
            categories,
        }
    }

    /// Puts each validation problem next to its input: `categories.REFUND.thresholds[1].to`
    /// goes to REFUND's second submitted band, `categories.REFUND.level` to REFUND, the
    /// rest to the top of the form.
    pub fn place(&mut self, problems: &[Problem]) {
        for p in problems {
            let Some(rest) = p.field.strip_prefix("categories.") else {
                self.problems.push(p.message.clone());
                continue;
            };
            let (name, rest) = rest.split_once('.').unwrap_or((rest, ""));
            let Some(c) = self.categories.iter_mut().find(|c| c.name == name) else {
                self.problems.push(p.message.clone());
                continue;
            };
            let band = rest
                .strip_prefix("thresholds[")
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| c.bands.get_mut(n));
            match band {
                Some(b) => b.problems.push(p.message.clone()),
                None => c.problems.push(p.message.clone()),
            }
        }
    }

    /// After a refused save, offer blank rows again.
    pub fn with_blank_rows(mut self) -> RulesForm {
        for c in &mut self.categories {
            blank_rows(&mut c.bands);
        }
        self
    }

    pub fn problem_count(&self) -> usize {
        self.problems.len()
            + self
                .categories
                .iter()
                .map(|c| c.problems.len() + c.bands.iter().map(|b| b.problems.len()).sum::<usize>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKED: &str = include_str!("../../../../examples/rules.json");

    fn fields_of(form: &RulesForm) -> Vec<(String, String)> {
        let mut out = vec![
            ("currency".to_owned(), form.currency.clone()),
            ("advisory_tags".to_owned(), form.advisory_tags.clone()),
        ];
        for c in &form.categories {
            let mut put = |k: String, v: String| out.push((k, v));
            put(format!("{}.level", c.name), c.level.clone());
            put(format!("{}.duration", c.name), c.duration.clone());
            if c.remind_at_50 {
                put(format!("{}.remind_at_50", c.name), "on".into());
            }
            if c.remind_at_90 {
                put(format!("{}.remind_at_90", c.name), "on".into());
            }
            put(format!("{}.final_warning", c.name), c.final_warning.clone());
            for b in &c.bands {
                let n = |f: &str| format!("{}.band.{}.{f}", c.name, b.index);
                put(n("kind"), b.kind.clone());
                put(n("amount"), b.amount.clone());
                put(n("to"), b.to.clone());
                put(n("level"), b.level.clone());
                put(n("duration"), b.duration.clone());
            }
        }
        out
    }

    #[test]
    fn the_worked_example_survives_a_round_trip_through_the_form() {
        let rules = RuleSet::from_json_str(WORKED).unwrap();
        let form = RulesForm::from_rules(&rules);
        let back = RuleSet::from_doc(&RulesForm::from_fields(&fields_of(&form)).to_doc()).unwrap();
        assert!(back.same_rules_as(&rules));
    }

    #[test]
    fn a_removed_band_is_gone_and_problems_land_on_their_band() {
        let rules = RuleSet::from_json_str(WORKED).unwrap();
        let mut fields = fields_of(&RulesForm::from_rules(&rules));
        fields.push(("REFUND.band.0.remove".into(), "on".into()));
        // The middle band now ends below where it starts.
        for (n, v) in &mut fields {
            if n == "REFUND.band.1.to" {
                *v = "10.00".into();
            }
        }
        let mut form = RulesForm::from_fields(&fields);
        let refund = &form.categories.iter().find(|c| c.name == "REFUND").unwrap();
        assert_eq!(
            refund.bands.len(),
            2,
            "the removed band and blank rows are dropped"
        );
        let problems = RuleSet::from_doc(&form.to_doc()).unwrap_err().0;
        form.place(&problems);
        let refund = form.categories.iter().find(|c| c.name == "REFUND").unwrap();
        assert_eq!(refund.bands[0].index, 1);
        assert!(!refund.bands[0].problems.is_empty(), "{problems:?}");
        assert!(form.problem_count() >= 1);
    }
}
