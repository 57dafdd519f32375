use std::sync::Arc;

use rust_decimal::Decimal;

use super::{
    AmountText, Band, BandDoc, CategoryDoc, CategoryRules, DEFAULT_ADVISORY_TAGS,
    MAX_ADVISORY_TAGS, MAX_BANDS_PER_CATEGORY, MAX_TAG_LEN, MAX_TIME_BOMB, MIN_TIME_BOMB, Problem,
    RuleSet, RuleSetDoc, RuleSetErrors, Threshold, TimeBombDoc, TimeBombSettings,
};
use crate::category::{Category, Level};
use crate::money::{Currency, parse_amount};
use crate::span::Span;

/// Collects problems as validation walks the document, so that all are reported at once.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }
}

impl RuleSet {
    /// Validates a document into a rule set, or lists every problem in it.
    pub fn from_doc(doc: &RuleSetDoc) -> Result<RuleSet, RuleSetErrors> {
        let mut problems = Problems::default();

        let currency_text = doc.currency.as_deref().unwrap_or("USD");
        let currency = match currency_text.parse::<Currency>() {
            Ok(c) => Some(c),
            Err(e) => {
                problems.add("currency", e.to_string());
                None
            }
        };

        let advisory_tags = match &doc.advisory_tags {
            None => DEFAULT_ADVISORY_TAGS.map(str::to_owned).to_vec(),
            Some(tags) => check_tags(tags, &mut problems),
        };

        let mut rule_set = RuleSet::conservative();
        for (name, category_doc) in &doc.categories {
            match name.parse::<Category>() {
                Ok(category) => {
                    let checked = check_category(category, category_doc, currency, &mut problems);
                    rule_set.categories[category.index()] = checked;
                }
                Err(e) => problems.add(format!("categories.{name}"), e.to_string()),
            }
        }

        if !problems.0.is_empty() {
            return Err(RuleSetErrors(problems.0));
        }
        let currency = currency.unwrap_or(Currency::USD);
        for c in Category::ALL {
            rule_set.ranges[c.index()] = rule_set.categories[c.index()]
                .thresholds
                .iter()
                .map(|t| {
                    t.band
                        .minor_range(currency)
                        .expect("validated bounds fit the currency")
                })
                .collect();
        }
        rule_set.version = doc.version.unwrap_or(1);
        rule_set.currency = currency;
        rule_set.advisory_tags = advisory_tags.into_iter().map(Arc::from).collect();
        Ok(rule_set)
    }
}

fn check_tags(tags: &[String], problems: &mut Problems) -> Vec<String> {
    if tags.len() > MAX_ADVISORY_TAGS {
        problems.add(
            "advisory_tags",
            format!(
                "at most {MAX_ADVISORY_TAGS} advisory tags are allowed, found {}",
                tags.len()
            ),
        );
    }
    let mut kept: Vec<String> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        if let Err(why) = check_tag(tag) {
            problems.add(format!("advisory_tags[{i}]"), format!("tag `{tag}` {why}"));
        } else if !kept.contains(tag) {
            kept.push(tag.clone());
        }
    }
    kept
}

/// Tags are short machine words such as `legal_notice`.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.:".contains(&b);
    if tag.is_empty() || tag.len() > MAX_TAG_LEN {
        Err(format!("must be 1 to {MAX_TAG_LEN} characters long"))
    } else if !tag.bytes().all(allowed) {
        Err("may hold only lower-case letters, digits and _ - . :".to_owned())
    } else {
        Ok(())
    }
}

fn check_category(
    category: Category,
    doc: &CategoryDoc,
    currency: Option<Currency>,
    problems: &mut Problems,
) -> CategoryRules {
    let base = format!("categories.{category}");
    let mut rules = CategoryRules::default();
    if let Some(level) = &doc.level {
        match level.parse::<Level>() {
            Ok(l) => rules.level = l,
            Err(e) => problems.add(format!("{base}.level"), format!("{category}: {e}")),
        }
    }
    if let Some(tb) = &doc.time_bomb {
        rules.time_bomb = check_time_bomb(category, &base, tb, problems);
    }
    if doc.thresholds.len() > MAX_BANDS_PER_CATEGORY {
        problems.add(
            format!("{base}.thresholds"),
            format!(
                "{category}: at most {MAX_BANDS_PER_CATEGORY} bands are allowed, found {}",
                doc.thresholds.len()
            ),
        );
        return rules;
    }
    let mut bands: Vec<Option<Threshold>> = Vec::new();
    for (i, band_doc) in doc.thresholds.iter().enumerate() {
        let field = format!("{base}.thresholds[{i}]");
        bands.push(check_band(
            category, i, &field, band_doc, currency, problems,
        ));
    }
    // Overlaps are judged among the bands that are well formed on their own, in whole
    // minor units: two bands overlap when some amount of the currency falls in both.
    // Without a valid currency there is nothing to judge them by (that problem is reported).
    let Some(currency) = currency else {
        rules.thresholds = bands.into_iter().flatten().collect();
        return rules;
    };
    let label = |t: &Threshold| t.band.label(currency);
    let range = |t: &Threshold| t.band.minor_range(currency);
    for (j, b) in bands.iter().enumerate() {
        for (i, a) in bands.iter().enumerate().take(j) {
            if let (Some(a), Some(b)) = (a, b)
                && let (Some(ra), Some(rb)) = (range(a), range(b))
                && ra.overlaps(&rb)
            {
                problems.add(
                    format!("{base}.thresholds[{j}]"),
                    format!(
                        "{category}: band {} ({}) overlaps band {} ({}); an amount may fall in one band at most",
                        j + 1,
                        label(b),
                        i + 1,
                        label(a)
                    ),
                );
            }
        }
    }
    rules.thresholds = bands.into_iter().flatten().collect();
    rules
}

