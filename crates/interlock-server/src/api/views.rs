//! The JSON shapes the API answers with (SPEC §16). Field names are the contract.

use chrono::{DateTime, Utc};
use interlock_store::{ActionRecord, Actor, AuditEntry, KeyRecord, Team};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    /// `agent`, `member`, `service` or `system`.
    pub kind: String,
    pub id: String,
}

impl From<&Actor> for ActorView {
    fn from(a: &Actor) -> Self {
        ActorView {
            kind: a.kind.as_str().to_owned(),
            id: a.id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReminderView {
    /// `half`, `ninety` or `final_warning`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// Whether it has gone out (or was skipped as no longer meaningful).
    pub passed: bool,
}

/// An action as agents and people see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionView {
    pub id: Uuid,
    /// The team's slug.
    pub team: String,
    /// `SEND_EMAIL`, `SEND_CHAT`, `CRM_UPDATE`, `REFUND`, `SCHEDULE`, `INTERNAL_NOTE`, `ESCALATE`.
    pub category: String,
    pub title: String,
    pub rationale: String,
    /// `autonomous`, `time_bomb`, `human_approval` or `advisory`.
    pub level: String,
    /// `armed`, `awaiting_approval`, `queued`, `executing`, `executed`, `failed`, `rejected`,
    /// `cancelled`, `advisory` or `dismissed`.
    pub status: String,
    /// Bumped by every change; approve, hold and reject must name the version they saw.
    pub version: u64,
    /// The decision: `level`, `rule` (`default`, `threshold`, `advisory_tag`),
    /// `rule_set_version`, `explanation`.
    #[schema(value_type = Object)]
    pub decision: Value,
    /// What runs: the agent's payload, or the approver's edited one.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The agent's own payload, present when an approval edited it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub original_payload: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_step: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub armed_at: Option<DateTime<Utc>>,
    /// When a time bomb executes unless someone steps in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    pub reminders: Vec<ReminderView>,
    pub proposed_by: ActorView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<ActorView>,
    /// Why it was rejected, held or cancelled: feedback for the agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_at: Option<DateTime<Utc>>,
}

impl ActionView {
    pub fn new(a: &ActionRecord, team_slug: String) -> ActionView {
        let reminders_passed_up_to = a.last_reminder_at;
        ActionView {
            id: a.id,
            team: team_slug,
            category: a.category.as_str().to_owned(),
            title: a.title.clone(),
            rationale: a.rationale.clone(),
            level: a.level.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            version: a.version,
            decision: a.decision.clone(),
            payload: a.payload.clone(),
            original_payload: a.original_payload.clone(),
            amount: a.amount.map(|m| m.amount_text()),
            currency: a.amount.map(|m| m.currency().code().to_owned()),
            tags: a.tags.clone(),
            card_id: a.card_id.clone(),
            plan_id: a.plan_id,
            plan_step: a.plan_step,
            after: a.after.clone(),
            armed_at: a.armed_at,
            deadline: a.deadline,
            reminders: a
                .reminders
                .iter()
                .map(|r| ReminderView {
                    kind: r.kind.as_str().to_owned(),
                    at: r.at,
                    passed: reminders_passed_up_to.is_some_and(|sent| r.at <= sent),
                })
                .collect(),
            proposed_by: (&a.proposed_by).into(),
            decided_by: a.decided_by.as_ref().map(Into::into),
            reason: a.reason.clone(),
            comment: a.comment.clone(),
            attempts: a.attempts,
            last_error: a.last_error.clone(),
            idempotency_key: a.idempotency_key.clone(),
            callback_url: a.callback_url.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            executed_at: a.executed_at,
        }
    }

    pub async fn load(state: &AppState, a: &ActionRecord) -> ApiResult<ActionView> {
        let slug = state.teams.slug(&state.store, a.team_id).await?;
        Ok(ActionView::new(a, slug))
    }

    pub async fn load_all(
        state: &AppState,
        actions: &[ActionRecord],
    ) -> ApiResult<Vec<ActionView>> {
        let mut out = Vec::with_capacity(actions.len());
        for a in actions {
            out.push(ActionView::load(state, a).await?);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Team> for TeamView {
    fn from(t: &Team) -> Self {
        TeamView {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            created_at: t.created_at,
        }
    }
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    /// `agent`, `admin` or `user`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl KeyView {
    pub async fn load(state: &AppState, k: &KeyRecord) -> ApiResult<KeyView> {
        let team = match k.team_id {
            Some(t) => Some(state.teams.slug(&state.store, t).await?),
            None => None,
        };
        Ok(KeyView {
            id: k.id.clone(),
            kind: k.kind.as_str().to_owned(),
            team,
            user_id: k.user_id,
            name: k.name.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub chain: String,
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub actor: ActorView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(rename = "type")]
    pub event: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub hash: String,
    pub prev_hash: String,
}

impl AuditView {
    pub async fn load(state: &AppState, e: &AuditEntry) -> ApiResult<AuditView> {
        let team = match e.team_id {
            Some(t) => Some(state.teams.slug(&state.store, t).await?),
            None => None,
        };
        Ok(AuditView::from_entry(e, team))
    }

    pub fn from_entry(e: &AuditEntry, team: Option<String>) -> AuditView {
        AuditView {
            id: e.id,
            chain: e.chain.clone(),
            seq: e.seq,
            at: e.at,
            team,
            actor: (&e.actor).into(),
            subject: e.subject.clone(),
            event: e.event.clone(),
            data: serde_json::from_str(&e.data).unwrap_or(Value::String(e.data.clone())),
            hash: e.hash.clone(),
            prev_hash: e.prev_hash.clone(),
        }
    }
}
