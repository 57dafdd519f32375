//! Durable jobs, claimed with leases. Claims skip rows another node is claiming at the
//! same moment (`FOR UPDATE SKIP LOCKED`), so claimers never wait for each other and
//! never take the same job; only the worker holding a running job may finish or
//! reschedule it; a job whose lease ran out is returned to ready by any node.

use chrono::{DateTime, Utc};
use interlock_store::{Job, NewJob, Result};

use crate::db::{Db, DbResult, Tx};
use crate::rows::{self, ms};

/// One statement for any number of jobs: the columns go as three arrays.
pub(crate) async fn insert_jobs(tx: &mut Tx, jobs: &[NewJob]) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
    let subjects: Vec<String> = jobs.iter().map(|j| j.subject.to_string()).collect();
    let run_at: Vec<i64> = jobs.iter().map(|j| ms(j.run_at)).collect();
    sqlx::query(
        "INSERT INTO jobs (kind, subject, run_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
    )
    .bind(&kinds)
    .bind(&subjects)
    .bind(&run_at)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn enqueue(db: &Db, jobs: Vec<NewJob>) -> Result<()> {
    let mut tx = db.begin().await?;
    insert_jobs(&mut tx, &jobs).await?;
    tx.commit().await.db()
}

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
    let found = sqlx::query(
        "UPDATE jobs SET state = 'running', claimed_by = $1, lease_until = $2, attempt = attempt + 1
          WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND run_at <= $3
                        ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING *",
    )
    .bind(worker)
    .bind(ms(lease_until))
    .bind(ms(due_by))
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .db()?;
    let mut jobs = found.iter().map(rows::job).collect::<Result<Vec<_>>>()?;
    // RETURNING gives no order; hand them out oldest first.
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// Runs one job update; returns how many rows it changed.
async fn update(
    db: &Db,
    sql: &'static str,
    bind: impl FnOnce(PgQuery<'_>) -> PgQuery<'_>,
) -> Result<u64> {
    let done = bind(sqlx::query(sql)).execute(&db.pool).await.db()?;
    Ok(done.rows_affected())
}

pub(crate) type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

pub(crate) async fn finish(db: &Db, id: i64, worker: &str) -> Result<bool> {
    let sql =
        "UPDATE jobs SET state = 'done' WHERE id = $1 AND state = 'running' AND claimed_by = $2";
    Ok(update(db, sql, |q| q.bind(id).bind(worker.to_owned())).await? == 1)
}

pub(crate) async fn reschedule(
    db: &Db,
    id: i64,
    worker: &str,
    run_at: DateTime<Utc>,
) -> Result<bool> {
    let sql = "UPDATE jobs SET state = 'ready', run_at = $1, claimed_by = NULL, lease_until = NULL
                WHERE id = $2 AND state = 'running' AND claimed_by = $3";
    let moved = update(db, sql, |q| {
        q.bind(ms(run_at)).bind(id).bind(worker.to_owned())
    })
    .await?;
    Ok(moved == 1)
}

pub(crate) async fn rescue(db: &Db, real_now: DateTime<Utc>) -> Result<u64> {
    let sql = "UPDATE jobs SET state = 'ready', claimed_by = NULL, lease_until = NULL
                WHERE state = 'running' AND lease_until < $1";
    update(db, sql, |q| q.bind(ms(real_now))).await
}

pub(crate) async fn release_claims_of(db: &Db, worker: &str) -> Result<u64> {
    let sql = "UPDATE jobs SET state = 'ready', claimed_by = NULL, lease_until = NULL
                WHERE state = 'running' AND claimed_by = $1";
    update(db, sql, |q| q.bind(worker.to_owned())).await
}

pub(crate) async fn next_due(db: &Db) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'ready'")
        .fetch_one(&db.pool)
        .await
        .db()?;
    Ok(at.and_then(DateTime::from_timestamp_millis))
}
