//! The rule sets and proposals every arrangement is timed and checked on.
//!
//! Everything is generated from a fixed seed, so each run times the same work and a
//! disagreement found once can be found again.

use std::collections::BTreeMap;

use interlock_core::rules::{AmountText, BandDoc, CategoryDoc, RuleSet, RuleSetDoc};
use interlock_core::{Category, Currency, Level, Money, Proposal};

use crate::minor_units;

pub const TEAM_COUNT: usize = 50;
/// Proposals generated per (team, category) for the timed case list.
const CASES_PER_CATEGORY: usize = 3;
const SEED: u64 = 0x1e7_10c6;

/// A team as the server knows it: a slug and its current rule set.
#[derive(Debug, Clone)]
pub struct Team {
    pub slug: String,
    pub rules: RuleSet,
}

/// One proposal for one team, with its inputs already parsed, as the server holds them
/// when it decides.
#[derive(Debug, Clone)]
pub struct Case {
    pub team: String,
    pub category: Category,
    pub amount: Option<Money>,
    pub tags: Vec<String>,
}

impl Case {
    pub fn proposal(&self) -> Proposal<'_> {
        Proposal {
            category: self.category,
            amount: self.amount,
            tags: &self.tags,
        }
    }
}

/// The worked example of SPEC §4 (`examples/rules.json`).
pub fn worked_example() -> RuleSet {
    RuleSet::from_json_str(include_str!("../../../examples/rules.json"))
        .expect("examples/rules.json is a valid rule set")
}

/// Refunds across the worked example's band edges, one advisory-tagged, each with the
/// level SPEC §4 gives it.
pub fn worked_example_cases() -> Vec<(Case, Level)> {
    let refund = |amount: &str, tags: &[&str]| Case {
        team: "worked-example".to_owned(),
        category: Category::Refund,
        amount: Some(Money::parse(amount, Currency::USD).expect("a valid USD amount")),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    };
    vec![
        (refund("10.00", &[]), Level::Autonomous),
        (refund("49.99", &[]), Level::Autonomous),
        (refund("50.00", &[]), Level::TimeBomb),
        (refund("120.00", &[]), Level::TimeBomb),
        (refund("500.00", &[]), Level::TimeBomb),
        (refund("500.01", &[]), Level::HumanApproval),
        (refund("900.00", &[]), Level::HumanApproval),
        (refund("120.00", &["vip", "legal_notice"]), Level::Advisory),
    ]
}

/// Fifty teams with varied rules: three currencies, different advisory tags, every
/// default level, and 2-4 bands (open, closed, touching or with gaps) on some categories.
pub fn teams() -> Vec<Team> {
    let mut rng = Rng(SEED);
    (0..TEAM_COUNT).map(|i| team(i, &mut rng)).collect()
}

/// The timed case list: a few proposals per (team, category), shuffled so that neither
/// the team lookup nor the branches repeat in a pattern the CPU could learn.
pub fn cases(teams: &[Team]) -> Vec<Case> {
    let mut rng = Rng(SEED ^ 0xca5e);
    let mut cases = Vec::new();
    for team in teams {
        for category in Category::ALL {
            for _ in 0..CASES_PER_CATEGORY {
                cases.push(case(team, category, &mut rng));
            }
        }
    }
    rng.shuffle(&mut cases);
    cases
}

/// Every band bound of every team, and one smallest step either side, with and without
/// an advisory tag: where an encoding that is off by one would show.
pub fn edge_sweep(teams: &[Team]) -> Vec<Case> {
    let mut cases = Vec::new();
    for team in teams {
        let currency = team.rules.currency();
        for category in Category::ALL {
            let bands = &team.rules.category(category).thresholds;
            let bounds = bands.iter().flat_map(|t| t.band.bounds());
            for bound in bounds.map(|b| minor_units(b, currency)) {
                for minor in [bound - 1, bound, bound + 1, 0]
                    .into_iter()
                    .filter(|m| *m >= 0)
                {
                    for tags in [vec![], advisory_tags_of(team, minor)] {
                        cases.push(Case {
                            team: team.slug.clone(),
                            category,
                            amount: Some(money(minor, currency)),
                            tags,
                        });
                    }
                }
            }
        }
    }
    cases
}

