//! Changes to existing actions besides transitions (see `transitions`): reminders and
//! failed attempts.

use interlock_store::{AttemptFailed, ReminderSent, Result, StoreError};

use crate::audit::AuditAppender;
use crate::connectors::insert_deliveries;
use crate::db::{Db, DbResult, Tx};
use crate::rows::{self, ms};

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
    insert_deliveries(&mut tx, &[(ms(at), &r.delivery)]).await?;
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
