//! Transitions of actions, with group commit (see `interlock_store_sql::group`).
//!
//! A batch is one transaction, applied in rounds as on PostgreSQL: each round is one
//! `UPDATE … FROM jsonb_each(?)` holding at most one change per action, every change a
//! conditional update (`… AND status = ? AND version = ?`), so of two racing changes
//! exactly one wins; a later change to the same action waits for the next round and
//! sees the earlier one's result, as if they ran one after another. What the winners
//! schedule, end, notify and audit goes in the same transaction. Every statement has a
//! constant text with its rows bound as JSON, so SQLite prepares each once: parsing
//! the per-change statements this replaced took a third of the writer's time; rows are
//! read with `jsonb_each`, which hands each one over parsed (`json_each` renders it
//! back to text for `->>` to parse again). A batch costs two round trips to the writer
//! (begin with the first round, the rest with the commit) and one fsync, whatever its
//! size.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use interlock_store::{
    ActionChange, ActionRecord, AuditDraft, NewDelivery, NewJob, Result, StoreError,
};
use interlock_store_sql::group::{BatchWriter, GroupCommit};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, QueryBuilder, Row, Sqlite};
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
    // Everything of the entries that does not need the chains' heads is made before the
    // writer is taken; while it is held, winners only have theirs numbered and hashed.
    let mut entries: Vec<Vec<_>> = changes
        .iter()
        .map(|c| c.audit.iter().map(|d| audit.prepare(c.at, d)).collect())
        .collect();
    let mut todo: Vec<usize> = (0..changes.len()).collect();
    let mut round = next_round(changes, &mut todo);
    // The first round travels with the transaction's start and the read of the audit
    // heads: one round trip to the writer's thread for all three.
    let (mut tx, rows) = Tx::begin_with(&db.writer, |q| {
        audit.push_head_query(q, &drafts);
        q.push(";\n");
        push_round(q, changes, &round);
    })
    .await?;
    let (heads, mut round_rows): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|row| column_name(row) == Some("chain"));
    audit.preload(&heads, &drafts)?;

    let mut results: Vec<Option<Result<ActionRecord>>> = changes.iter().map(|_| None).collect();
    let mut writes = Writes::default();
    loop {
        let updated = updated_ids(&round_rows)?;
        let mut lost = lost_now(&mut tx, changes, &round, &updated).await?;
        let mut winners = Vec::with_capacity(updated.len());
        for &i in &round {
            let c = &changes[i];
            results[i] = Some(match updated.get(&c.action.id) {
                Some(row) => {
                    audit.push_prepared(std::mem::take(&mut entries[i]));
                    winners.push(c);
                    Ok(rows::written(c, *row)?)
                }
                // Lost the race: report the action as it is now; nothing is written for it.
                None => match lost.remove(&c.action.id) {
                    Some(a) => Err(StoreError::Conflict(Box::new(a))),
                    None => Err(StoreError::NotFound("action")),
                },
            });
        }
        push_consequences(&mut writes, &winners);
        if todo.is_empty() {
            break;
        }
        // A later change to an action already changed in this batch: what the earlier
        // round wrote must be in place before it updates.
        round = next_round(changes, &mut todo);
        std::mem::take(&mut writes).run(&mut tx).await?;
        let mut q = QueryBuilder::default();
        push_round(&mut q, changes, &round);
        round_rows = q.build().persistent(true).fetch_all(&mut *tx).await.db()?;
    }
    audit.push_writes(&mut writes);
    writes.commit(tx).await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(StoreError::NotFound("action"))))
        .collect())
}

/// Takes the next round off `todo`: the first waiting change of each action; the rest
/// wait for a later round.
fn next_round(changes: &[ActionChange], todo: &mut Vec<usize>) -> Vec<usize> {
    let mut seen = HashSet::new();
    let (round, later) = std::mem::take(todo)
        .into_iter()
        .partition(|&i| seen.insert(changes[i].action.id));
    *todo = later;
    round
}

fn column_name(row: &SqliteRow) -> Option<&str> {
    row.columns().first().map(|c| c.name())
}

