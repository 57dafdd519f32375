//! Transitions, reminders and failed attempts.

use std::sync::Arc;

use interlock_core::{Reminder, ReminderKind, Status};
use serde_json::json;
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

fn approval(a: &ActionRecord, by: &Actor, at: chrono::DateTime<chrono::Utc>) -> ActionChange {
    let transition = state(a)
        .approve(a.version, true)
        .expect("an open action can be approved");
    ActionChange {
        update: ActionUpdate {
            payload: Some(json!({ "to": "ann@example.com", "body": "Edited." })),
            original_payload: Some(a.payload.clone()),
            decided_by: Some(by.clone()),
            comment: Some("shorter".to_owned()),
            ..ActionUpdate::default()
        },
        jobs: vec![NewJob {
            kind: JobKind::Execute,
            subject: a.id,
            run_at: at,
        }],
        stop_timer: true,
        audit: vec![draft(
            Some(a.team_id),
            by,
            &a.id.to_string(),
            "action.approved",
        )],
        deliveries: vec![notice(a, "action.approved", json!({ "by": by.id }))],
        ..change(a, transition, at)
    }
}

pub async fn an_applied_change_updates_fields_bumps_the_version_and_writes_its_consequences(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let maria = member("maria");

    let approved = store
        .apply_change(approval(&a, &maria, t(100)))
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Executing);
    assert_eq!(approved.version, a.version + 1);
    assert_eq!(approved.updated_at, t(100));
    assert_eq!(
        approved.payload,
        json!({ "to": "ann@example.com", "body": "Edited." })
    );
    assert_eq!(approved.original_payload, Some(a.payload.clone()));
    assert_eq!(approved.decided_by, Some(maria));
    assert_eq!(approved.comment.as_deref(), Some("shorter"));
    assert_eq!(
        approved.reason, None,
        "fields not in the update are left alone"
    );
    assert_eq!(approved.title, a.title);
    assert_eq!(store.action(a.id).await.unwrap(), Some(approved.clone()));

    let events = audit_events(&*store, &a.id.to_string()).await;
    assert_eq!(events, vec!["action.proposed", "action.approved"]);
    let deliveries = store.deliveries_for_action(a.id).await.unwrap();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(
        events,
        vec!["time_bomb.armed", "action.approved"],
        "oldest first"
    );
    assert_eq!(deliveries[1].created_at, t(100));

    // The timer was stopped; only the execution is left, and finishing it with the
    // next change marks it done.
    let jobs = claim_all(&*store, "w").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].kind, jobs[0].subject), (JobKind::Execute, a.id));
    let transition = state(&approved).execution_succeeded().unwrap();
    let done = ActionChange {
        finish_job: Some(jobs[0].id),
        update: ActionUpdate {
            executed_at: Some(t(101)),
            attempts: Some(1),
            ..ActionUpdate::default()
        },
        ..change(&approved, transition, t(101))
    };
    let executed = store.apply_change(done).await.unwrap();
    assert_eq!(executed.status, Status::Executed);
    assert_eq!(executed.executed_at, Some(t(101)));
    assert_eq!(executed.attempts, 1);
    assert!(
        !store.finish_job(jobs[0].id, "w").await.unwrap(),
        "the change finished the job"
    );
    assert!(store.rescue_expired_jobs(t(1_000_000_000)).await.unwrap() == 0);
    assert!(claim_all(&*store, "w").await.is_empty());
    assert_audit_verifies(&*store).await;
}

