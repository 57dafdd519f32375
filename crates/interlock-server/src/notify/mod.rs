//! Notifications (SPEC §7, §10, §16). Every change that people or agents should hear
//! about writes a delivery to the outbox in its own transaction, with a `notify` job due
//! at once. That job sends the delivery to each of the team's channels (or to the
//! agent's callback URL), records what became of it per target, and comes back with
//! back-off for the targets worth retrying. A target that got a delivery is never sent
//! it again; a reminder whose action left `armed`, or that a later reminder replaced, is
//! skipped rather than sent late.

pub mod callback;
mod email;
pub mod render;
pub mod slack;

use chrono::{DateTime, Utc};
use interlock_core::Status;
use interlock_store::{
    ChannelConfig, ChannelRecord, Delivery, DeliverySend, Job, Role, SendState, SendTarget,
};
use serde_json::{Value, json};

use crate::connectors::http::{Post, post_json};
use crate::connectors::{Outcome, smtp};
use crate::scheduler::{backoff, finish};
use crate::state::AppState;

/// Where one delivery goes.
enum Target {
    Channel(ChannelRecord),
    Callback(String),
}

impl Target {
    fn id(&self) -> SendTarget {
        match self {
            Target::Channel(c) => SendTarget::Channel(c.id),
            Target::Callback(_) => SendTarget::Callback,
        }
    }
}

pub(crate) async fn run(state: &AppState, job: &Job) -> anyhow::Result<()> {
    let Some(delivery) = state.store.delivery(job.subject).await? else {
        return finish(state, job).await;
    };
    let targets = match &delivery.callback_url {
        Some(url) => vec![Target::Callback(url.clone())],
        None => state
            .store
            .channels(delivery.team_id)
            .await?
            .into_iter()
            .map(Target::Channel)
            .collect(),
    };
    let before = state.store.sends_for_delivery(delivery.id).await?;
    let stale = why_stale(state, &delivery).await?;
    let payload = enrich(state, &delivery).await?;
    let mut retry_after_attempt: Option<u32> = None;
    for target in targets {
        let previous = before.iter().find(|s| s.target == target.id());
        if previous.is_some_and(|p| p.state.is_final()) {
            continue;
        }
        let attempts = previous.map_or(0, |p| p.attempts);
        let mut send = DeliverySend {
            delivery_id: delivery.id,
            target: target.id(),
            state: SendState::Skipped,
            attempts,
            answer: None,
            last_error: stale.clone(),
            updated_at: state.clock.now(),
        };
        if stale.is_none() {
            let outcome = send_to(state, &delivery, &payload, &target).await;
            send.attempts += 1;
            send.updated_at = state.clock.now();
            (send.state, send.answer, send.last_error) = match outcome {
                Outcome::Done { detail } => (SendState::Sent, Some(answer_of(&detail)), None),
                Outcome::Retry { error }
                    if send.attempts < state.settings.max_delivery_attempts =>
                {
                    retry_after_attempt = retry_after_attempt.max(Some(send.attempts));
                    (SendState::Retrying, None, Some(error))
                }
                Outcome::Retry { error } | Outcome::Fail { error } => {
                    tracing::warn!(delivery = %delivery.id, event = %delivery.event, target = ?send.target, %error, "a notification could not be delivered");
                    (SendState::Failed, None, Some(error))
                }
            };
        }
        metrics::counter!("interlock_notifications_total", "state" => send.state.as_str())
            .increment(1);
        state.store.record_send(send).await?;
    }
    match retry_after_attempt {
        Some(attempt) => {
            let at = state.clock.now()
                + state
                    .clock
                    .elapsed_during(backoff(&state.settings, attempt));
            state
                .store
                .reschedule_job(job.id, &state.settings.node, at)
                .await?;
            Ok(())
        }
        None => finish(state, job).await,
    }
}

fn answer_of(detail: &Value) -> String {
    match &detail["answer"] {
        Value::String(s) => s.clone(),
        Value::Null => detail.to_string(),
        other => other.to_string(),
    }
}