/// A change's conditional update as [`ROUND`] reads it, a JSON array in this order
/// (positions, not keys: SQLite finds them faster); `None` leaves a column.
#[derive(Serialize)]
struct UpdateRow<'a>(
    String,               // 0 id
    &'static str,         // 1 from status
    i64,                  // 2 from version
    &'static str,         // 3 to status
    i64,                  // 4 to version
    i64,                  // 5 at
    Option<String>,       // 6 payload
    Option<String>,       // 7 original payload
    Option<&'static str>, // 8 decided by kind
    Option<&'a str>,      // 9 decided by id
    Option<&'a str>,      // 10 reason
    Option<&'a str>,      // 11 comment
    Option<&'a str>,      // 12 last error
    Option<u32>,          // 13 attempts
    Option<i64>,          // 14 executed at
);

/// A round: the conditional updates (the parameter, [`UpdateRow`]s), returning for each
/// action they changed its id and [`rows::WRITTEN_COLUMNS`].
static ROUND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE actions SET status = c.to_status, version = c.to_version,
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
   FROM (SELECT value ->> 0 AS id, value ->> 1 AS from_status, value ->> 2 AS from_version,
                value ->> 3 AS to_status, value ->> 4 AS to_version, value ->> 5 AS at,
                value ->> 6 AS payload, value ->> 7 AS original_payload,
                value ->> 8 AS decided_by_kind, value ->> 9 AS decided_by_id,
                value ->> 10 AS reason, value ->> 11 AS comment, value ->> 12 AS last_error,
                value ->> 13 AS attempts, value ->> 14 AS executed_at
           FROM jsonb_each(?)) AS c
  WHERE actions.id = c.id AND actions.status = c.from_status
    AND actions.version = c.from_version
 RETURNING id, {}",
        rows::WRITTEN_COLUMNS
    )
});

/// Adds the round of the changes `round` names (at most one per action) to `q`.
fn push_round(q: &mut QueryBuilder<Sqlite>, changes: &[ActionChange], round: &[usize]) {
    let updates: Vec<UpdateRow> = round
        .iter()
        .map(|&i| {
            let c = &changes[i];
            let (t, u) = (&c.transition, &c.update);
            UpdateRow(
                c.action.id.to_string(),
                t.from.as_str(),
                int(t.from_version),
                t.to.as_str(),
                int(t.to_version),
                ms(c.at),
                u.payload.as_ref().map(|p| p.to_string()),
                u.original_payload.as_ref().map(|p| p.to_string()),
                u.decided_by.as_ref().map(|d| d.kind.as_str()),
                u.decided_by.as_ref().map(|d| d.id.as_str()),
                u.reason.as_deref(),
                u.comment.as_deref(),
                u.last_error.as_deref(),
                u.attempts,
                u.executed_at.map(ms),
            )
        })
        .collect();
    let (before, after) = ROUND.split_once('?').unwrap_or_default();
    // A round names at least one change; "[]" keeps the text valid all the same.
    q.push(before)
        .push_bind(json_rows(&updates).unwrap_or_else(|| "[]".to_owned()))
        .push(after);
}

/// The rows of [`ROUND`] by the id of the action each updated.
fn updated_ids(rows: &[SqliteRow]) -> Result<HashMap<Uuid, &SqliteRow>> {
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id").db()?;
            let id = Uuid::parse_str(&id).map_err(|e| rows::corrupt(format_args!("id: {e}")))?;
            Ok((id, row))
        })
        .collect()
}

/// The actions of the changes in `round` that lost (were not `updated`), as they are
/// now. Races are rare: most rounds read nothing here.
async fn lost_now(
    tx: &mut Tx,
    changes: &[ActionChange],
    round: &[usize],
    updated: &HashMap<Uuid, &SqliteRow>,
) -> Result<HashMap<Uuid, ActionRecord>> {
    let lost: Vec<Uuid> = round
        .iter()
        .map(|&i| changes[i].action.id)
        .filter(|id| !updated.contains_key(id))
        .collect();
    let found = crate::actions::by_ids_through(tx, &lost).await?;
    Ok(found.into_iter().map(|a| (a.id, a)).collect())
}

const STOP_TIMER: &str = "UPDATE jobs SET state = 'done'
  WHERE kind = 'timer' AND state <> 'done' AND subject IN (SELECT value FROM jsonb_each(?))";
const FINISH_JOB: &str =
    "UPDATE jobs SET state = 'done' WHERE id IN (SELECT value FROM jsonb_each(?))";
/// Rows `[job id, kind]`: the claimed job becomes a job of that kind, still claimed.
const CONTINUE_JOB: &str = "UPDATE jobs SET state = 'running', attempt = 1, kind = c.kind
   FROM (SELECT value ->> 0 AS id, value ->> 1 AS kind FROM jsonb_each(?)) AS c
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
        .map(|c| c.action.id.to_string())
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
