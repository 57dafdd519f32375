//! The built-in connector: INTERNAL_NOTE adds a note to an Interlock card; ESCALATE
//! raises a card's priority (opening a priority card when none is named) and leaves a
//! note saying why. Both are idempotent per action, so a retried execution changes
//! nothing twice. Telling the managers is the `action.escalated` notification, written
//! with the execution itself (see `service::transitions`).

use interlock_core::Category;
use interlock_store::{ActionRecord, AuditDraft, CardPriority, CardWork};
use serde_json::json;

use super::Outcome;
use crate::state::AppState;

/// The card an escalation is about: the one it names, or a new one of its own.
pub fn escalation_card(action: &ActionRecord) -> String {
    action.payload["card_id"]
        .as_str()
        .map_or_else(|| format!("escalation-{}", action.id), str::to_owned)
}

pub async fn run(state: &AppState, action: &ActionRecord) -> Outcome {
    let text = |field: &str| {
        action.payload[field]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (card_id, note, raise_to, event) = match action.category {
        Category::InternalNote => (text("card_id"), text("text"), None, "card.noted"),
        Category::Escalate => {
            let severity = text("severity");
            let Some(priority) = CardPriority::parse(&severity) else {
                return Outcome::Fail {
                    error: format!("unknown severity `{severity}`"),
                };
            };
            let note = format!("Escalated ({severity}): {}", text("reason"));
            (
                escalation_card(action),
                note,
                Some(priority),
                "card.escalated",
            )
        }
        other => {
            return Outcome::Fail {
                error: format!(
                    "the builtin connector carries out INTERNAL_NOTE and ESCALATE, not {other}"
                ),
            };
        }
    };
    let work = CardWork {
        team_id: action.team_id,
        card_id: card_id.clone(),
        action_id: Some(action.id),
        note: Some(note),
        author: action.proposed_by.clone(),
        raise_to,
        at: state.clock.now(),
        audit: AuditDraft {
            team_id: Some(action.team_id),
            actor: interlock_store::Actor::system("executor"),
            subject: Some(card_id.clone()),
            event: event.to_owned(),
            data: json!({"card": card_id, "action": action.id, "raise_to": raise_to}),
        },
    };
    match state.store.work_card(work).await {
        Ok(card) => Outcome::Done {
            detail: json!({"connector": "builtin", "card": card.id, "priority": card.priority}),
        },
        Err(e) => Outcome::Retry {
            error: format!("the card could not be written: {e}"),
        },
    }
}
