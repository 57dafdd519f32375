//! Connectors carry out approved actions (SPEC §9). They run outside any transaction;
//! the scheduler records the outcome.

pub mod builtin;
pub mod http;
pub mod signing;
pub mod smtp;
mod webhook;

use interlock_core::Category;
use interlock_store::{ActionRecord, ConnectorConfig};
use serde_json::{Value, json};

use crate::api::views::ActionView;
use crate::state::AppState;

/// What an execution attempt (or any delivery) came to.
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

impl Outcome {
    /// The receiver's answer or the error, for people: what a test send reports.
    pub fn report(&self) -> Value {
        match self {
            Outcome::Done { detail } => {
                json!({"ok": true, "answer": detail.get("answer").cloned().unwrap_or_else(|| detail.clone())})
            }
            Outcome::Retry { error } => json!({"ok": false, "error": error, "retryable": true}),
            Outcome::Fail { error } => json!({"ok": false, "error": error, "retryable": false}),
        }
    }
}

pub fn kind_name(config: &ConnectorConfig) -> &'static str {
    match config {
        ConnectorConfig::Log => "log",
        ConnectorConfig::Builtin => "builtin",
        ConnectorConfig::Webhook { .. } => "webhook",
        ConnectorConfig::Smtp { .. } => "smtp",
    }
}

/// The connector of a category nobody configured: Interlock's own cards for notes and
/// escalations, `log` for the rest (SPEC §14: the demo default).
pub fn default_for(category: Category) -> ConnectorConfig {
    match category {
        Category::InternalNote | Category::Escalate => ConnectorConfig::Builtin,
        _ => ConnectorConfig::Log,
    }
}

pub async fn execute(
    state: &AppState,
    record: &ActionRecord,
    action: &ActionView,
    config: &ConnectorConfig,
) -> Outcome {
    match config {
        ConnectorConfig::Log => {
            log_line(record);
            Outcome::Done {
                detail: log_detail(),
            }
        }
        ConnectorConfig::Builtin => builtin::run(state, record).await,
        ConnectorConfig::Webhook { url, secret } => {
            webhook::deliver(state, url, secret, action).await
        }
        ConnectorConfig::Smtp { .. } if record.category != Category::SendEmail => Outcome::Fail {
            error: format!(
                "the smtp connector sends SEND_EMAIL actions, not {}",
                record.category
            ),
        },
        ConnectorConfig::Smtp { .. } => {
            let server = config
                .smtp_server()
                .expect("an smtp connector has a server");
            match smtp::Email::from_payload(&record.payload) {
                Ok(email) => smtp::send(&server, state.settings.connector_timeout, &email).await,
                Err(error) => Outcome::Fail { error },
            }
        }
    }
}

/// What the `log` connector reports: it records the action as done and nothing else,
/// so it cannot fail.
pub fn log_detail() -> Value {
    json!({"connector": "log"})
}

/// The `log` connector's line in the server's log.
pub fn log_line(record: &ActionRecord) {
    tracing::info!(action = %record.id, category = %record.category, title = %record.title, "executed by the log connector");
}

/// "Send a test" for a connector: a webhook gets a signed `test` event, an SMTP server a
/// test email to `to` (or, without one, a connection and login that sends nothing).
pub async fn test(
    state: &AppState,
    category: Category,
    config: &ConnectorConfig,
    to: Option<&str>,
) -> Outcome {
    match config {
        ConnectorConfig::Log | ConnectorConfig::Builtin => Outcome::Done {
            detail: json!({"answer": format!("the {} connector runs inside Interlock; nothing to reach", kind_name(config))}),
        },
        ConnectorConfig::Webhook { url, secret } => {
            webhook::test(state, url, secret, category.as_str()).await
        }
        ConnectorConfig::Smtp { .. } => {
            let server = config
                .smtp_server()
                .expect("an smtp connector has a server");
            let timeout = state.settings.connector_timeout;
            match to {
                Some(to) => {
                    let email = smtp::Email {
                        to: vec![to.to_owned()],
                        cc: Vec::new(),
                        subject: "Interlock test email".to_owned(),
                        text: format!(
                            "A test of the smtp connector for {category}. Nothing was executed."
                        ),
                        html: None,
                    };
                    smtp::send(&server, timeout, &email).await
                }
                None => smtp::check(&server, timeout).await,
            }
        }
    }
}
