//! The console's decision forms: approve, hold, reject, dismiss, approve with edits, and
//! batch approval. They call the same service as the API, so the rules (self-approval,
//! stale versions, reasons) are the same; a stale decision answers 409 with a page that
//! says what happened instead.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::edit_form::payload_from_form;
use super::guard::{Console, failure};
use super::{MessagePage, form_value, page};
use crate::error::ApiError;
use crate::service::decisions::{Command, act, load_visible};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    expected_version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    return_to: String,
}

/// Where to go after a decision: back to the inbox (keeping its filters) or the action
/// page; never anywhere off-site.
fn back_to(return_to: &str, id: &str) -> String {
    let local = return_to.starts_with("/inbox") || return_to.starts_with("/actions/");
    if local && !return_to.contains("//") && !return_to.contains('\\') {
        return_to.to_owned()
    } else {
        format!("/actions/{id}")
    }
}

fn with_done(path: &str, done: &str, count: usize, conflicts: usize) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = format!("{path}{sep}done={done}&count={count}");
    if conflicts > 0 {
        out.push_str(&format!("&conflicts={conflicts}"));
    }
    out
}

fn text(value: &str) -> Option<String> {
    let t = value.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn version(value: &str) -> Result<u64, ApiError> {
    value.trim().parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_field",
            "the form lost the action's version; reload the page",
        )
    })
}

/// What the page says after a decision, by the `done` word the redirect carries.
pub fn done_notice(done: &str) -> Option<&'static str> {
    match done {
        "approved" => Some("Approved."),
        "held" => Some("Held: the countdown stopped; the action now waits for approval."),
        "rejected" => Some("Rejected; the agent hears the reason."),
        "dismissed" => Some("Dismissed."),
        _ => None,
    }
}

/// A decision that came too late: the action changed after the page was loaded.
fn stale(e: ApiError, back: &str) -> Response {
    page(
        StatusCode::CONFLICT,
        &MessagePage {
            title: "Changed in the meantime",
            message: format!("Nothing was done: {}", e.message),
            back,
        },
    )
}

fn decided(e: ApiError, back: &str) -> Response {
    if e.status == StatusCode::CONFLICT {
        stale(e, back)
    } else {
        failure(e, back)
    }
}

pub async fn decide(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if let Some(refused) = console.refusal_of_form(&form.csrf_token) {
        return refused;
    }
    let back = back_to(&form.return_to, &id);
    let reason = text(&form.reason);
    let command = match (form.decision.as_str(), version(&form.expected_version)) {
        (_, Err(e)) if form.decision != "dismiss" => return failure(e, &back),
        ("approve", Ok(v)) => Command::Approve {
            expected_version: v,
            edits: None,
            comment: reason,
        },
        ("hold", Ok(v)) => Command::Hold {
            expected_version: v,
            reason,
        },
        ("reject", Ok(v)) => Command::Reject {
            expected_version: v,
            reason,
        },
        ("dismiss", _) => Command::Dismiss { comment: reason },
        (other, _) => {
            let e = ApiError::bad_request(
                "invalid_field",
                format!("unknown decision `{other}`; use approve, hold, reject or dismiss"),
            );
            return failure(e, &back);
        }
    };
    let done = match &command {
        Command::Approve { .. } => "approved",
        Command::Hold { .. } => "held",
        Command::Reject { .. } => "rejected",
        _ => "dismissed",
    };
    match act(&state, &console.principal, &id, command).await {
        Ok(_) => Redirect::to(&with_done(&back, done, 1, 0)).into_response(),
        Err(e) => decided(e, &back),
    }
}

/// Approve with edits: the form holds one input per payload field of the category.
pub async fn approve_with_edits(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| form_value(&fields, name);
    if let Some(refused) = console.refusal_of_form(field("csrf_token")) {
        return refused;
    }
    let back = format!("/actions/{id}");
    let expected_version = match version(field("expected_version")) {
        Ok(v) => v,
        Err(e) => return failure(e, &back),
    };
    let action = match load_visible(&state, &console.principal, &id).await {
        Ok(a) => a,
        Err(e) => return failure(e, "/inbox"),
    };
    let edits = match payload_from_form(action.category, &action.payload, &fields) {
        Ok(p) => p,
        Err(e) => return failure(e, &back),
    };
    let command = Command::Approve {
        expected_version,
        edits: Some(edits),
        comment: text(field("comment")),
    };
    match act(&state, &console.principal, &id, command).await {
        Ok(_) => Redirect::to(&with_done(&back, "approved", 1, 0)).into_response(),
        Err(e) => decided(e, &back),
    }
}

/// Batch approval: each picked action as `<id>:<version>`. Actions that changed in the
/// meantime are left alone and counted.
pub async fn approve_batch(
    State(state): State<AppState>,
    console: Console,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let token = form_value(&fields, "csrf_token");
    if let Some(refused) = console.refusal_of_form(token) {
        return refused;
    }
    let return_to = Some(form_value(&fields, "return_to"))
        .filter(|v| !v.is_empty())
        .unwrap_or("/inbox");
    let back = back_to(return_to, "");
    let back = if back.starts_with("/inbox") {
        back
    } else {
        "/inbox".to_owned()
    };
    let picked: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n == "pick")
        .map(|(_, v)| v.as_str())
        .take(super::MAX_BATCH)
        .collect();
    if picked.is_empty() {
        let e = ApiError::bad_request("invalid_field", "select at least one action to approve");
        return failure(e, &back);
    }
    let (mut approved, mut conflicts) = (0, 0);
    for pick in picked {
        let Some((id, v)) = pick.split_once(':') else {
            continue;
        };
        let Ok(expected_version) = v.parse() else {
            continue;
        };
        let command = Command::Approve {
            expected_version,
            edits: None,
            comment: None,
        };
        match act(&state, &console.principal, id, command).await {
            Ok(_) => approved += 1,
            // Changed meanwhile, or one's own proposal: left alone and counted.
            Err(_) => conflicts += 1,
        }
    }
    Redirect::to(&with_done(&back, "approved", approved, conflicts)).into_response()
}
