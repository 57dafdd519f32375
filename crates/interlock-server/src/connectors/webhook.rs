//! The webhook connector: POST `{"event": "action.execute", "category": …, "action": {…}}`,
//! signed, with the action id as idempotency key, so a retried delivery can be
//! recognised. The envelope of each category is in `docs/connectors.md`.

use serde_json::json;

use super::Outcome;
use super::http::{Post, post_json};
use crate::api::views::ActionView;
use crate::state::AppState;

pub async fn deliver(state: &AppState, url: &str, secret: &str, action: &ActionView) -> Outcome {
    let body = json!({"event": "action.execute", "category": action.category, "action": action});
    let post = Post {
        what: "the webhook",
        url,
        secret: Some(secret),
        idempotency_key: &action.id.to_string(),
    };
    post_json(state, post, &body).await
}

/// A test delivery: shows the receiver what an execution looks like without one.
pub async fn test(state: &AppState, url: &str, secret: &str, category: &str) -> Outcome {
    let body = json!({"event": "test", "category": category, "message": "A test from Interlock: no action was executed."});
    let post = Post {
        what: "the webhook",
        url,
        secret: Some(secret),
        idempotency_key: &format!("test-{}", uuid::Uuid::now_v7()),
    };
    post_json(state, post, &body).await
}
