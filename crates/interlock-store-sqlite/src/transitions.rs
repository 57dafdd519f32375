//! Transitions of actions, with group commit (see `interlock_store_sql::group`).
//!
//! A batch is one transaction, applied in rounds as on PostgreSQL: each round is one
//! `UPDATE … FROM json_each(?)` holding at most one change per action, every change a
//! conditional update (`… AND status = ? AND version = ?`), so of two racing changes
//! exactly one wins; a later change to the same action waits for the next round and
//! sees the earlier one's result, as if they ran one after another. What the winners
//! schedule, end, notify and audit goes in the same transaction. Every statement has a
//! constant text with its rows bound as JSON, so SQLite prepares each once: parsing
//! the per-change statements this replaced took a third of the writer's time. A batch
//! costs three round trips to the writer (begin, update, the rest with the commit) and
//! one fsync, whatever its size.

use std::collections::{HashMap, HashSet};

use interlock_store::{
    ActionChange, ActionRecord, AuditDraft, NewDelivery, NewJob, Result, StoreError,
};
use interlock_store_sql::group::{BatchWriter, GroupCommit};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::connectors::push_deliveries;
use crate::db::{Db, DbResult, Tx, Writes, json_rows};
use crate::jobs::push_jobs;
use crate::rows::{self, int, ms};

/// The most changes written in one transaction; more wait for the next.
const MAX_BATCH: usize = 256;

/// Changes waiting for their group commit.
pub(crate) type ChangeQueue = GroupCommit<ActionChange, ActionRecord>;

pub(crate) fn queue() -> ChangeQueue {
    GroupCommit::new(MAX_BATCH)
}

pub(crate) async fn apply(db: &Db, change: ActionChange) -> Result<ActionRecord> {
    db.changes.apply(db, change).await
}

impl BatchWriter<ActionChange, ActionRecord> for Db {
    async fn write(&self, batch: &[ActionChange]) -> Result<Vec<Result<ActionRecord>>> {
        apply_batch(self, batch).await
    }
}

/// One transaction for `changes`; the outer error means nothing was written.
async fn apply_batch(db: &Db, changes: &[ActionChange]) -> Result<Vec<Result<ActionRecord>>> {
    let mut audit = AuditAppender::new(db);
    let drafts: Vec<&AuditDraft> = changes.iter().flat_map(|c| &c.audit).collect();
    let (mut tx, heads) = Tx::begin_with(&db.writer, |q| audit.push_head_query(q, &drafts)).await?;
    audit.preload(&heads, &drafts)?;

    let mut results: Vec<Option<Result<ActionRecord>>> = changes.iter().map(|_| None).collect();
    let mut todo: Vec<usize> = (0..changes.len()).collect();
    let mut writes = Writes::default();
    while !todo.is_empty() {
        // This round: the first waiting change of each action; the rest wait. What an
        // earlier round wrote must be in place before the next one updates.
        if !writes.is_empty() {
            std::mem::take(&mut writes).run(&mut tx).await?;
        }
        let mut seen = HashSet::new();
        let (round, later): (Vec<usize>, Vec<usize>) = todo
            .into_iter()
            .partition(|&i| seen.insert(changes[i].action_id));
        todo = later;
        let mut won = update_round(&mut tx, changes, &round).await?;
        let lost: Vec<String> = round
            .iter()
            .map(|&i| changes[i].action_id)
            .filter(|id| !won.contains_key(id))
            .map(|id| id.to_string())
            .collect();
        let current = read_actions(&mut tx, &lost).await?;
        let mut winners = Vec::with_capacity(won.len());
        for &i in &round {
            let c = &changes[i];
            results[i] = Some(match won.remove(&c.action_id) {
                Some(updated) => {
                    audit
                        .push_all(&mut tx, rows::to_millis(c.at), &c.audit)
                        .await?;
                    winners.push(c);
                    Ok(updated)
                }
                // Lost the race: report the action as it is now; nothing is written for it.
                None => match current.get(&c.action_id) {
                    Some(a) => Err(StoreError::Conflict(Box::new(a.clone()))),
                    None => Err(StoreError::NotFound("action")),
                },
            });
        }
        push_consequences(&mut writes, &winners);
    }
    audit.push_writes(&mut writes);
    writes.commit(tx).await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(StoreError::NotFound("action"))))
        .collect())
}

/// A change's conditional update as [`UPDATE_ROUND`] reads it; `None` leaves a column.
#[derive(Serialize)]
struct UpdateRow<'a> {
    id: String,
    from_status: &'static str,
    from_version: i64,
    to_status: &'static str,
    to_version: i64,
    at: i64,
    payload: Option<String>,
    original_payload: Option<String>,
    decided_by_kind: Option<&'static str>,
    decided_by_id: Option<&'a str>,
    reason: Option<&'a str>,
    comment: Option<&'a str>,
    last_error: Option<&'a str>,
    attempts: Option<u32>,
    executed_at: Option<i64>,
}

