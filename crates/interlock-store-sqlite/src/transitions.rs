//! Transitions of actions, with group commit. Each is one conditional update
//! (`… WHERE id = ? AND status = ? AND version = ?`), so of two racing changes exactly
//! one wins; what it schedules, ends, notifies and audits is written in the same
//! transaction.
//!
//! Changes that arrive while one batch is being written wait and then go together in
//! the next: one transaction, one fsync and two round trips to the writer for the whole
//! batch, where each used to cost its own fsync and seven round trips. The scheduler
//! finishes dozens of executions at once, so under load this is most of the writes.
//! Within a batch the changes apply in arrival order, exactly as if one after another:
//! a change that loses to an earlier one in the same batch sees that one's result.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use interlock_store::{ActionChange, ActionRecord, AuditDraft, Result, StoreError};
use interlock_store_sql::group::{BatchWriter, GroupCommit};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite};

use crate::audit::AuditAppender;
use crate::connectors::push_deliveries;
use crate::db::{Db, DbResult, Tx, Writes};
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
    // Round trip one: begin, read the audit heads, and try every conditional update,
    // reading each action back with whether its update took.
    let (mut tx, rows) = Tx::begin_with(&db.writer, |q| {
        audit.push_head_query(q, &drafts);
        for (i, c) in changes.iter().enumerate() {
            q.push(";\n");
            push_update(q, c);
            q.push(";\nSELECT ")
                .push(i)
                .push(" AS change_index, changes() AS changed, * FROM actions WHERE id = ")
                .push_bind(c.action_id.to_string());
        }
    })
    .await?;
    let (heads, outcomes) = split_rows(rows)?;
    audit.preload(&heads, &drafts)?;

    // Round trip two: what the changes that took write besides, and the commit.
    let mut writes = Writes::default();
    let mut results = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        let result = match outcomes.get(&i) {
            Some((true, updated)) => {
                let at = rows::to_millis(change.at);
                push_consequences(&mut writes, change, at);
                audit.push_all(&mut tx, at, &change.audit).await?;
                Ok(updated.clone())
            }
            // Lost the race: report the action as it is now; nothing is written for it.
            Some((false, current)) => Err(StoreError::Conflict(Box::new(current.clone()))),
            None => Err(StoreError::NotFound("action")),
        };
        results.push(result);
    }
    audit.push_writes(&mut writes);
    writes.commit(tx).await?;
    Ok(results)
}

/// `UPDATE actions SET … WHERE id = ? AND status = ? AND version = ?`.
fn push_update(q: &mut QueryBuilder<Sqlite>, change: &ActionChange) {
    let t = &change.transition;
    let u = &change.update;
    q.push("UPDATE actions SET status = ")
        .push_bind(t.to.as_str());
    q.push(", version = ").push_bind(int(t.to_version));
    q.push(", updated_at = ")
        .push_bind(ms(rows::to_millis(change.at)));
    if let Some(p) = &u.payload {
        q.push(", payload = ").push_bind(p.to_string());
    }
    if let Some(p) = &u.original_payload {
        q.push(", original_payload = ").push_bind(p.to_string());
    }
    if let Some(by) = &u.decided_by {
        q.push(", decided_by_kind = ").push_bind(by.kind.as_str());
        q.push(", decided_by_id = ").push_bind(by.id.clone());
    }
    if let Some(r) = &u.reason {
        q.push(", reason = ").push_bind(r.clone());
    }
    if let Some(c) = &u.comment {
        q.push(", comment = ").push_bind(c.clone());
    }
    if let Some(e) = &u.last_error {
        q.push(", last_error = ").push_bind(e.clone());
    }
    if let Some(n) = u.attempts {
        q.push(", attempts = ").push_bind(i64::from(n));
    }
    if let Some(x) = u.executed_at {
        q.push(", executed_at = ").push_bind(ms(x));
    }
    q.push(" WHERE id = ")
        .push_bind(change.action_id.to_string());
    q.push(" AND status = ").push_bind(t.from.as_str());
    q.push(" AND version = ").push_bind(int(t.from_version));
}

/// The audit heads, and each change's action after its update with whether it took.
type Split = (Vec<SqliteRow>, HashMap<usize, (bool, ActionRecord)>);

fn split_rows(rows: Vec<SqliteRow>) -> Result<Split> {
    let mut heads = Vec::new();
    let mut outcomes = HashMap::new();
    for row in rows {
        if row.try_column("change_index").is_err() {
            heads.push(row);
            continue;
        }
        let i: i64 = row.try_get("change_index").db()?;
        let changed: i64 = row.try_get("changed").db()?;
        let index = usize::try_from(i).map_err(|_| StoreError::Corrupt("change index".into()))?;
        outcomes.insert(index, (changed == 1, rows::action(&row)?));
    }
    Ok((heads, outcomes))
}

/// Ends the old timer, finishes the job, schedules the new jobs and queues the
/// notifications of a change that took, in that order (a timer this change schedules
/// must survive the ending of the old one).
fn push_consequences(w: &mut Writes, change: &ActionChange, at: DateTime<Utc>) {
    if change.stop_timer {
        w.statement(
            "UPDATE jobs SET state = 'done' WHERE kind = 'timer' AND state <> 'done' AND subject = ",
        )
        .push_bind(change.action_id.to_string());
    }
    if let Some(job) = change.finish_job {
        w.statement("UPDATE jobs SET state = 'done' WHERE id = ")
            .push_bind(job);
    }
    push_jobs(w, &change.jobs);
    let deliveries: Vec<_> = change
        .deliveries
        .iter()
        .map(|d| (ms(at), d.clone()))
        .collect();
    push_deliveries(w, &deliveries);
}
