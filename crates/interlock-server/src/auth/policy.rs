//! The one table of who may do what (SPEC §12). Handlers ask [`Principal::can`]; no
//! handler checks roles on its own.
//!
//! | permission        | agent        | viewer | manager | admin | owner |
//! |-------------------|--------------|--------|---------|-------|-------|
//! | ReadActions       | own team¹    | teams  | teams   | all   | all   |
//! | Propose           | own team     | –      | –       | –     | all   |
//! | Withdraw          | own team¹    | –      | –       | –     | all   |
//! | DecideActions     | –            | –      | teams   | –     | all   |
//! | ReadRules         | –            | teams  | teams   | all   | all   |
//! | WriteRules        | –            | –      | –       | all   | all   |
//! | ManageConnectors  | –            | –      | –       | all   | all   |
//! | ManageChannels    | –            | –      | –       | all   | all   |
//! | ReadCards         | –            | teams  | teams   | all   | all   |
//! | ReadAudit         | –            | teams  | teams   | all   | all   |
//! | ManageDeployment  | –            | –      | –       | all   | all   |
//! | ManageKeys        | –            | –      | –       | all   | all   |
//! | ReadUsers         | –            | –      | –       | all   | all   |
//! | ManageUsers       | –            | –      | –       | –     | all   |
//!
//! ¹ only the actions the agent itself proposed. "teams" is the teams the person belongs
//! to; everything of another team answers 404. An admin service key acts as an owner.
//! Admins configure (rules, connectors, channels, agents, keys); deciding on actions is
//! the managers' (and owners') job.

use interlock_store::Role as PersonRole;
use uuid::Uuid;

use super::{Principal, Role};

/// Classes of endpoint, as the role table in SPEC §12 groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadActions,
    Propose,
    Withdraw,
    DecideActions,
    ReadRules,
    WriteRules,
    ManageConnectors,
    ManageChannels,
    ReadCards,
    ReadAudit,
    ManageDeployment,
    ManageKeys,
    ReadUsers,
    ManageUsers,
}

/// What a person's role allows, regardless of team.
fn person_may(role: PersonRole, permission: Permission) -> bool {
    use Permission::*;
    match role {
        PersonRole::Owner => true,
        PersonRole::Admin => {
            !matches!(permission, Propose | Withdraw | DecideActions | ManageUsers)
        }
        PersonRole::Manager => matches!(
            permission,
            ReadActions | DecideActions | ReadRules | ReadAudit | ReadCards
        ),
        PersonRole::Viewer => {
            matches!(permission, ReadActions | ReadRules | ReadAudit | ReadCards)
        }
    }
}

impl Principal {
    /// May this principal do `permission` on team `team` (or deployment-wide when `None`)?
    pub fn can(&self, permission: Permission, team: Option<Uuid>) -> bool {
        use Permission::*;
        match &self.role {
            Role::Owner => true,
            Role::Agent { team_id } => {
                matches!(permission, ReadActions | Propose | Withdraw) && team == Some(*team_id)
            }
            Role::Member { role, teams, .. } => {
                let in_scope =
                    role.is_deployment_wide() || team.is_some_and(|t| teams.contains(&t));
                in_scope && person_may(*role, permission)
            }
        }
    }

    /// The teams whose things this principal may see; `None` is all of them.
    pub fn visible_teams(&self) -> Option<Vec<Uuid>> {
        match &self.role {
            Role::Owner => None,
            Role::Agent { team_id } => Some(vec![*team_id]),
            Role::Member { role, .. } if role.is_deployment_wide() => None,
            Role::Member { teams, .. } => Some(teams.clone()),
        }
    }

    /// Whether the principal sees team `team` at all (else its things answer 404).
    pub fn sees_team(&self, team: Uuid) -> bool {
        self.visible_teams()
            .is_none_or(|teams| teams.contains(&team))
    }
}

#[cfg(test)]
mod tests {
    use interlock_store::{Actor, ActorKind};

    use super::*;

    fn person(role: PersonRole, teams: Vec<Uuid>) -> Principal {
        Principal {
            key_id: None,
            actor: Actor {
                kind: ActorKind::Member,
                id: "u".into(),
            },
            role: Role::Member {
                user_id: Uuid::nil(),
                role,
                teams,
            },
        }
    }

    #[test]
    fn a_manager_decides_only_in_their_own_teams() {
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let m = person(PersonRole::Manager, vec![mine]);
        assert!(m.can(Permission::DecideActions, Some(mine)));
        assert!(!m.can(Permission::DecideActions, Some(other)));
        assert!(!m.can(Permission::WriteRules, Some(mine)));
        assert!(!m.sees_team(other));
    }

    #[test]
    fn a_viewer_reads_but_never_decides() {
        let t = Uuid::now_v7();
        let v = person(PersonRole::Viewer, vec![t]);
        assert!(v.can(Permission::ReadActions, Some(t)) && v.can(Permission::ReadAudit, Some(t)));
        assert!(!v.can(Permission::DecideActions, Some(t)));
    }

    #[test]
    fn an_admin_configures_every_team_but_manages_no_people() {
        let a = person(PersonRole::Admin, vec![]);
        let t = Some(Uuid::now_v7());
        assert!(a.can(Permission::WriteRules, t) && a.can(Permission::ManageKeys, None));
        assert!(!a.can(Permission::ManageUsers, None));
        assert!(!a.can(Permission::DecideActions, t));
    }
}