pub async fn two_changes_joined_with_then_take_effect_together_or_not_at_all(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let maria = member("maria");
    let approve = ActionChange {
        jobs: Vec::new(),
        ..approval(&a, &maria, t(100))
    };
    let executing = a.after(&approve.transition, &approve.update, approve.at);
    let executed = ActionChange {
        update: ActionUpdate {
            executed_at: Some(t(100)),
            attempts: Some(1),
            ..ActionUpdate::default()
        },
        audit: vec![draft(
            Some(a.team_id),
            &Actor::system("executor"),
            &a.id.to_string(),
            "action.executed",
        )],
        deliveries: vec![notice(&a, "action.executed", json!({}))],
        ..change(
            &executing,
            state(&executing).execution_succeeded().unwrap(),
            t(100),
        )
    };
    let joined = approve.then(executed);

    let done = store.apply_change(joined.clone()).await.unwrap();
    assert_eq!(done.status, Status::Executed);
    assert_eq!(done.version, a.version + 2);
    assert_eq!(done.decided_by, Some(maria), "the first change's update");
    assert_eq!(done.comment.as_deref(), Some("shorter"));
    assert_eq!(done.attempts, 1, "the second change's update");
    assert_eq!(done.executed_at, Some(t(100)));
    assert_eq!(store.action(a.id).await.unwrap(), Some(done.clone()));
    let events = audit_events(&*store, &a.id.to_string()).await;
    assert_eq!(
        events,
        ["action.proposed", "action.approved", "action.executed"]
    );
    let deliveries = store.deliveries_for_action(a.id).await.unwrap();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(
        events,
        ["time_bomb.armed", "action.approved", "action.executed"]
    );
    assert!(
        claim_all(&*store, "w").await.is_empty(),
        "the timer was stopped"
    );
    let entries = assert_audit_verifies(&*store).await;

    // Again, from the version it started from: neither step is written twice.
    let err = store.apply_change(joined).await.unwrap_err();
    let StoreError::Conflict(current) = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!(*current, done);
    assert_eq!(assert_audit_verifies(&*store).await, entries);
    assert_eq!(store.deliveries_for_action(a.id).await.unwrap().len(), 3);
}

pub async fn a_change_from_a_stale_version_is_a_conflict_that_writes_nothing(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let held = state(&a).hold(a.version).unwrap();
    let held = store.apply_change(change(&a, held, t(50))).await.unwrap();
    let entries_before = assert_audit_verifies(&*store).await;

    // Computed from the action as it was before the hold.
    let err = store
        .apply_change(approval(&a, &member("maria"), t(60)))
        .await
        .unwrap_err();
    let StoreError::Conflict(current) = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!(
        *current, held,
        "the conflict carries the action as it is now"
    );
    // The status matches but the version is stale: the version alone decides.
    let mut same_status = approval(&held, &member("maria"), t(61));
    same_status.transition.from_version = a.version;
    let err = store.apply_change(same_status).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");

    assert_eq!(store.action(a.id).await.unwrap(), Some(held));
    assert_eq!(
        assert_audit_verifies(&*store).await,
        entries_before,
        "no audit entry"
    );
    assert_eq!(
        store.deliveries_for_action(a.id).await.unwrap().len(),
        1,
        "no delivery"
    );
    let jobs = claim_all(&*store, "w").await;
    assert!(
        jobs.iter().all(|j| j.kind == JobKind::Timer),
        "no execution job was written: {jobs:?}"
    );
    assert_eq!(jobs.len(), 1, "and the timer was not stopped");
}

pub async fn a_change_to_an_unknown_action_is_not_found(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let ghost = ActionRecord {
        id: Uuid::now_v7(),
        ..armed(support.id)
    };
    let err = store
        .apply_change(approval(&ghost, &member("m"), t(5)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "got {err:?}");
    assert!(claim_all(&*store, "w").await.is_empty());
}

pub async fn of_twenty_racing_changes_to_one_action_exactly_one_wins(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let a = a.clone();
            tokio::spawn(async move {
                let c = if i % 2 == 0 {
                    approval(&a, &member(&format!("m{i}")), t(100 + i))
                } else {
                    let transition = state(&a).reject(a.version).unwrap();
                    ActionChange {
                        audit: vec![draft(
                            Some(a.team_id),
                            &member("r"),
                            &a.id.to_string(),
                            "action.rejected",
                        )],
                        ..change(&a, transition, t(100 + i))
                    }
                };
                store.apply_change(c).await
            })
        })
        .collect();
    let mut wins = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(rec) => wins.push(rec),
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one change wins");
    assert_eq!(conflicts, 19);
    let now = store.action(a.id).await.unwrap().unwrap();
    assert_eq!(now, wins[0]);
    assert_eq!(now.version, a.version + 1);
    assert_eq!(
        audit_of(&*store, &a.id.to_string()).await.len(),
        2,
        "proposed, and the winner's entry"
    );
    let executions = claim_all(&*store, "w")
        .await
        .into_iter()
        .filter(|j| j.kind == JobKind::Execute)
        .count();
    assert_eq!(
        executions,
        usize::from(now.status == Status::Executing),
        "at most one execution"
    );
    assert_audit_verifies(&*store).await;
}