fn check_time_bomb(
    category: Category,
    base: &str,
    doc: &TimeBombDoc,
    problems: &mut Problems,
) -> TimeBombSettings {
    let mut settings = TimeBombSettings::default();
    if let Some(text) = &doc.duration {
        let field = format!("{base}.time_bomb.duration");
        if let Some(d) = check_duration(category, &field, text, problems) {
            settings.duration = d;
        }
    }
    settings.remind_at_50 = doc.remind_at_50.unwrap_or(settings.remind_at_50);
    settings.remind_at_90 = doc.remind_at_90.unwrap_or(settings.remind_at_90);
    let field = format!("{base}.time_bomb.final_warning");
    match &doc.final_warning {
        None => {}
        Some(None) => settings.final_warning = None,
        Some(Some(text)) if text == "off" => settings.final_warning = None,
        Some(Some(text)) => match text.parse::<Span>() {
            Err(e) => problems.add(&field, format!("{category}: final warning {e}")),
            Ok(lead) if lead.seconds() == 0 || lead >= settings.duration => problems.add(
                &field,
                format!(
                    "{category}: the final warning ({lead}) must be more than zero and shorter than the time-bomb duration ({})",
                    settings.duration
                ),
            ),
            Ok(lead) => settings.final_warning = Some(lead),
        },
    }
    // A final warning left at its default must still fit a shortened duration.
    if doc.final_warning.is_none()
        && let Some(lead) = settings.final_warning
        && lead >= settings.duration
    {
        problems.add(
            &field,
            format!(
                "{category}: the default final warning ({lead}) is not shorter than the duration ({}); set final_warning to a shorter lead or null",
                settings.duration
            ),
        );
    }
    settings
}

fn check_duration(
    category: Category,
    field: &str,
    text: &str,
    problems: &mut Problems,
) -> Option<Span> {
    match text.parse::<Span>() {
        Err(e) => {
            problems.add(field, format!("{category}: {e}"));
            None
        }
        Ok(d) if d < MIN_TIME_BOMB || d > MAX_TIME_BOMB => {
            problems.add(
                field,
                format!("{category}: a time-bomb duration must be between {MIN_TIME_BOMB} and {MAX_TIME_BOMB}, not {d}"),
            );
            None
        }
        Ok(d) => Some(d),
    }
}

fn check_band(
    category: Category,
    index: usize,
    field: &str,
    doc: &BandDoc,
    currency: Option<Currency>,
    problems: &mut Problems,
) -> Option<Threshold> {
    let number = index + 1;
    let before = problems.0.len();
    let mut amount = |name: &str, text: &AmountText| -> Option<Decimal> {
        // With an unknown team currency, decimals cannot be judged; the currency is reported.
        let precision = currency.unwrap_or(Currency::LENIENT);
        match parse_amount(&text.0, precision) {
            Ok(x) => Some(x),
            Err(e) => {
                problems.add(
                    format!("{field}.{name}"),
                    format!("{category} band {number}: {e}"),
                );
                None
            }
        }
    };
    let given: Vec<&str> = [
        ("below", &doc.below),
        ("at_most", &doc.at_most),
        ("above", &doc.above),
        ("at_least", &doc.at_least),
        ("from", &doc.from),
        ("to", &doc.to),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_ref().map(|_| name))
    .collect();
    let band = match (
        &doc.below,
        &doc.at_most,
        &doc.above,
        &doc.at_least,
        &doc.from,
        &doc.to,
    ) {
        (Some(x), None, None, None, None, None) => amount("below", x).map(Band::Below),
        (None, Some(x), None, None, None, None) => amount("at_most", x).map(Band::AtMost),
        (None, None, Some(x), None, None, None) => amount("above", x).map(Band::Above),
        (None, None, None, Some(x), None, None) => amount("at_least", x).map(Band::AtLeast),
        (None, None, None, None, Some(f), Some(t)) => match (amount("from", f), amount("to", t)) {
            (Some(from), Some(to)) => Some(Band::Between { from, to }),
            _ => None,
        },
        _ => {
            problems.add(
                field,
                format!(
                    "{category} band {number}: give exactly one of below, at_most, above, at_least, or from and to together (found: {})",
                    if given.is_empty() { "none".to_owned() } else { given.join(", ") }
                ),
            );
            None
        }
    };
    let label_currency = currency.unwrap_or(Currency::USD);
    if let Some(band) = band
        && let Some(currency) = currency
        && band.minor_range(currency).is_some_and(|r| r.is_empty())
    {
        let why = match band {
            Band::Between { from, to } if from > to => "its lower end is above its upper end",
            _ => "no amount can fall in it",
        };
        problems.add(
            field,
            format!(
                "{category} band {number} ({}): {why}",
                band.label(label_currency)
            ),
        );
    }
    let level = match doc.level.parse::<Level>() {
        Ok(l) => Some(l),
        Err(e) => {
            problems.add(
                format!("{field}.level"),
                format!("{category} band {number}: {e}"),
            );
            None
        }
    };
    let duration = match (&doc.duration, level) {
        (None, _) => None,
        (Some(text), Some(Level::TimeBomb)) => {
            check_duration(category, &format!("{field}.duration"), text, problems)
        }
        (Some(_), Some(other)) => {
            problems.add(
                format!("{field}.duration"),
                format!("{category} band {number}: a duration applies only to time_bomb bands, not {other}"),
            );
            None
        }
        (Some(_), None) => None,
    };
    if problems.0.len() > before {
        return None;
    }
    Some(Threshold {
        band: band?,
        level: level?,
        duration,
    })
}