fn team(index: usize, rng: &mut Rng) -> Team {
    // JPY has no minor unit, so its bounds and amounts are whole yen.
    let currency = match index % 10 {
        9 => "JPY",
        0 | 3 | 6 => "EUR",
        _ => "USD",
    };
    let decimals = currency
        .parse::<Currency>()
        .expect("a known currency")
        .minor_units();
    let categories = Category::ALL
        .into_iter()
        .map(|c| (c.as_str().to_owned(), category_doc(c, decimals, rng)))
        .collect::<BTreeMap<_, _>>();
    let doc = RuleSetDoc {
        version: Some(1 + rng.below(20) as u64),
        currency: Some(currency.to_owned()),
        advisory_tags: Some(advisory_tags(rng)),
        categories,
    };
    let rules = RuleSet::from_doc(&doc).unwrap_or_else(|e| panic!("team {index}: {e}"));
    Team {
        slug: format!("team-{index:02}"),
        rules,
    }
}

fn advisory_tags(rng: &mut Rng) -> Vec<String> {
    let choices: [&[&str]; 4] = [
        &["legal_notice", "pricing_commitment", "contract_change"],
        &[
            "legal_notice",
            "pricing_commitment",
            "contract_change",
            "gdpr_request",
        ],
        &["legal_notice"],
        &[],
    ];
    let tags = choices[rng.below(choices.len())];
    tags.iter().map(|t| (*t).to_owned()).collect()
}

fn category_doc(category: Category, decimals: u32, rng: &mut Rng) -> CategoryDoc {
    let has_bands = category == Category::Refund || rng.chance(40);
    let thresholds = if has_bands {
        let count = 2 + rng.below(3);
        let mut docs: Vec<BandDoc> = Vec::new();
        for interval in intervals(count, 10_i64.pow(decimals), rng) {
            let after_below = docs.last().is_some_and(|d| d.below.is_some());
            docs.push(band_doc(interval, after_below, decimals, rng));
        }
        docs
    } else {
        Vec::new()
    };
    CategoryDoc {
        level: Some(rng.pick(&Level::ALL).as_str().to_owned()),
        time_bomb: None,
        thresholds,
    }
}

/// An amount interval in minor units with both ends inclusive; `None` is open.
#[derive(Debug, Clone, Copy)]
struct Interval {
    low: Option<i64>,
    high: Option<i64>,
}

