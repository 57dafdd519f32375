//! Turning a proposal body into a stored action: validate at the edge, decide, schedule
//! the countdown, and prepare the jobs, audit entries and notifications that are written
//! with it in one transaction.

use chrono::{DateTime, Utc};
use interlock_core::rules::{AmountText, RuleSet};
use interlock_core::{Category, Currency, Level, Money, Proposal, Status, payload};
use interlock_store::{
    ActionRecord, Actor, AuditDraft, JobKind, NewAction, NewDelivery, NewJob, Team,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const MAX_TITLE: usize = 200;
pub const MAX_RATIONALE: usize = 10_000;
pub const MAX_TAGS: usize = 32;
pub const MAX_KEY_LEN: usize = 200;
pub const MAX_URL_LEN: usize = 2048;

/// The body of `POST /v1/actions`, and of each plan step.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// Team slug; optional for an agent key, which implies its team.
    #[serde(default)]
    pub team: Option<String>,
    pub category: String,
    pub title: String,
    /// Why the agent wants this: shown to the people deciding.
    #[serde(default)]
    pub rationale: String,
    /// The category's payload (see `docs/api.md`).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// A decimal string (`"120.00"`) or an exact JSON number. REFUND takes it from its payload.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount: Option<AmountText>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub card_id: Option<String>,
    /// Sending the same key again returns the first action instead of a second one.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Plan steps only: indices of earlier steps that must execute first.
    #[serde(default)]
    pub after: Option<Vec<usize>>,
}

/// A proposal that passed every check at the edge.
#[derive(Debug, Clone)]
pub struct ValidProposal {
    pub category: Category,
    pub title: String,
    pub rationale: String,
    pub payload: Value,
    pub amount: Option<Money>,
    pub tags: Vec<String>,
    pub card_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
}

fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::unprocessable(
        "invalid_field",
        format!("`{field}` is longer than {max} characters"),
    )
    .with_details(json!([{"field": field, "message": format!("at most {max} characters")}]))
}

/// Checks everything about a proposal that does not need the rules.
pub fn validate(body: &ProposeBody, team_currency: Currency) -> ApiResult<ValidProposal> {
    let category: Category =
        body.category
            .parse()
            .map_err(|e: interlock_core::ParseNameError| {
                ApiError::unprocessable("unknown_category", e.to_string())
            })?;
    let title = body.title.trim();
    if title.is_empty() {
        return Err(
            ApiError::unprocessable("invalid_field", "`title` must not be empty")
                .with_details(json!([{"field": "title", "message": "required"}])),
        );
    }
    if title.chars().count() > MAX_TITLE {
        return Err(too_long("title", MAX_TITLE));
    }
    if body.rationale.chars().count() > MAX_RATIONALE {
        return Err(too_long("rationale", MAX_RATIONALE));
    }
    let facts = payload::check(category, &body.payload).map_err(|problems| {
        let first = problems
            .first()
            .map(|p| format!("{}: {}", p.field, p.message))
            .unwrap_or_default();
        ApiError::unprocessable(
            "invalid_payload",
            format!("the {category} payload is not valid: {first}"),
        )
        .with_details(serde_json::to_value(&problems).unwrap_or_default())
    })?;
    if body.tags.len() > MAX_TAGS {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in body.tags.iter().enumerate() {
        if let Err(why) = interlock_core::rules::check_tag(tag) {
            return Err(
                ApiError::unprocessable("invalid_field", format!("tag `{tag}` {why}"))
                    .with_details(json!([{"field": format!("tags[{i}]"), "message": why}])),
            );
        }
    }
    for (field, value, max) in [
        ("card_id", &body.card_id, MAX_KEY_LEN),
        ("idempotency_key", &body.idempotency_key, MAX_KEY_LEN),
        ("callback_url", &body.callback_url, MAX_URL_LEN),
    ] {
        if let Some(v) = value {
            if v.is_empty() {
                return Err(ApiError::unprocessable(
                    "invalid_field",
                    format!("`{field}` must not be empty"),
                ));
            }
            if v.chars().count() > max {
                return Err(too_long(field, max));
            }
        }
    }
    if let Some(url) = &body.callback_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "`callback_url` must be an http(s) URL",
        ));
    }
    let amount = amount_of(category, body, facts.amount, team_currency)?;
    let card_id = body.card_id.clone().or(facts.card_id);
    Ok(ValidProposal {
        category,
        title: title.to_owned(),
        rationale: body.rationale.clone(),
        payload: body.payload.clone(),
        amount,
        tags: body.tags.clone(),
        card_id,
        idempotency_key: body.idempotency_key.clone(),
        callback_url: body.callback_url.clone(),
    })
}

/// The action's amount: REFUND's comes from its payload; others may carry one alongside.
fn amount_of(
    category: Category,
    body: &ProposeBody,
    from_payload: Option<(String, String)>,
    team_currency: Currency,
) -> ApiResult<Option<Money>> {
    let (text, currency) = match (from_payload, &body.amount) {
        (Some((amount, currency)), top) => {
            if let Some(top) = top
                && top.0 != amount
            {
                return Err(ApiError::unprocessable(
                    "amount_mismatch",
                    format!(
                        "`amount` ({}) differs from the {category} payload's amount ({amount})",
                        top.0
                    ),
                ));
            }
            (amount, Some(currency))
        }
        (None, Some(top)) => (top.0.clone(), body.currency.clone()),
        (None, None) => return Ok(None),
    };
    let currency: Currency = match currency {
        Some(code) => code.parse().map_err(amount_error)?,
        None => team_currency,
    };
    Money::parse(&text, currency)
        .map(Some)
        .map_err(amount_error)
}

