//! Durable jobs, claimed with leases. Only the worker holding a running job may finish
//! or reschedule it; a rescued job (its lease ran out) belongs to nobody until claimed.

use chrono::{DateTime, Utc};
use interlock_store::{Job, NewJob, Result};

use crate::db::{Db, DbResult, Tx, Writes, json_rows};
use crate::rows::{self, ms};

pub(crate) async fn insert_jobs(tx: &mut Tx, jobs: &[NewJob]) -> Result<()> {
    let mut w = Writes::default();
    push_jobs(&mut w, jobs);
    w.run(tx).await
}

/// A new job as [`INSERT_JOBS`] reads it.
#[derive(serde::Serialize)]
struct JobRow<'a> {
    kind: &'a str,
    subject: String,
    run_at: i64,
}

const INSERT_JOBS: &str = "INSERT INTO jobs (kind, subject, run_at)
     SELECT value ->> 'kind', value ->> 'subject', value ->> 'run_at' FROM jsonb_each(?)";

pub(crate) fn push_jobs(w: &mut Writes, jobs: &[NewJob]) {
    let rows: Vec<JobRow> = jobs
        .iter()
        .map(|j| JobRow {
            kind: j.kind.as_str(),
            subject: j.subject.to_string(),
            run_at: ms(j.run_at),
        })
        .collect();
    w.rows(INSERT_JOBS, json_rows(&rows));
}

pub(crate) async fn enqueue(db: &Db, jobs: Vec<NewJob>) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    insert_jobs(&mut tx, &jobs).await?;
    tx.commit().await.db()
}

/// One statement on the single writer, so two claimers can never take the same row.
pub(crate) async fn claim(
    db: &Db,
    due_by: DateTime<Utc>,
    worker: &str,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Job>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "UPDATE jobs SET state = 'running', claimed_by = ?, lease_until = ?, attempt = attempt + 1
          WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND run_at <= ?
                        ORDER BY run_at, id LIMIT ?)
         RETURNING *",
    )
    .bind(worker)
    .bind(ms(lease_until))
    .bind(ms(due_by))
    .bind(i64::from(limit))
    .fetch_all(&mut *db.write().await?)
    .await
    .db()?;
    let mut jobs = rows.iter().map(rows::job).collect::<Result<Vec<_>>>()?;
    // RETURNING gives no order; hand them out oldest first.
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

pub(crate) async fn finish(db: &Db, id: i64, worker: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'done' WHERE id = ? AND state = 'running' AND claimed_by = ?",
    )
    .bind(id)
    .bind(worker)
    .execute(&mut *db.write().await?)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn reschedule(
    db: &Db,
    id: i64,
    worker: &str,
    run_at: DateTime<Utc>,
) -> Result<bool> {
    let moved = sqlx::query(
        "UPDATE jobs SET state = 'ready', run_at = ?, claimed_by = NULL, lease_until = NULL
          WHERE id = ? AND state = 'running' AND claimed_by = ?",
    )
    .bind(ms(run_at))
    .bind(id)
    .bind(worker)
    .execute(&mut *db.write().await?)
    .await
    .db()?;
    Ok(moved.rows_affected() == 1)
}

pub(crate) async fn rescue(db: &Db, real_now: DateTime<Utc>) -> Result<u64> {
    let rescued = sqlx::query(
        "UPDATE jobs SET state = 'ready', claimed_by = NULL, lease_until = NULL
          WHERE state = 'running' AND lease_until < ?",
    )
    .bind(ms(real_now))
    .execute(&mut *db.write().await?)
    .await
    .db()?;
    Ok(rescued.rows_affected())
}

pub(crate) async fn release_claims_of(db: &Db, worker: &str) -> Result<u64> {
    let released = sqlx::query(
        "UPDATE jobs SET state = 'ready', claimed_by = NULL, lease_until = NULL
          WHERE state = 'running' AND claimed_by = ?",
    )
    .bind(worker)
    .execute(&mut *db.write().await?)
    .await
    .db()?;
    Ok(released.rows_affected())
}

pub(crate) async fn next_due(db: &Db) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'ready'")
        .fetch_one(&mut *db.read().await?)
        .await
        .db()?;
    Ok(at.and_then(DateTime::from_timestamp_millis))
}
