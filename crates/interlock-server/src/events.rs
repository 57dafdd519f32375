//! Live changes of actions, for SSE streams and long-polling `GET ?wait=`. Events are
//! hints: readers always re-read the action from the store.

use interlock_core::Status;
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
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            sender: broadcast::channel(4096).0,
        }
    }
}

impl EventBus {
    pub fn publish(&self, event: ActionEvent) {
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
