//! Connectors carry out approved actions (SPEC §9). They run outside any transaction;
//! the scheduler records the outcome.

pub mod signing;
mod webhook;

use interlock_store::ConnectorConfig;
use serde_json::{Value, json};

use crate::api::views::ActionView;
use crate::state::AppState;

/// What an execution attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done {
        detail: Value,
    },
    /// Worth trying again later (timeouts, 408, 429, 5xx, connection failures).
    Retry {
        error: String,
    },
    /// Trying again will not help (other 4xx, a connector that cannot run this action).
    Fail {
        error: String,
    },
}

pub fn kind_name(config: &ConnectorConfig) -> &'static str {
    match config {
        ConnectorConfig::Log => "log",
        ConnectorConfig::Builtin => "builtin",
        ConnectorConfig::Webhook { .. } => "webhook",
        ConnectorConfig::Smtp { .. } => "smtp",
    }
}

pub async fn execute(state: &AppState, action: &ActionView, config: &ConnectorConfig) -> Outcome {
    match config {
        ConnectorConfig::Log => {
            tracing::info!(action = %action.id, category = %action.category, title = %action.title, "executed by the log connector");
            Outcome::Done {
                detail: json!({"connector": "log"}),
            }
        }
        ConnectorConfig::Webhook { url, secret } => {
            webhook::deliver(state, url, secret, action).await
        }
        ConnectorConfig::Smtp { .. } | ConnectorConfig::Builtin => Outcome::Fail {
            error: "the smtp connector is not available in this version".to_owned(),
        },
    }
}
