//! People (and agents, for withdrawal) acting on an action: approve, hold, reject,
//! withdraw, retry, dismiss.

use interlock_core::{Category, Money, payload};
use interlock_store::{ActionRecord, ActionUpdate};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::service::diff::payload_diff;
use crate::service::proposals::amount_error;
use crate::service::transitions::{
    Refused, apply, change, dependencies_met, refused_to_api, state_of,
};
use crate::state::AppState;

pub const MAX_REASON: usize = 2000;

#[derive(Debug, Clone)]
pub enum Command {
    Approve {
        expected_version: u64,
        edits: Option<Value>,
        comment: Option<String>,
    },
    Hold {
        expected_version: u64,
        reason: Option<String>,
    },
    Reject {
        expected_version: u64,
        reason: Option<String>,
    },
    Withdraw {
        reason: Option<String>,
    },
    Retry {
        comment: Option<String>,
    },
    Dismiss {
        comment: Option<String>,
    },
}

/// Loads an action the principal may see; anything else is 404, so that another team's
/// actions are not even confirmed to exist.
pub async fn load_visible(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<ActionRecord> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("action"))?;
    let action = state
        .store
        .action(id)
        .await?
        .ok_or_else(|| ApiError::not_found("action"))?;
    let own = !principal.is_agent() || action.proposed_by == principal.actor;
    if !principal.can(Permission::ReadActions, Some(action.team_id)) || !own {
        return Err(ApiError::not_found("action"));
    }
    Ok(action)
}

/// Checks a person's reason or comment, records it in the audit data, and returns it for
/// the action's own field.
fn noted(
    field: &'static str,
    text: &Option<String>,
    audit: &mut Value,
) -> ApiResult<Option<String>> {
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_REASON)
    {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("`{field}` is longer than {MAX_REASON} characters"),
        ));
    }
    // Line breaks and tabs are fine in a reason; other control characters (NUL among
    // them, which PostgreSQL cannot store) are refused like in payload text.
    let control = text.as_deref().and_then(|t| {
        t.chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    });
    if let Some(c) = control {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!(
                "`{field}` contains a control character (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    audit[field] = json!(text);
    Ok(text.clone())
}

pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: &str,
    command: Command,
) -> ApiResult<ActionRecord> {
    let action = load_visible(state, principal, id).await?;
    let permission = match command {
        Command::Withdraw { .. } => Permission::Withdraw,
        _ => Permission::DecideActions,
    };
    if !principal.can(permission, Some(action.team_id)) {
        return Err(ApiError::forbidden(
            "forbidden",
            "your role may not do this to the team's actions",
        ));
    }
    let now = state.clock.now();
    let current = state_of(&action);
    let mut update = ActionUpdate {
        decided_by: Some(principal.actor.clone()),
        ..ActionUpdate::default()
    };
    let mut audit = json!({});
    let transition = match &command {
        Command::Approve {
            expected_version,
            edits,
            comment,
        } => {
            if action.proposed_by == principal.actor {
                return Err(ApiError::forbidden(
                    "self_approval",
                    "nobody approves an action they proposed themselves",
                ));
            }
            update.comment = noted("comment", comment, &mut audit)?;
            let deps = dependencies_met(state, &action).await?;
            let t = current.approve(*expected_version, deps);
            if let (Ok(_), Some(edited)) = (&t, edits) {
                check_edits(state, &action, edited).await?;
                audit["edits"] = Value::Array(payload_diff(&action.payload, edited));
                update.original_payload = Some(action.payload.clone());
                update.payload = Some(edited.clone());
            }
            t
        }
        Command::Hold {
            expected_version,
            reason,
        } => {
            update.reason = noted("reason", reason, &mut audit)?;
            current.hold(*expected_version)
        }
        Command::Reject {
            expected_version,
            reason,
        } => {
            update.reason = noted("reason", reason, &mut audit)?;
            current.reject(*expected_version)
        }
        Command::Withdraw { reason } => {
            if principal.is_agent() && action.proposed_by != principal.actor {
                return Err(ApiError::not_found("action"));
            }
            update.reason = noted("reason", reason, &mut audit)?;
            current.withdraw()
        }
        Command::Retry { comment } => {
            update.comment = noted("comment", comment, &mut audit)?;
            current.retry()
        }
        Command::Dismiss { comment } => {
            update.comment = noted("comment", comment, &mut audit)?;
            current.dismiss()
        }
    };
    let transition = match transition {
        Ok(t) => t,
        Err(e) => {
            return Err(refused_to_api(state, Refused::Transition(e, Box::new(action))).await);
        }
    };
    let change = change(
        &action,
        transition,
        &principal.actor,
        now,
        update,
        audit,
        None,
    );
    match apply(state, change).await {
        Ok(record) => Ok(record),
        Err(refused) => Err(refused_to_api(state, refused).await),
    }
}

/// An edited payload must be as valid as a proposed one; a refund keeps the team currency.
async fn check_edits(state: &AppState, action: &ActionRecord, edited: &Value) -> ApiResult<()> {
    let facts = payload::check(action.category, edited).map_err(|problems| {
        ApiError::unprocessable("invalid_payload", "the edited payload is not valid")
            .with_details(serde_json::to_value(&problems).unwrap_or_default())
    })?;
    if action.category == Category::Refund
        && let Some((amount, currency)) = facts.amount
    {
        let rules = state.rules.current(&state.store, action.team_id).await?;
        let currency = currency.parse().map_err(amount_error)?;
        if currency != rules.currency() {
            return Err(amount_error(
                interlock_core::AmountError::CurrencyMismatch {
                    expected: rules.currency(),
                    got: currency,
                },
            ));
        }
        Money::parse(&amount, currency).map_err(amount_error)?;
    }
    Ok(())
}
