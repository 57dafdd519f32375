//! Builders for the suite (and for backends' own tests): fixed instants, actors, teams
//! and actions with plausible contents. Panics are fine here: these run in tests.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use interlock_core::rules::RuleSet;
use interlock_core::{ActionState, Category, Level, Reminder, ReminderKind, Status, Transition};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::*;

/// A fixed instant `secs` seconds after the suite's epoch (2026-01-05 09:00:00 UTC).
pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant")
        + TimeDelta::seconds(secs)
}

pub fn agent(id: &str) -> Actor {
    Actor {
        kind: ActorKind::Agent,
        id: id.to_owned(),
    }
}

pub fn member(id: &str) -> Actor {
    Actor {
        kind: ActorKind::Member,
        id: id.to_owned(),
    }
}

pub fn draft(team_id: Option<Uuid>, actor: &Actor, subject: &str, event: &str) -> AuditDraft {
    AuditDraft {
        team_id,
        actor: actor.clone(),
        subject: Some(subject.to_owned()),
        event: event.to_owned(),
        data: json!({ "event": event, "note": "written by the conformance suite" }),
    }
}

/// Creates a team with the conservative rules.
pub async fn team(store: &dyn Store, slug: &str) -> Team {
    let team = Team {
        id: Uuid::now_v7(),
        slug: slug.to_owned(),
        name: format!("Team {slug}"),
        created_at: t(0),
    };
    let audit = draft(None, &member("owner"), slug, "team.created");
    store
        .create_team(team, RuleSet::conservative(), audit)
        .await
        .expect("create a team")
}

/// An action awaiting approval, proposed by agent `a1` at `t(10)`.
pub fn action(team_id: Uuid) -> ActionRecord {
    ActionRecord {
        id: Uuid::now_v7(),
        team_id,
        category: Category::SendEmail,
        title: "Reply to the customer".to_owned(),
        rationale: "They asked twice".to_owned(),
        payload: json!({ "to": "ann@example.com", "subject": "Your refund", "body": "Done." }),
        original_payload: None,
        amount: None,
        tags: vec!["support".to_owned()],
        card_id: Some("card-1".to_owned()),
        plan_id: None,
        plan_step: None,
        after: Vec::new(),
        level: Level::HumanApproval,
        status: Status::AwaitingApproval,
        version: 1,
        decision: json!({ "level": "human_approval", "rule": "default", "rule_set_version": 1 }),
        rule_set_version: 1,
        armed_at: None,
        deadline: None,
        reminders: Vec::new(),
        last_reminder_at: None,
        proposed_by: agent("a1"),
        idempotency_key: None,
        callback_url: None,
        decided_by: None,
        reason: None,
        comment: None,
        attempts: 0,
        last_error: None,
        created_at: t(10),
        updated_at: t(10),
        executed_at: None,
    }
}

/// A time bomb armed at `t(10)` with a one-hour countdown and two reminders.
pub fn armed(team_id: Uuid) -> ActionRecord {
    ActionRecord {
        level: Level::TimeBomb,
        status: Status::Armed,
        armed_at: Some(t(10)),
        deadline: Some(t(3610)),
        reminders: vec![
            Reminder {
                kind: ReminderKind::Half,
                at: t(1810),
            },
            Reminder {
                kind: ReminderKind::Ninety,
                at: t(3250),
            },
        ],
        ..action(team_id)
    }
}

/// A proposal with its "proposed" audit entry and nothing else.
pub fn proposal(a: ActionRecord) -> NewAction {
    let audit = vec![draft(
        Some(a.team_id),
        &a.proposed_by,
        &a.id.to_string(),
        "action.proposed",
    )];
    NewAction {
        action: a,
        jobs: Vec::new(),
        audit,
        deliveries: Vec::new(),
    }
}

/// A notification about `a` (no reminder, no callback).
pub fn notice(a: &ActionRecord, event: &str, payload: Value) -> NewDelivery {
    NewDelivery {
        id: Uuid::now_v7(),
        team_id: a.team_id,
        action_id: Some(a.id),
        event: event.to_owned(),
        reminder: None,
        payload,
        callback_url: None,
    }
}

/// A time bomb's proposal: its timer job for the first reminder and a notification.
pub fn armed_proposal(a: ActionRecord) -> NewAction {
    let first = a
        .reminders
        .first()
        .map(|r| r.at)
        .or(a.deadline)
        .expect("a time bomb has a deadline");
    let delivery = notice(&a, "time_bomb.armed", json!({ "action": a.id.to_string() }));
    NewAction {
        jobs: vec![NewJob {
            kind: JobKind::Timer,
            subject: a.id,
            run_at: first,
        }],
        deliveries: vec![delivery],
        ..proposal(a)
    }
}

