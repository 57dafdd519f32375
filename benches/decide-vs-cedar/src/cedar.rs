//! The same rules as Cedar policies.
//!
//! Cedar answers allow or deny, not one of four levels, so every rule becomes one
//! `permit` policy annotated with what it decides:
//!
//! ```cedar
//! @rule("advisory_tag") @level("advisory")
//! permit(principal == Team::"team-07", action, resource)
//! when { context.tags.containsAny(["legal_notice", "pricing_commitment"]) };
//!
//! @rule("default") @level("human_approval")
//! permit(principal == Team::"team-07", action, resource == Category::"REFUND");
//!
//! @rule("threshold") @level("time_bomb")
//! permit(principal == Team::"team-07", action, resource == Category::"REFUND")
//! when { context has amount && 5000 <= context.amount && context.amount <= 50000 };
//! ```
//!
//! One authorization request evaluates them all. Cedar's response names the satisfied
//! policies (`diagnostics().reason()`), and the verdict is the one whose rule kind ranks
//! highest: advisory tag, then band, then default (SPEC §5). A category's bands never
//! overlap, so at most one band policy is satisfied and the pick is never a tie. The
//! annotations are read once, when the policies are loaded, into a table by policy id, as
//! a real integration would do, rather than parsed on every request.
//!
//! Amounts are `Long`s of minor units (cents), not Cedar `decimal`s: exact for every
//! currency Interlock knows (a Cedar decimal has 4 places but ends near 9.2e14, short of
//! Interlock's 15 integer digits), and comparing integers is the cheapest thing Cedar
//! does, so the encoding favours Cedar. Requests are built before timing for the same
//! reason: the timed part is only the evaluation.

use std::collections::HashMap;

use cedar_policy::{
    Authorizer, Context, Entities, EntityId, EntityTypeName, EntityUid, Policy, PolicyId,
    PolicySet, Request, Response, RestrictedExpression,
};
use interlock_core::rules::Band;
use interlock_core::{Category, Currency, Level};

use crate::fixtures::{Case, Team};
use crate::{RuleKind, Verdict, minor_units};

/// A verdict, or the errors Cedar met while evaluating.
pub type Checked = Result<Option<Verdict>, Vec<String>>;

/// A Cedar policy set with the table that says what each of its policies decides.
#[derive(Debug)]
pub struct CedarRules {
    authorizer: Authorizer,
    policies: PolicySet,
    /// The rules need no entity data: team and category are matched on their ids.
    entities: Entities,
    verdicts: HashMap<PolicyId, Verdict>,
}

/// Which requests a policy set will see, and so whether its policies must say which team
/// and category they are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// One set for everyone: each policy names its team and category.
    AllTeams,
    /// A set already chosen for one team and category: the scope would only repeat that.
    OneCategory,
}

impl CedarRules {
    /// Every team's rules in one policy set.
    pub fn all_teams(teams: &[Team]) -> CedarRules {
        let mut text = String::new();
        for team in teams {
            text += &advisory_policy(team, Scope::AllTeams);
            for category in Category::ALL {
                text += &category_policies(team, category, Scope::AllTeams);
            }
        }
        CedarRules::load(&text)
    }

    /// One small policy set per category of a team, indexed by `Category::index`.
    pub fn per_category(team: &Team) -> [CedarRules; 7] {
        Category::ALL.map(|category| {
            let text = advisory_policy(team, Scope::OneCategory)
                + &category_policies(team, category, Scope::OneCategory);
            CedarRules::load(&text)
        })
    }

    fn load(text: &str) -> CedarRules {
        let policies: PolicySet = text
            .parse()
            .unwrap_or_else(|e| panic!("generated Cedar does not parse: {e}\n{text}"));
        let verdicts = policies
            .policies()
            .map(|p| (p.id().clone(), verdict_of(p)))
            .collect();
        CedarRules {
            authorizer: Authorizer::new(),
            policies,
            entities: Entities::empty(),
            verdicts,
        }
    }

    pub fn policy_count(&self) -> usize {
        self.verdicts.len()
    }

    /// The verdict of the highest-ranking satisfied policy; `None` if none is satisfied,
    /// which the default policies make impossible for a request they cover.
    pub fn decide(&self, request: &Request) -> Option<Verdict> {
        self.verdict(&self.authorize(request))
    }

    /// As `decide`, but refusing an evaluation that met errors: Cedar skips a policy that
    /// errs, which would quietly change the answer.
    pub fn decide_checked(&self, request: &Request) -> Checked {
        let response = self.authorize(request);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        if errors.is_empty() {
            Ok(self.verdict(&response))
        } else {
            Err(errors)
        }
    }

    fn authorize(&self, request: &Request) -> Response {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
    }

