//! Live changes of actions, for SSE streams and long-polling `GET ?wait=`. Events are
//! hints: readers always re-read the action from the store. In a cluster the bus also
//! tells the other nodes, and hears from them (see [`crate::cluster`]).

use std::sync::Arc;

use interlock_core::Status;
use interlock_store::hints::{ActionHint, HintBus};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionEvent {
    pub action_id: Uuid,
    pub team_id: Uuid,
    pub status: Status,
    pub version: u64,
    /// The proposing actor's id, so an agent's stream can carry only its own actions.
    #[serde(skip)]
    pub proposed_by: String,
}

#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<ActionEvent>,
    /// The other nodes, in a cluster.
    cluster: Option<Arc<dyn HintBus>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(4096).0,
            cluster: None,
        }
    }
}

impl EventBus {
    /// The same bus, also telling `cluster` of every event published on it.
    pub fn with_cluster(mut self, cluster: Arc<dyn HintBus>) -> EventBus {
        self.cluster = Some(cluster);
        self
    }

    /// Publishes an event of this node to its subscribers and to the other nodes.
    pub fn publish(&self, event: ActionEvent) {
        if let Some(cluster) = &self.cluster {
            cluster.send(ActionHint {
                action_id: event.action_id,
                team_id: event.team_id,
                status: event.status,
                version: event.version,
                proposed_by: event.proposed_by.clone(),
            });
        }
        self.publish_here(event);
    }

    /// Publishes to this node's subscribers only (an event heard from another node).
    pub fn publish_here(&self, event: ActionEvent) {
        // No subscribers is fine.
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ActionEvent> {
        self.sender.subscribe()
    }

    pub fn publish_record(&self, a: &interlock_store::ActionRecord) {
        self.publish(ActionEvent {
            action_id: a.id,
            team_id: a.team_id,
            status: a.status,
            version: a.version,
            proposed_by: a.proposed_by.id.clone(),
        });
    }
}