/// Inserts one proposal and returns the stored action.
pub async fn insert(store: &dyn Store, p: NewAction) -> ActionRecord {
    let mut out = store
        .insert_actions(vec![p])
        .await
        .expect("insert an action");
    match out.pop() {
        Some(Inserted::Created(a)) => a,
        other => panic!("expected a created action, got {other:?}"),
    }
}

/// A bare change applying `transition` at `at`.
pub fn change(a: &ActionRecord, transition: Transition, at: DateTime<Utc>) -> ActionChange {
    ActionChange {
        action: a.clone(),
        transition,
        at,
        update: ActionUpdate::default(),
        jobs: Vec::new(),
        finish_job: None,
        continue_as: None,
        stop_timer: false,
        audit: Vec::new(),
        deliveries: Vec::new(),
    }
}

pub fn state(a: &ActionRecord) -> ActionState {
    ActionState {
        status: a.status,
        version: a.version,
    }
}

/// Claims every ready job due within a year of the suite's epoch for `worker`, and
/// returns those that are not the outbox's `notify` jobs (the outbox tests look at
/// those; the others would only repeat them).
pub async fn claim_all(store: &dyn Store, worker: &str) -> Vec<Job> {
    let mut jobs = claim_with_notify(store, worker).await;
    for j in jobs.iter().filter(|j| j.kind == JobKind::Notify) {
        store.finish_job(j.id, worker).await.expect("finish job");
    }
    jobs.retain(|j| j.kind != JobKind::Notify);
    jobs
}

/// Claims the jobs due by `due_by`, asserts they are all `notify` jobs, and finishes
/// them, as a test's stand-in for the sender.
pub async fn send_notifications_due_by(store: &dyn Store, due_by: DateTime<Utc>) -> usize {
    let jobs = store
        .claim_jobs(due_by, "sender", t(400 * 86_400), 500)
        .await
        .expect("claim jobs");
    for j in &jobs {
        assert_eq!(
            j.kind,
            JobKind::Notify,
            "only notifications were due: {j:?}"
        );
        store.finish_job(j.id, "sender").await.expect("finish job");
    }
    jobs.len()
}

/// Claims every ready job due within a year of the suite's epoch, `notify` jobs too.
pub async fn claim_with_notify(store: &dyn Store, worker: &str) -> Vec<Job> {
    store
        .claim_jobs(t(365 * 86_400), worker, t(400 * 86_400), 500)
        .await
        .expect("claim jobs")
}

/// Every audit entry about `subject`, oldest first.
/// The event types of `subject`'s audit entries, oldest first.
pub async fn audit_events(store: &dyn Store, subject: &str) -> Vec<String> {
    audit_of(store, subject)
        .await
        .into_iter()
        .map(|e| e.event)
        .collect()
}

pub async fn audit_of(store: &dyn Store, subject: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        subject: Some(subject.to_owned()),
        ..AuditFilter::default()
    };
    let mut page = store
        .search_audit(&filter, None, 500)
        .await
        .expect("search audit");
    page.items.reverse();
    page.items
}

/// Asserts that every chain verifies and returns the number of entries.
pub async fn assert_audit_verifies(store: &dyn Store) -> u64 {
    match audit::verify_all(store)
        .await
        .expect("read the audit trail")
    {
        Ok(n) => n,
        Err(b) => panic!("the audit trail does not verify: {b:?}"),
    }
}

pub fn webhook_channel(team_id: Uuid, at: i64) -> ChannelRecord {
    ChannelRecord {
        id: Uuid::now_v7(),
        team_id,
        config: ChannelConfig::Webhook {
            url: "https://hooks.example.com/interlock".to_owned(),
            secret: "0123456789abcdef".to_owned(),
        },
        created_at: t(at),
    }
}

/// Gives the team a webhook channel, so its deliveries have somewhere to go.
pub async fn add_webhook_channel(store: &dyn Store, team_id: Uuid, at: i64) -> ChannelRecord {
    let channel = webhook_channel(team_id, at);
    let audit = draft(
        Some(team_id),
        &member("owner"),
        &channel.id.to_string(),
        "channel.created",
    );
    store
        .create_channel(channel.clone(), audit)
        .await
        .expect("create channel");
    channel
}