pub async fn a_change_that_stops_the_timer_ends_the_pending_timer_job(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let other = insert(&*store, armed_proposal(armed(support.id))).await;
    // The timer is running (claimed) when the hold arrives: it ends too.
    let claimed = claim_all(&*store, "w").await;
    assert_eq!(claimed.len(), 2);
    let held = state(&a).hold(a.version).unwrap();
    let c = ActionChange {
        stop_timer: true,
        ..change(&a, held, t(60))
    };
    store.apply_change(c).await.unwrap();
    let mine = claimed.iter().find(|j| j.subject == a.id).unwrap();
    assert!(
        !store.finish_job(mine.id, "w").await.unwrap(),
        "the timer job was ended"
    );
    let theirs = claimed.iter().find(|j| j.subject == other.id).unwrap();
    assert!(
        store.finish_job(theirs.id, "w").await.unwrap(),
        "other actions' timers are untouched"
    );
}

pub async fn a_deadline_can_hand_its_claimed_timer_on_to_the_execution(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let timer = claim_all(&*store, "w").await.pop().expect("the timer");
    assert_eq!((timer.kind, timer.subject), (JobKind::Timer, a.id));
    let fired = state(&a).deadline(true).unwrap();
    let c = ActionChange {
        finish_job: Some(timer.id),
        continue_as: Some(JobKind::Execute),
        stop_timer: true,
        ..change(&a, fired, t(3600))
    };
    assert_eq!(
        store.apply_change(c).await.unwrap().status,
        Status::Executing
    );
    assert!(
        claim_all(&*store, "other").await.is_empty(),
        "the execution stays with the worker that held the timer"
    );
    // That worker died: when its lease runs out, any worker gets the execution.
    assert_eq!(store.rescue_expired_jobs(t(401 * 86_400)).await.unwrap(), 1);
    let jobs = claim_all(&*store, "other").await;
    assert_eq!(
        jobs.iter()
            .map(|j| (j.id, j.kind, j.subject))
            .collect::<Vec<_>>(),
        vec![(timer.id, JobKind::Execute, a.id)]
    );
    assert!(store.finish_job(timer.id, "other").await.unwrap());
    assert!(claim_all(&*store, "w").await.is_empty());
}

fn half_reminder(a: &ActionRecord, timer_job: i64) -> ReminderSent {
    ReminderSent {
        action_id: a.id,
        reminder: Reminder {
            kind: ReminderKind::Half,
            at: t(1810),
        },
        at: t(1815),
        timer_job,
        next_run_at: t(3250),
        audit: draft(
            Some(a.team_id),
            &Actor::system("scheduler"),
            &a.id.to_string(),
            "time_bomb.reminder",
        ),
        delivery: NewDelivery {
            id: Uuid::now_v7(),
            team_id: a.team_id,
            action_id: Some(a.id),
            event: "time_bomb.reminder".to_owned(),
            reminder: Some(ReminderKind::Half),
            payload: json!({ "kind": "half" }),
            callback_url: None,
        },
    }
}