pub fn amount_error(e: interlock_core::AmountError) -> ApiError {
    ApiError::unprocessable(e.code(), e.to_string())
}

/// Where a new action sits in a plan.
#[derive(Debug, Clone)]
pub struct PlanPlace {
    pub plan_id: Uuid,
    pub step: u32,
    pub after: Vec<Uuid>,
}

/// Decides a valid proposal and prepares everything written with it.
pub fn build(
    team: &Team,
    rules: &RuleSet,
    p: ValidProposal,
    actor: &Actor,
    now: DateTime<Utc>,
    plan: Option<PlanPlace>,
) -> ApiResult<NewAction> {
    let decision = rules
        .decide(&Proposal {
            category: p.category,
            amount: p.amount,
            tags: &p.tags,
        })
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let dependencies_met = plan.as_ref().is_none_or(|pl| pl.after.is_empty());
    let status = Status::initial(decision.level, dependencies_met);
    let schedule = decision.time_bomb.map(|tb| tb.schedule(now));
    let id = Uuid::now_v7();
    let decision_json = serde_json::to_value(&decision).map_err(ApiError::internal)?;

    let mut jobs = Vec::new();
    match status {
        Status::Executing => jobs.push(NewJob {
            kind: JobKind::Execute,
            subject: id,
            run_at: now,
        }),
        Status::Armed => {
            let s = schedule.as_ref().expect("an armed action has a schedule");
            let first = s.reminders.first().map_or(s.deadline, |r| r.at);
            jobs.push(NewJob {
                kind: JobKind::Timer,
                subject: id,
                run_at: first,
            });
        }
        Status::Queued => {
            if let Some(pl) = &plan {
                jobs.push(NewJob {
                    kind: JobKind::PlanCheck,
                    subject: pl.plan_id,
                    run_at: now,
                });
            }
        }
        _ => {}
    }

    let action = ActionRecord {
        id,
        team_id: team.id,
        category: p.category,
        title: p.title,
        rationale: p.rationale,
        payload: p.payload,
        original_payload: None,
        amount: p.amount,
        tags: p.tags,
        card_id: p.card_id,
        plan_id: plan.as_ref().map(|pl| pl.plan_id),
        plan_step: plan.as_ref().map(|pl| pl.step),
        after: plan.map(|pl| pl.after).unwrap_or_default(),
        level: decision.level,
        status,
        version: 1,
        decision: decision_json.clone(),
        rule_set_version: decision.rule_set_version,
        armed_at: schedule.as_ref().map(|s| s.armed_at),
        deadline: schedule.as_ref().map(|s| s.deadline),
        reminders: schedule.map(|s| s.reminders).unwrap_or_default(),
        last_reminder_at: None,
        proposed_by: actor.clone(),
        idempotency_key: p.idempotency_key,
        callback_url: p.callback_url,
        decided_by: None,
        reason: None,
        comment: None,
        attempts: 0,
        last_error: None,
        created_at: now,
        updated_at: now,
        executed_at: None,
    };

    let subject = Some(id.to_string());
    let audit = vec![
        AuditDraft {
            team_id: Some(team.id),
            actor: actor.clone(),
            subject: subject.clone(),
            event: "action.proposed".to_owned(),
            data: json!({
                "category": action.category,
                "title": action.title,
                "amount": action.amount.map(|m| m.to_string()),
                "tags": action.tags,
                "payload": action.payload,
                "plan_id": action.plan_id,
                "idempotency_key": action.idempotency_key,
            }),
        },
        AuditDraft {
            team_id: Some(team.id),
            actor: Actor::system("rules"),
            subject,
            event: "action.decided".to_owned(),
            // What decided and why; the schedule follows from the deadline and the rules.
            data: json!({
                "level": decision.level,
                "rule": decision.rule.as_str(),
                "rule_set_version": decision.rule_set_version,
                "explanation": decision_json["explanation"],
                "status": status,
                "deadline": action.deadline,
            }),
        },
    ];

    let mut deliveries = Vec::new();
    let notice = match decision.level {
        Level::TimeBomb => Some("time_bomb.armed"),
        Level::HumanApproval => Some("action.awaiting_approval"),
        _ => None,
    };
    if let Some(event) = notice {
        deliveries.push(notification(&action, event, None));
    }
    Ok(NewAction {
        action,
        jobs,
        audit,
        deliveries,
    })
}

/// A notification about an action, recorded in the outbox for the team's channels.
pub fn notification(
    a: &ActionRecord,
    event: &str,
    reminder: Option<interlock_core::ReminderKind>,
) -> NewDelivery {
    NewDelivery {
        id: Uuid::now_v7(),
        team_id: a.team_id,
        action_id: Some(a.id),
        event: event.to_owned(),
        reminder,
        payload: json!({
            "event": event,
            "reminder": reminder,
            "action": {
                "id": a.id,
                "category": a.category,
                "title": a.title,
                "level": a.level,
                "status": a.status,
                "amount": a.amount.map(|m| m.amount_text()),
                "currency": a.amount.map(|m| m.currency().code().to_owned()),
                "deadline": a.deadline,
                "reason": a.reason,
                "last_error": a.last_error,
                "card_id": a.card_id,
            },
        }),
        callback_url: None,
    }
}
