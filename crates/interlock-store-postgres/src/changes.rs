//! Changes to existing actions besides transitions (see `transitions`): reminders and
//! failed attempts.

use interlock_store::{AttemptFailed, ReminderSent, Result, StoreError};

use crate::audit::append_in;
use crate::connectors::insert_deliveries;
use crate::db::{Db, DbResult, Tx};
use crate::rows::{self, ms};

/// Puts a job back to ready at `run_at` (or ends it), whoever held it.
async fn move_job(tx: &mut Tx, job: i64, run_at: Option<i64>) -> Result<()> {
    let sql = match run_at {
        Some(_) => {
            "UPDATE jobs SET state = 'ready', run_at = $2, claimed_by = NULL, lease_until = NULL WHERE id = $1"
        }
        None => "UPDATE jobs SET state = 'done' WHERE id = $1",
    };
    let mut q = sqlx::query(sql).bind(job);
    if let Some(at) = run_at {
        q = q.bind(at);
    }
    q.execute(&mut **tx).await.db()?;
    Ok(())
}

pub(crate) async fn reminder(db: &Db, r: ReminderSent) -> Result<bool> {
    let at = rows::to_millis(r.at);
    let mut tx = db.begin().await?;
    let recorded =
        sqlx::query("UPDATE actions SET last_reminder_at = $1 WHERE id = $2 AND status = 'armed'")
            .bind(ms(r.reminder.at))
            .bind(r.action_id.to_string())
            .execute(&mut *tx)
            .await
            .db()?;
    if recorded.rows_affected() == 0 {
        // Held, approved, rejected or withdrawn meanwhile: reminders stop with `armed`.
        move_job(&mut tx, r.timer_job, None).await?;
        tx.commit().await.db()?;
        return Ok(false);
    }
    move_job(&mut tx, r.timer_job, Some(ms(r.next_run_at))).await?;
    append_in(db, &mut tx, at, std::slice::from_ref(&r.audit)).await?;
    insert_deliveries(&mut tx, &[(ms(at), &r.delivery)]).await?;
    tx.commit().await.db()?;
    Ok(true)
}

pub(crate) async fn attempt_failed(db: &Db, f: AttemptFailed) -> Result<()> {
    let at = rows::to_millis(f.at);
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE actions SET attempts = $1, last_error = $2, updated_at = $3 WHERE id = $4",
    )
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
    move_job(&mut tx, f.job_id, Some(ms(f.retry_at))).await?;
    append_in(db, &mut tx, at, std::slice::from_ref(&f.audit)).await?;
    tx.commit().await.db()
}