/// SQLite lets `RETURNING` name only the updated table: results are matched to changes
/// by action id, which a round holds at most once.
const UPDATE_ROUND: &str = "UPDATE actions SET status = c.to_status, version = c.to_version,
        updated_at = c.at,
        payload = COALESCE(c.payload, actions.payload),
        original_payload = COALESCE(c.original_payload, actions.original_payload),
        decided_by_kind = COALESCE(c.decided_by_kind, actions.decided_by_kind),
        decided_by_id = COALESCE(c.decided_by_id, actions.decided_by_id),
        reason = COALESCE(c.reason, actions.reason),
        comment = COALESCE(c.comment, actions.comment),
        last_error = COALESCE(c.last_error, actions.last_error),
        attempts = COALESCE(c.attempts, actions.attempts),
        executed_at = COALESCE(c.executed_at, actions.executed_at)
   FROM (SELECT value ->> 'id' AS id, value ->> 'from_status' AS from_status,
                value ->> 'from_version' AS from_version, value ->> 'to_status' AS to_status,
                value ->> 'to_version' AS to_version, value ->> 'at' AS at,
                value ->> 'payload' AS payload, value ->> 'original_payload' AS original_payload,
                value ->> 'decided_by_kind' AS decided_by_kind,
                value ->> 'decided_by_id' AS decided_by_id, value ->> 'reason' AS reason,
                value ->> 'comment' AS comment, value ->> 'last_error' AS last_error,
                value ->> 'attempts' AS attempts, value ->> 'executed_at' AS executed_at
           FROM json_each(?)) AS c
  WHERE actions.id = c.id AND actions.status = c.from_status
    AND actions.version = c.from_version
 RETURNING *";

/// One conditional update for the changes `round` names (at most one per action);
/// returns the actions updated, by id.
async fn update_round(
    tx: &mut Tx,
    changes: &[ActionChange],
    round: &[usize],
) -> Result<HashMap<Uuid, ActionRecord>> {
    let rows: Vec<UpdateRow> = round
        .iter()
        .map(|&i| {
            let c = &changes[i];
            let (t, u) = (&c.transition, &c.update);
            UpdateRow {
                id: c.action_id.to_string(),
                from_status: t.from.as_str(),
                from_version: int(t.from_version),
                to_status: t.to.as_str(),
                to_version: int(t.to_version),
                at: ms(c.at),
                payload: u.payload.as_ref().map(|p| p.to_string()),
                original_payload: u.original_payload.as_ref().map(|p| p.to_string()),
                decided_by_kind: u.decided_by.as_ref().map(|d| d.kind.as_str()),
                decided_by_id: u.decided_by.as_ref().map(|d| d.id.as_str()),
                reason: u.reason.as_deref(),
                comment: u.comment.as_deref(),
                last_error: u.last_error.as_deref(),
                attempts: u.attempts,
                executed_at: u.executed_at.map(ms),
            }
        })
        .collect();
    let Some(rows) = json_rows(&rows) else {
        return Ok(HashMap::new());
    };
    let updated = sqlx::query(UPDATE_ROUND)
        .bind(rows)
        .fetch_all(&mut **tx)
        .await
        .db()?;
    updated
        .iter()
        .map(|row| rows::action(row).map(|a| (a.id, a)))
        .collect()
}

/// The actions with these ids as they are now (those whose change lost).
async fn read_actions(tx: &mut Tx, ids: &[String]) -> Result<HashMap<Uuid, ActionRecord>> {
    let Some(ids) = json_rows(ids) else {
        return Ok(HashMap::new());
    };
    let found = sqlx::query("SELECT * FROM actions WHERE id IN (SELECT value FROM json_each(?))")
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
        .db()?;
    found
        .iter()
        .map(|row| rows::action(row).map(|a| (a.id, a)))
        .collect()
}

const STOP_TIMER: &str = "UPDATE jobs SET state = 'done'
  WHERE kind = 'timer' AND state <> 'done' AND subject IN (SELECT value FROM json_each(?))";
const FINISH_JOB: &str =
    "UPDATE jobs SET state = 'done' WHERE id IN (SELECT value FROM json_each(?))";
/// Rows `[job id, kind]`: the claimed job becomes a job of that kind, still claimed.
const CONTINUE_JOB: &str = "UPDATE jobs SET state = 'running', attempt = 1, kind = c.kind
   FROM (SELECT value ->> 0 AS id, value ->> 1 AS kind FROM json_each(?)) AS c
  WHERE jobs.id = c.id";

/// Ends the old timers, finishes (or hands on) the jobs, schedules the new jobs and
/// queues the notifications of the changes that took, in that order (a timer a change
/// schedules must survive the ending of the old one). A round holds one change per
/// action, so doing each step for the whole round keeps every action's order; and one
/// statement per step keeps the query's text, and so its prepared form, the same.
fn push_consequences(w: &mut Writes, winners: &[&ActionChange]) {
    let stop: Vec<String> = winners
        .iter()
        .filter(|c| c.stop_timer)
        .map(|c| c.action_id.to_string())
        .collect();
    w.rows(STOP_TIMER, json_rows(&stop));
    let finish: Vec<i64> = winners
        .iter()
        .filter(|c| c.continue_as.is_none())
        .filter_map(|c| c.finish_job)
        .collect();
    w.rows(FINISH_JOB, json_rows(&finish));
    let continued: Vec<(i64, &str)> = winners
        .iter()
        .filter_map(|c| Some((c.finish_job?, c.continue_as?.as_str())))
        .collect();
    w.rows(CONTINUE_JOB, json_rows(&continued));
    let jobs: Vec<NewJob> = winners
        .iter()
        .flat_map(|c| c.jobs.iter().cloned())
        .collect();
    push_jobs(w, &jobs);
    let deliveries: Vec<(i64, &NewDelivery)> = winners
        .iter()
        .flat_map(|c| {
            let at = ms(rows::to_millis(c.at));
            c.deliveries.iter().map(move |d| (at, d))
        })
        .collect();
    push_deliveries(w, &deliveries);
}
