//! The one table of who may do what (SPEC §12). Handlers ask [`Principal::can`]; no
//! handler checks roles on its own.

use uuid::Uuid;

use super::{Principal, Role};

/// Classes of endpoint, as the role table in SPEC §12 groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read a team's actions, plans, cards (agents: only their own actions).
    ReadActions,
    Propose,
    /// Withdraw an action (agents: only their own).
    Withdraw,
    /// Approve, hold, reject, approve with edits, retry, dismiss.
    DecideActions,
    ReadRules,
    WriteRules,
    ManageConnectors,
    ManageChannels,
    ReadAudit,
    /// Create teams, read the deployment-wide audit chain.
    ManageDeployment,
    ManageKeys,
    ManageUsers,
}

impl Principal {
    /// May this principal do `permission` on team `team` (or deployment-wide when `None`)?
    pub fn can(&self, permission: Permission, team: Option<Uuid>) -> bool {
        use Permission::*;
        match &self.role {
            // An admin service key has the owner's rights: everything.
            Role::Owner => true,
            Role::Agent { team_id } => {
                let own_team = team == Some(*team_id);
                match permission {
                    ReadActions | Propose | Withdraw => own_team,
                    DecideActions | ReadRules | WriteRules | ManageConnectors | ManageChannels
                    | ReadAudit | ManageDeployment | ManageKeys | ManageUsers => false,
                }
            }
        }
    }

    /// The teams whose things this principal may see; `None` is all of them.
    pub fn visible_teams(&self) -> Option<Vec<Uuid>> {
        match &self.role {
            Role::Owner => None,
            Role::Agent { team_id } => Some(vec![*team_id]),
        }
    }

    /// Whether the principal sees team `team` at all (else its things answer 404).
    pub fn sees_team(&self, team: Uuid) -> bool {
        self.visible_teams()
            .is_none_or(|teams| teams.contains(&team))
    }
}
