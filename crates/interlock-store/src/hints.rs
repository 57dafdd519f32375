//! Hints between the nodes of a cluster (SPEC §14: live events reach every node; rule
//! changes take effect on every node at once). Best effort by design: a node that
//! misses a hint is still correct, because readers re-read from the store and the
//! scheduler polls; hints only make other nodes see a change at once.

use interlock_core::Status;
use tokio::sync::broadcast;
use uuid::Uuid;

/// An action changed on some node (what a live event carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionHint {
    pub action_id: Uuid,
    pub team_id: Uuid,
    pub status: Status,
    pub version: u64,
    pub proposed_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// An action changed on another node.
    Action(ActionHint),
    /// A team's rules changed (on any node, or from the CLI).
    Rules(Uuid),
    /// A team's connectors changed (on any node).
    Connectors(Uuid),
    /// Hints may have been lost (the connection carrying them dropped): forget whatever
    /// was kept on the strength of hints.
    Missed,
}

/// How a node hears from, and speaks to, the other nodes.
pub trait HintBus: Send + Sync + std::fmt::Debug {
    /// Tells the other nodes about an action's change; never waits.
    fn send(&self, hint: ActionHint);
    /// Hints from the other nodes (and rule changes from anywhere).
    fn subscribe(&self) -> broadcast::Receiver<Hint>;
}
