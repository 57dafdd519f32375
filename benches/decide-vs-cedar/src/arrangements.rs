//! The arrangements that are timed, each answering one proposal through the same code
//! path in the benchmark and in the agreement check.

use std::collections::HashMap;

use interlock_core::rules::RuleSet;
use interlock_core::{DecideError, Decision};

use crate::Verdict;
use crate::cedar::{CedarCase, CedarRules, Checked};
use crate::fixtures::{Case, Team};

/// Every team's rules, held the ways that are compared.
#[derive(Debug)]
pub struct Arrangements {
    /// What the server holds: each team's rule set by slug.
    interlock: HashMap<String, RuleSet>,
    /// All teams in one Cedar policy set.
    cedar_all_teams: CedarRules,
    /// One small Cedar policy set per (team, category): by slug, then category index.
    cedar_per_category: HashMap<String, [CedarRules; 7]>,
}

impl Arrangements {
    pub fn new(teams: &[Team]) -> Arrangements {
        Arrangements {
            interlock: teams
                .iter()
                .map(|t| (t.slug.clone(), t.rules.clone()))
                .collect(),
            cedar_all_teams: CedarRules::all_teams(teams),
            cedar_per_category: teams
                .iter()
                .map(|t| (t.slug.clone(), CedarRules::per_category(t)))
                .collect(),
        }
    }

    /// interlock-core: the team's rule set by slug, then `decide`.
    #[inline]
    pub fn interlock(&self, case: &Case) -> Result<Decision, DecideError> {
        self.rule_set(&case.team).decide(&case.proposal())
    }

    /// The team's rule set, for timing `decide` without the lookup.
    #[inline]
    pub fn rule_set(&self, team: &str) -> &RuleSet {
        &self.interlock[team]
    }

    /// Cedar with every team's policies in one set.
    #[inline]
    pub fn cedar_all_teams(&self, case: &CedarCase) -> Option<Verdict> {
        self.cedar_all_teams.decide(&case.request)
    }

    /// Cedar with the (team, category) policy set looked up first.
    #[inline]
    pub fn cedar_per_category(&self, case: &CedarCase) -> Option<Verdict> {
        self.cedar_per_category[&case.team][case.category.index()].decide(&case.request)
    }

    /// Both Cedar arrangements' answers, refusing evaluations that met errors: what the
    /// two timed Cedar paths compute, plus the error check.
    pub fn cedar_checked(&self, case: &CedarCase) -> [(&'static str, Checked); 2] {
        let per_category = &self.cedar_per_category[&case.team][case.category.index()];
        [
            (
                "Cedar, one policy set",
                self.cedar_all_teams.decide_checked(&case.request),
            ),
            (
                "Cedar, per team and category",
                per_category.decide_checked(&case.request),
            ),
        ]
    }

    pub fn cedar_all_teams_policy_count(&self) -> usize {
        self.cedar_all_teams.policy_count()
    }
}
