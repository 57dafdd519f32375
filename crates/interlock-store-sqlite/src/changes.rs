//! Changes to existing actions: transitions (one conditional update, so of two racing
//! changes exactly one wins), reminders and failed attempts.

use interlock_store::{
    ActionChange, ActionRecord, AttemptFailed, ReminderSent, Result, StoreError,
};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::connectors::insert_deliveries;
use crate::db::{Db, DbResult, Tx};
use crate::jobs::insert_jobs;
use crate::rows::{self, int, ms};

pub(crate) async fn apply(db: &Db, change: ActionChange) -> Result<ActionRecord> {
    let t = change.transition;
    let at = rows::to_millis(change.at);
    let id = change.action_id.to_string();
    let u = &change.update;

    let mut q = QueryBuilder::<Sqlite>::new("UPDATE actions SET status = ");
    q.push_bind(t.to.as_str());
    q.push(", version = ").push_bind(int(t.to_version));
    q.push(", updated_at = ").push_bind(ms(at));
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
    q.push(" WHERE id = ").push_bind(id.clone());
    q.push(" AND status = ").push_bind(t.from.as_str());
    q.push(" AND version = ").push_bind(int(t.from_version));
    q.push(" RETURNING *");

    let mut tx = db.begin().await?;
    let Some(row) = q.build().fetch_optional(&mut *tx).await.db()? else {
        // Lost the race (or never existed): report the action as it is now and write
        // nothing; dropping the transaction rolls it back.
        let current = current(&mut tx, change.action_id).await?;
        return Err(match current {
            Some(a) => StoreError::Conflict(Box::new(a)),
            None => StoreError::NotFound("action"),
        });
    };
    let updated = rows::action(&row)?;

    // End the old timer before scheduling, so a timer this change schedules survives.
    if change.stop_timer {
        sqlx::query("UPDATE jobs SET state = 'done' WHERE subject = ? AND kind = 'timer' AND state <> 'done'")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    if let Some(job) = change.finish_job {
        end_job(&mut tx, job).await?;
    }
    insert_jobs(&mut tx, &change.jobs).await?;
    let mut audit = AuditAppender::new(db);
    audit.push_all(&mut tx, at, &change.audit).await?;
    audit.write(&mut tx).await?;
    let deliveries: Vec<_> = change.deliveries.into_iter().map(|d| (ms(at), d)).collect();
    insert_deliveries(&mut tx, &deliveries).await?;
    tx.commit().await.db()?;
    Ok(updated)
}

async fn current(tx: &mut Tx, id: Uuid) -> Result<Option<ActionRecord>> {
    let row = sqlx::query("SELECT * FROM actions WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    row.as_ref().map(rows::action).transpose()
}

async fn end_job(tx: &mut Tx, job: i64) -> Result<()> {
    sqlx::query("UPDATE jobs SET state = 'done' WHERE id = ?")
        .bind(job)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn reminder(db: &Db, r: ReminderSent) -> Result<bool> {
    let at = rows::to_millis(r.at);
    let mut tx = db.begin().await?;
    let recorded =
        sqlx::query("UPDATE actions SET last_reminder_at = ? WHERE id = ? AND status = 'armed'")
            .bind(ms(r.reminder.at))
            .bind(r.action_id.to_string())
            .execute(&mut *tx)
            .await
            .db()?;
    if recorded.rows_affected() == 0 {
        // Held, approved, rejected or withdrawn meanwhile: reminders stop with `armed`.
        end_job(&mut tx, r.timer_job).await?;
        tx.commit().await.db()?;
        return Ok(false);
    }
    sqlx::query(
        "UPDATE jobs SET state = 'ready', run_at = ?, claimed_by = NULL, lease_until = NULL WHERE id = ?",
    )
    .bind(ms(r.next_run_at))
    .bind(r.timer_job)
    .execute(&mut *tx)
    .await
    .db()?;
    let mut audit = AuditAppender::new(db);
    audit.push(&mut tx, at, &r.audit).await?;
    audit.write(&mut tx).await?;
    insert_deliveries(&mut tx, &[(ms(at), r.delivery)]).await?;
    tx.commit().await.db()?;
    Ok(true)
}

pub(crate) async fn attempt_failed(db: &Db, f: AttemptFailed) -> Result<()> {
    let at = rows::to_millis(f.at);
    let mut tx = db.begin().await?;
    let updated =
        sqlx::query("UPDATE actions SET attempts = ?, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(i64::from(f.attempts))
            .bind(&f.error)
            .bind(ms(at))
            .bind(f.action_id.to_string())
            .execute(&mut *tx)
            .await
            .db()?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound("action"));
    }
    sqlx::query(
        "UPDATE jobs SET state = 'ready', run_at = ?, claimed_by = NULL, lease_until = NULL WHERE id = ?",
    )
    .bind(ms(f.retry_at))
    .bind(f.job_id)
    .execute(&mut *tx)
    .await
    .db()?;
    let mut audit = AuditAppender::new(db);
    audit.push(&mut tx, at, &f.audit).await?;
    audit.write(&mut tx).await?;
    tx.commit().await.db()
}