pub async fn a_reminder_for_an_armed_action_is_recorded_and_moves_its_timer(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    add_webhook_channel(&*store, support.id, 0).await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let timer = claim_all(&*store, "w").await.pop().expect("the timer");
    assert!(
        store
            .record_reminder(half_reminder(&a, timer.id))
            .await
            .unwrap()
    );

    let after = store.action(a.id).await.unwrap().unwrap();
    assert_eq!(after.last_reminder_at, Some(t(1810)));
    assert_eq!(
        (after.status, after.version),
        (a.status, a.version),
        "a reminder is not a transition"
    );
    let entries = audit_of(&*store, &a.id.to_string()).await;
    assert_eq!(
        entries.last().map(|e| (e.event.as_str(), e.at)),
        Some(("time_bomb.reminder", t(1815)))
    );
    let deliveries = store.deliveries_for_action(a.id).await.unwrap();
    assert_eq!(
        deliveries.last().map(|d| d.reminder),
        Some(Some(ReminderKind::Half))
    );

    assert_eq!(
        send_notifications_due_by(&*store, t(1815)).await,
        1,
        "the reminder's delivery is due at once"
    );
    assert_eq!(
        store.next_job_due().await.unwrap(),
        Some(t(3250)),
        "the timer moved to the next reminder"
    );
    assert!(
        store
            .claim_jobs(t(3249), "w", t(99_999), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_jobs(t(3250), "w", t(99_999), 10).await.unwrap();
    assert_eq!(
        again.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![timer.id]
    );
    assert_audit_verifies(&*store).await;
}

pub async fn a_reminder_for_an_action_that_left_armed_is_not_recorded_and_ends_the_timer(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let timer = claim_all(&*store, "w").await.pop().expect("the timer");
    let held = state(&a).hold(a.version).unwrap();
    store.apply_change(change(&a, held, t(1000))).await.unwrap();
    let entries_before = audit_of(&*store, &a.id.to_string()).await.len();

    assert!(
        !store
            .record_reminder(half_reminder(&a, timer.id))
            .await
            .unwrap()
    );
    let after = store.action(a.id).await.unwrap().unwrap();
    assert_eq!(after.last_reminder_at, None);
    assert_eq!(
        audit_of(&*store, &a.id.to_string()).await.len(),
        entries_before
    );
    assert_eq!(
        store.deliveries_for_action(a.id).await.unwrap().len(),
        1,
        "only the arming notice"
    );
    assert!(
        !store.finish_job(timer.id, "w").await.unwrap(),
        "the timer ended"
    );
    assert_eq!(store.next_job_due().await.unwrap(), None);
}

/// The first execution attempt of `a` (its job `job_id`) failed at t(101), to be tried
/// again at t(130).
fn first_attempt_failed(a: &ActionRecord, job_id: i64) -> AttemptFailed {
    AttemptFailed {
        action_id: a.id,
        job_id,
        at: t(101),
        attempts: 1,
        error: "HTTP 503".to_owned(),
        retry_at: t(130),
        audit: draft(
            Some(a.team_id),
            &Actor::system("executor"),
            &a.id.to_string(),
            "execution.failed",
        ),
    }
}

pub async fn a_failed_attempt_is_recorded_and_its_job_is_ready_again_at_the_retry_time(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let executing = store
        .apply_change(approval(&a, &member("m"), t(100)))
        .await
        .unwrap();
    let job = claim_all(&*store, "w")
        .await
        .pop()
        .expect("the execution job");
    assert_eq!(job.kind, JobKind::Execute);

    store
        .record_attempt_failure(first_attempt_failed(&a, job.id))
        .await
        .unwrap();
    let after = store.action(a.id).await.unwrap().unwrap();
    assert_eq!(after.attempts, 1);
    assert_eq!(after.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        (after.status, after.version),
        (executing.status, executing.version)
    );
    let last = audit_of(&*store, &a.id.to_string()).await.pop().unwrap();
    assert_eq!((last.event.as_str(), last.at), ("execution.failed", t(101)));

    assert!(
        !store.finish_job(job.id, "w").await.unwrap(),
        "the old claim is gone"
    );
    assert_eq!(store.next_job_due().await.unwrap(), Some(t(130)));
    assert!(
        store
            .claim_jobs(t(129), "w2", t(9_999), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.claim_jobs(t(130), "w2", t(9_999), 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].id, retried[0].attempt), (job.id, 2));
    assert_audit_verifies(&*store).await;
}

/// A store answers a winning change from the record the change was made from; the answer
/// must still be the action exactly as stored, including what moved meanwhile without a
/// new version (a reminder sent, a failed attempt) and times kept to the millisecond.
pub async fn a_change_answers_with_the_action_exactly_as_stored(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let timer = claim_all(&*store, "w").await.pop().expect("the timer");
    assert!(
        store
            .record_reminder(half_reminder(&a, timer.id))
            .await
            .unwrap()
    );
    // `a` was read before the reminder: its last_reminder_at is stale.
    let sub_ms = chrono::TimeDelta::microseconds(1_234_567);
    let approved = store
        .apply_change(approval(&a, &member("m"), t(100) + sub_ms))
        .await
        .unwrap();
    assert_eq!(Some(&approved), store.action(a.id).await.unwrap().as_ref());
    assert!(approved.last_reminder_at.is_some());

    let job = claim_all(&*store, "w")
        .await
        .into_iter()
        .find(|j| j.kind == JobKind::Execute)
        .expect("the execution job");
    store
        .record_attempt_failure(first_attempt_failed(&a, job.id))
        .await
        .unwrap();
    // `approved` was read before the failed attempt: its attempts and error are stale.
    let done = ActionChange {
        update: ActionUpdate {
            executed_at: Some(t(103) + sub_ms),
            ..ActionUpdate::default()
        },
        ..change(
            &approved,
            state(&approved).execution_succeeded().unwrap(),
            t(103) + sub_ms,
        )
    };
    let executed = store.apply_change(done).await.unwrap();
    let stored = store.action(a.id).await.unwrap().unwrap();
    assert_eq!(executed, stored);
    assert_eq!(
        (executed.attempts, executed.last_error.as_deref()),
        (1, Some("HTTP 503"))
    );
    assert_eq!(
        executed.executed_at,
        Some(t(104) + chrono::TimeDelta::milliseconds(234))
    );
}