/// A reminder that no longer means anything is not sent (SPEC §7): its action left
/// `armed`, or a later reminder of the same action replaced it.
async fn why_stale(state: &AppState, d: &Delivery) -> anyhow::Result<Option<String>> {
    let (Some(action_id), "time_bomb.reminder") = (d.action_id, d.event.as_str()) else {
        return Ok(None);
    };
    let Some(action) = state.store.action(action_id).await? else {
        return Ok(Some("the action no longer exists".to_owned()));
    };
    if action.status != Status::Armed {
        return Ok(Some(format!(
            "not sent: the action is no longer armed (it is {})",
            action.status
        )));
    }
    let later = state
        .store
        .deliveries_for_action(action_id)
        .await?
        .into_iter()
        .any(|other| other.event == d.event && other.created_at > d.created_at);
    Ok(later.then(|| "not sent: a later reminder replaced it".to_owned()))
}

/// The payload as sent: the team's slug and, when the console's address is known, a
/// link to the action.
async fn enrich(state: &AppState, d: &Delivery) -> anyhow::Result<Value> {
    let mut payload = d.payload.clone();
    let slug = state
        .store
        .team(d.team_id)
        .await?
        .map(|t| t.slug)
        .unwrap_or_default();
    payload["team"] = json!(slug);
    if payload["action"].is_object() {
        payload["action"]["team"] = json!(slug);
        if let (Some(base), Some(id)) = (&state.settings.public_url, d.action_id) {
            payload["action"]["url"] = json!(console_link(base, id));
        }
    }
    Ok(payload)
}

pub fn console_link(base: &str, action_id: uuid::Uuid) -> String {
    format!("{}/actions/{action_id}", base.trim_end_matches('/'))
}

async fn send_to(state: &AppState, d: &Delivery, payload: &Value, target: &Target) -> Outcome {
    let key = d.id.to_string();
    match target {
        Target::Callback(url) => {
            let post = Post {
                what: "the callback",
                url,
                secret: state
                    .settings
                    .callback_secret
                    .as_ref()
                    .map(|s| s.0.as_str()),
                idempotency_key: &key,
            };
            post_json(state, post, payload).await
        }
        Target::Channel(channel) => {
            let to = if d.event == "action.escalated" {
                managers_of(state, d.team_id).await
            } else {
                Vec::new()
            };
            send_to_channel(state, &channel.config, payload, &key, to).await
        }
    }
}

/// Sends a payload to a channel. Email channels also write to `extra_to` (the managers,
/// for escalations).
async fn send_to_channel(
    state: &AppState,
    config: &ChannelConfig,
    payload: &Value,
    idempotency_key: &str,
    extra_to: Vec<String>,
) -> Outcome {
    match config {
        ChannelConfig::Webhook { url, secret } => {
            let post = Post {
                what: "the webhook",
                url,
                secret: Some(secret),
                idempotency_key,
            };
            post_json(state, post, payload).await
        }
        ChannelConfig::Slack { url } => {
            let post = Post {
                what: "the Slack webhook",
                url,
                secret: None,
                idempotency_key,
            };
            post_json(state, post, &slack::message(&render::notice(payload))).await
        }
        ChannelConfig::Email { to, smtp: own } => {
            let Some(server) = own.as_ref().or(state.settings.smtp.as_ref()) else {
                return Outcome::Fail {
                    error: "no SMTP server: give the channel one, or set [smtp] in the config"
                        .to_owned(),
                };
            };
            let mut recipients = to.clone();
            for m in extra_to {
                if !recipients.contains(&m) {
                    recipients.push(m);
                }
            }
            let email = email::email(&render::notice(payload), recipients);
            smtp::send(server, state.settings.connector_timeout, &email).await
        }
    }
}

/// The addresses of the team's managers: escalations reach them by email.
async fn managers_of(state: &AppState, team_id: uuid::Uuid) -> Vec<String> {
    match state.store.list_users().await {
        Ok(users) => users
            .into_iter()
            .filter(|u| u.role == Role::Manager && u.teams.contains(&team_id))
            .map(|u| u.email)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not look up the team's managers");
            Vec::new()
        }
    }
}

/// "Send a test" for a channel: a `test` event, worded for the channel, sent at once.
pub async fn test_channel(state: &AppState, channel: &ChannelRecord, team_slug: &str) -> Outcome {
    let now: DateTime<Utc> = state.clock.now();
    let payload = json!({
        "event": "test",
        "team": team_slug,
        "message": format!("A test of this {} channel, sent at {}. Nothing happened to any action.", channel.config.kind(), now.format("%Y-%m-%d %H:%M UTC")),
        "action": {"title": "Interlock test notification", "team": team_slug},
    });
    let key = format!("test-{}", uuid::Uuid::now_v7());
    send_to_channel(state, &channel.config, &payload, &key, Vec::new()).await
}
