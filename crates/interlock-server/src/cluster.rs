//! A node of a cluster: what it hears from the other nodes (see
//! [`interlock_store::hints`]) reaches its live streams, long polls and caches.

use std::sync::Arc;

use interlock_store::hints::{Hint, HintBus};
use tokio::sync::broadcast::error::RecvError;

use crate::caches::{ConnectorCache, RulesCache};
use crate::events::ActionEvent;
use crate::state::AppState;

impl AppState {
    /// This node as one of a cluster that speaks through `cluster`: its events go to the
    /// other nodes, theirs come here, and rule and connector changes anywhere reach its
    /// caches at once.
    pub fn join_cluster(mut self, cluster: Arc<dyn HintBus>) -> AppState {
        let heard = cluster.subscribe();
        self.events = self.events.with_cluster(cluster);
        self.rules = RulesCache::announced();
        self.connectors = ConnectorCache::announced();
        tokio::spawn(hear(self.clone(), heard));
        self
    }
}

async fn hear(state: AppState, mut heard: tokio::sync::broadcast::Receiver<Hint>) {
    loop {
        match heard.recv().await {
            Ok(Hint::Action(a)) => state.events.publish_here(ActionEvent {
                action_id: a.action_id,
                team_id: a.team_id,
                status: a.status,
                version: a.version,
                proposed_by: a.proposed_by,
            }),
            Ok(Hint::Rules(team)) => state.rules.forget(Some(team)),
            Ok(Hint::Connectors(team)) => state.connectors.forget(Some(team)),
            // Some hints were lost: whatever was cached on the strength of them is
            // suspect. Live streams miss the lost events; their readers re-read.
            Ok(Hint::Missed) | Err(RecvError::Lagged(_)) => {
                state.rules.forget(None);
                state.connectors.forget(None);
            }
            Err(RecvError::Closed) => return,
        }
    }
}