    fn verdict(&self, response: &Response) -> Option<Verdict> {
        response
            .diagnostics()
            .reason()
            .map(|id| self.verdicts[id])
            .max_by_key(|v| v.rule)
    }
}

/// A proposal as Cedar sees it, with the request built ahead of timing.
#[derive(Debug)]
pub struct CedarCase {
    pub team: String,
    pub category: Category,
    pub request: Request,
}

impl CedarCase {
    pub fn of(case: &Case) -> CedarCase {
        CedarCase {
            team: case.team.clone(),
            category: case.category,
            request: request(case),
        }
    }
}

/// A proposal as a Cedar request: principal `Team::"<slug>"`, action `Action::"decide"`,
/// resource `Category::"<NAME>"`, context `{amount?: Long, tags: Set<String>}`.
pub fn request(case: &Case) -> Request {
    let uid = |kind: &str, id: &str| {
        let kind: EntityTypeName = kind.parse().expect("a valid entity type name");
        EntityUid::from_type_name_and_id(kind, EntityId::new(id))
    };
    let tags = case
        .tags
        .iter()
        .map(|t| RestrictedExpression::new_string(t.clone()));
    let mut context = vec![("tags".to_owned(), RestrictedExpression::new_set(tags))];
    if let Some(money) = case.amount {
        let cents = minor_units(money.amount(), money.currency());
        context.push(("amount".to_owned(), RestrictedExpression::new_long(cents)));
    }
    Request::new(
        uid("Team", &case.team),
        uid("Action", "decide"),
        uid("Category", case.category.as_str()),
        Context::from_pairs(context).expect("a valid context"),
        None,
    )
    .expect("a valid request")
}

/// The team's advisory tags, for any category; nothing when the team has none.
fn advisory_policy(team: &Team, scope: Scope) -> String {
    let tags = team.rules.advisory_tags();
    if tags.is_empty() {
        return String::new();
    }
    let list = tags
        .iter()
        .map(|t| quoted(t))
        .collect::<Vec<_>>()
        .join(", ");
    let principal = match scope {
        Scope::AllTeams => format!("principal == Team::{}", quoted(&team.slug)),
        Scope::OneCategory => "principal".to_owned(),
    };
    format!(
        "{}\npermit({principal}, action, resource)\nwhen {{ context.tags.containsAny([{list}]) }};\n",
        annotations(RuleKind::AdvisoryTag, Level::Advisory)
    )
}

/// The category's default, then one policy per band.
fn category_policies(team: &Team, category: Category, scope: Scope) -> String {
    let rules = team.rules.category(category);
    let head = match scope {
        Scope::AllTeams => format!(
            "permit(principal == Team::{}, action, resource == Category::{})",
            quoted(&team.slug),
            quoted(category.as_str())
        ),
        Scope::OneCategory => "permit(principal, action, resource)".to_owned(),
    };
    let mut text = format!("{}\n{head};\n", annotations(RuleKind::Default, rules.level));
    for threshold in &rules.thresholds {
        let condition = band_condition(threshold.band, team.rules.currency());
        text += &format!(
            "{}\n{head}\nwhen {{ context has amount && {condition} }};\n",
            annotations(RuleKind::Threshold, threshold.level)
        );
    }
    text
}

fn band_condition(band: Band, currency: Currency) -> String {
    let m = |x| minor_units(x, currency);
    match band {
        Band::Below(x) => format!("context.amount < {}", m(x)),
        Band::AtMost(x) => format!("context.amount <= {}", m(x)),
        Band::Above(x) => format!("context.amount > {}", m(x)),
        Band::AtLeast(x) => format!("context.amount >= {}", m(x)),
        Band::Between { from, to } => {
            format!(
                "{} <= context.amount && context.amount <= {}",
                m(from),
                m(to)
            )
        }
    }
}

fn annotations(rule: RuleKind, level: Level) -> String {
    format!(
        "@rule({}) @level({})",
        quoted(rule.as_str()),
        quoted(level.as_str())
    )
}

fn verdict_of(policy: &Policy) -> Verdict {
    let rule = policy.annotation("rule").expect("every policy has @rule");
    let level = policy.annotation("level").expect("every policy has @level");
    Verdict {
        rule: *RuleKind::ALL
            .iter()
            .find(|k| k.as_str() == rule)
            .expect("a known rule kind"),
        level: level.parse().expect("a known level"),
    }
}

/// A Cedar string literal. Slugs, tags and names here are plain machine words (Interlock
/// allows only `a-z 0-9 _ - . :` in tags), so nothing needs escaping; refuse anything else.
fn quoted(word: &str) -> String {
    assert!(
        word.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b)),
        "`{word}` would need escaping in Cedar"
    );
    format!("\"{word}\"")
}
