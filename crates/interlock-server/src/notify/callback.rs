//! Agents hear back (SPEC §10): every outcome of an action with a `callback_url` becomes
//! a delivery to that URL, written with the change itself, signed and retried like any
//! notification.

use interlock_core::{Level, Transition};
use interlock_store::{ActionRecord, NewDelivery};
use serde_json::json;
use uuid::Uuid;

use crate::api::views::{ActionView, ActorView};

/// The callback event of a transition, if the agent hears about it.
fn event_of(t: &Transition) -> Option<&'static str> {
    Some(match t.event {
        "approve" => "action.approved",
        "hold" => "action.held",
        "reject" => "action.rejected",
        "withdraw" => "action.withdrawn",
        "execution_succeeded" => "action.executed",
        "execution_failed" => "action.failed",
        "dependency_failed" => "action.cancelled",
        _ => return None,
    })
}

/// The callback for `after` (the action as the transition leaves it), if it has a URL.
pub fn outcome(after: &ActionRecord, t: &Transition) -> Option<NewDelivery> {
    let url = after.callback_url.clone()?;
    let event = event_of(t)?;
    let executed_by =
        (event == "action.executed").then_some(match (&after.decided_by, after.level) {
            (Some(_), _) => "approval",
            (None, Level::TimeBomb) => "deadline",
            (None, _) => "autonomous",
        });
    let outcome = json!({
        "status": after.status,
        "by": after.decided_by.as_ref().map(ActorView::from),
        "executed_by": executed_by,
        "edited": after.original_payload.is_some(),
        "reason": after.reason,
        "comment": after.comment,
        "error": after.last_error,
    });
    // The team's slug is filled in when it is sent (the record knows only the team id).
    let view = ActionView::new(after, String::new());
    Some(NewDelivery {
        id: Uuid::now_v7(),
        team_id: after.team_id,
        action_id: Some(after.id),
        event: event.to_owned(),
        reminder: None,
        payload: json!({"event": event, "outcome": outcome, "action": view}),
        callback_url: Some(url),
    })
}