/// `count` ordered, non-overlapping intervals: touching, or now and then with a gap (where
/// the category default applies), the first usually open below and the last usually
/// open above.
fn intervals(count: usize, scale: i64, rng: &mut Rng) -> Vec<Interval> {
    const LADDER: [i64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
    let start = rng.below(LADDER.len() - count);
    // count + 1 increasing edges; some are one minor unit short, like 49.99.
    let edges: Vec<i64> = LADDER[start..=start + count]
        .iter()
        .map(|x| x * scale - i64::from(rng.chance(25)))
        .collect();
    let mut out: Vec<Interval> = Vec::new();
    for j in 0..count {
        // Whether an edge belongs to the band below it or the band above it.
        let high = edges[j + 1] - i64::from(rng.chance(50));
        let low = match out.last().and_then(|prev| prev.high) {
            None if rng.chance(75) => None,
            None => Some(edges[0]),
            Some(prev) if rng.chance(20) => Some(prev + 1 + (high - prev) / 2),
            Some(prev) => Some(prev + 1),
        };
        let open_above = j + 1 == count && rng.chance(75);
        out.push(Interval {
            low,
            high: (!open_above).then_some(high),
        });
    }
    out
}

/// Writes an interval as one of the five band forms, chosen at random among those that
/// say the same thing at minor-unit resolution. interlock-core judges overlaps on exact
/// decimals, though, so `> 24.98` after `< 24.99` is refused (24.985 would be in both,
/// although no USD amount can be): after a `below` band only `at_least` is used.
fn band_doc(interval: Interval, after_below: bool, decimals: u32, rng: &mut Rng) -> BandDoc {
    let text = |minor: i64| Some(AmountText(amount_text(minor, decimals)));
    let level = *rng.pick(&Level::ALL);
    let mut doc = BandDoc {
        level: level.as_str().to_owned(),
        duration: (level == Level::TimeBomb && rng.chance(50)).then(|| "24h".to_owned()),
        ..BandDoc::default()
    };
    match (interval.low, interval.high) {
        (None, Some(h)) if rng.chance(50) => doc.below = text(h + 1),
        (None, Some(h)) => doc.at_most = text(h),
        (Some(l), None) if l > 0 && !after_below && rng.chance(50) => doc.above = text(l - 1),
        (Some(l), None) => doc.at_least = text(l),
        (Some(l), Some(h)) => (doc.from, doc.to) = (text(l), text(h)),
        (None, None) => unreachable!("a band open at both ends would hide the default"),
    }
    doc
}

fn case(team: &Team, category: Category, rng: &mut Rng) -> Case {
    let currency = team.rules.currency();
    let bands = &team.rules.category(category).thresholds;
    // A category with bands needs an amount; elsewhere it is optional.
    let amount = if !bands.is_empty() || rng.chance(50) {
        let bounds: Vec<i64> = bands
            .iter()
            .flat_map(|t| t.band.bounds())
            .map(|b| minor_units(b, currency))
            .collect();
        Some(money(random_amount(&bounds, currency, rng), currency))
    } else {
        None
    };
    let tags = match rng.below(100) {
        0..70 => Vec::new(),
        70..85 => vec!["vip".to_owned()],
        _ => advisory_tags_of(team, 0),
    };
    Case {
        team: team.slug.clone(),
        category,
        amount,
        tags,
    }
}

/// Half the time next to a band bound, otherwise anywhere up to well past the last one.
fn random_amount(bounds: &[i64], currency: Currency, rng: &mut Rng) -> i64 {
    if !bounds.is_empty() && rng.chance(50) {
        let bound = *rng.pick(bounds);
        return (bound + rng.below(3) as i64 - 1).max(0);
    }
    let top = bounds.iter().copied().max().unwrap_or(0).max(1000) * 3 / 2;
    let scale = 10_i64.pow(currency.minor_units());
    rng.below(top as usize) as i64 + scale * rng.below(2) as i64
}

/// A non-advisory tag plus one of the team's advisory tags (only the former if it has
/// none), so that the advisory match is not always on the first tag.
fn advisory_tags_of(team: &Team, pick: i64) -> Vec<String> {
    let advisory = team.rules.advisory_tags();
    let mut tags = vec!["vip".to_owned()];
    if !advisory.is_empty() {
        tags.push(advisory[pick as usize % advisory.len()].to_string());
    }
    tags
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::parse(&amount_text(minor, currency.minor_units()), currency)
        .expect("amounts are generated within the currency's precision")
}

/// `12345` minor units with 2 decimals is `123.45`.
fn amount_text(minor: i64, decimals: u32) -> String {
    if decimals == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(decimals);
    let width = decimals as usize;
    format!("{}.{:0width$}", minor / scale, minor % scale)
}

/// SplitMix64: small, fast, and the same sequence on every machine.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_the_currency_decimals() {
        assert_eq!(amount_text(4999, 2), "49.99");
        assert_eq!(amount_text(5, 2), "0.05");
        assert_eq!(amount_text(5, 3), "0.005");
        assert_eq!(amount_text(5000, 0), "5000");
    }

    #[test]
    fn the_generated_teams_vary_in_bands_levels_and_tags() {
        let teams = teams();
        let band_counts: Vec<usize> = teams
            .iter()
            .flat_map(|t| Category::ALL.map(|c| t.rules.category(c).thresholds.len()))
            .collect();
        for n in [0, 2, 3, 4] {
            assert!(band_counts.contains(&n), "no category with {n} bands");
        }
        for level in Level::ALL {
            assert!(
                teams
                    .iter()
                    .any(|t| t.rules.category(Category::SendEmail).level == level)
            );
        }
        assert!(teams.iter().any(|t| t.rules.advisory_tags().is_empty()));
        assert!(teams.iter().any(|t| t.rules.currency().minor_units() == 0));
    }
}
