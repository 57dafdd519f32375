//! Transitions of actions, with group commit (see `interlock_store_sql::group`).
//!
//! A batch is one transaction. Its changes are applied in rounds, each round one
//! `UPDATE … FROM unnest(…)` that holds at most one change per action: every change is
//! a conditional update (`WHERE id = … AND status = … AND version = …`), so of racing
//! changes, here or on another node, exactly one matches. A later change to the same
//! action waits for the next round and sees the earlier one's result, as if the changes
//! ran one after another. What the winners schedule, end, notify and audit is written
//! with multi-row statements in the same transaction: a batch of hundreds of changes
//! costs a dozen round trips and one commit.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use interlock_store::{
    ActionChange, ActionRecord, AuditDraft, NewDelivery, NewJob, Result, StoreError,
};
use interlock_store_sql::group::{BatchWriter, GroupCommit};
use sqlx::Row as _;
use uuid::Uuid;

use crate::audit::Appender;
use crate::connectors::insert_deliveries;
use crate::db::{Db, DbResult, Tx};
use crate::jobs::insert_jobs;
use crate::rows::{self, int, ms};

/// The most changes written in one transaction; more wait for the next.
const MAX_BATCH: usize = 512;

pub(crate) type ChangeQueue = GroupCommit<ActionChange, ActionRecord>;

/// Batches written at once by one node (see `interlock_store_sql::group`).
const LANES: usize = 3;

pub(crate) fn queue() -> ChangeQueue {
    GroupCommit::with_lanes(MAX_BATCH, LANES)
}

pub(crate) async fn apply(db: &Db, change: ActionChange) -> Result<ActionRecord> {
    db.changes.apply(db, change).await
}

impl BatchWriter<ActionChange, ActionRecord> for Db {
    async fn write(&self, batch: &[ActionChange]) -> Result<Vec<Result<ActionRecord>>> {
        let mut tx = self.begin().await?;
        let results = apply_batch(self, &mut tx, batch).await?;
        tx.commit().await.db()?;
        Ok(results)
    }
}

async fn apply_batch(
    db: &Db,
    tx: &mut Tx,
    changes: &[ActionChange],
) -> Result<Vec<Result<ActionRecord>>> {
    let mut audited: Vec<(DateTime<Utc>, &AuditDraft)> = Vec::new();
    let mut results: Vec<Option<Result<ActionRecord>>> = changes.iter().map(|_| None).collect();
    let mut todo: Vec<usize> = (0..changes.len()).collect();
    while !todo.is_empty() {
        // This round: the first waiting change of each action; the rest wait.
        let mut seen = HashSet::new();
        let (mut round, later): (Vec<usize>, Vec<usize>) = todo
            .into_iter()
            .partition(|&i| seen.insert(changes[i].action.id));
        todo = later;
        // Rows locked in id order, as in every batch: two batches written side by side
        // (lanes, or nodes) that change the same actions wait rather than deadlock.
        round.sort_by_key(|&i| changes[i].action.id);
        let won = update_round(tx, changes, &round).await?;
        // Races are rare: most rounds read nothing here.
        let lost: Vec<Uuid> = round
            .iter()
            .filter(|i| !won.contains_key(i))
            .map(|&i| changes[i].action.id)
            .collect();
        let current = read_actions(tx, &lost).await?;
        let mut winners = Vec::with_capacity(won.len());
        for &i in &round {
            let c = &changes[i];
            results[i] = Some(match won.get(&i) {
                Some(updated) => {
                    let at = rows::to_millis(c.at);
                    audited.extend(c.audit.iter().map(|d| (at, d)));
                    winners.push(c);
                    Ok(updated.clone())
                }
                // Lost the race: report the action as it is now; nothing is written for it.
                None => match current.get(&c.action.id) {
                    Some(a) => Err(StoreError::Conflict(Box::new(a.clone()))),
                    None => Err(StoreError::NotFound("action")),
                },
            });
        }
        write_consequences(tx, &winners).await?;
    }
    // The audit chain last: its lock is held from here to the commit, so batches
    // written side by side do everything else at the same time.
    let drafts: Vec<&AuditDraft> = audited.iter().map(|(_, d)| *d).collect();
    let mut audit = Appender::lock(db, tx, &drafts).await?;
    for (at, d) in audited {
        audit.push(at, d);
    }
    audit.write(tx).await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(StoreError::NotFound("action"))))
        .collect())
}

/// One conditional update for the changes `round` names (at most one per action);
/// returns the actions updated, by change index. The update returns only what may have
/// moved without a new version ([`rows::WRITTEN_COLUMNS`]); the rest is the change's
/// own record, changed.
async fn update_round(
    tx: &mut Tx,
    changes: &[ActionChange],
    round: &[usize],
) -> Result<HashMap<usize, ActionRecord>> {
    let pick = |f: &dyn Fn(&ActionChange) -> Option<String>| -> Vec<Option<String>> {
        round.iter().map(|&i| f(&changes[i])).collect()
    };
    let num = |f: &dyn Fn(&ActionChange) -> Option<i64>| -> Vec<Option<i64>> {
        round.iter().map(|&i| f(&changes[i])).collect()
    };
    let index: Vec<i64> = round.iter().map(|&i| i as i64).collect();
    let found = sqlx::query(
        "UPDATE actions a SET status = c.to_status, version = c.to_version, updated_at = c.at,
                payload = COALESCE(c.payload, a.payload),
                original_payload = COALESCE(c.original_payload, a.original_payload),
                decided_by_kind = COALESCE(c.decided_by_kind, a.decided_by_kind),
                decided_by_id = COALESCE(c.decided_by_id, a.decided_by_id),
                reason = COALESCE(c.reason, a.reason),
                comment = COALESCE(c.comment, a.comment),
                last_error = COALESCE(c.last_error, a.last_error),
                attempts = COALESCE(c.attempts, a.attempts),
                executed_at = COALESCE(c.executed_at, a.executed_at)
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[],
                       $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                       $13::text[], $14::text[], $15::bigint[], $16::bigint[])
             AS c(idx, id, from_status, from_version, to_status, to_version, at, payload,
                  original_payload, decided_by_kind, decided_by_id, reason, comment, last_error,
                  attempts, executed_at)
          WHERE a.id = c.id AND a.status = c.from_status AND a.version = c.from_version
         RETURNING c.idx AS change_index, a.attempts, a.last_error, a.last_reminder_at",
    )
    .bind(&index)
    .bind(pick(&|c| Some(c.action.id.to_string())))
    .bind(pick(&|c| Some(c.transition.from.as_str().to_owned())))
    .bind(num(&|c| Some(int(c.transition.from_version))))
    .bind(pick(&|c| Some(c.transition.to.as_str().to_owned())))
    .bind(num(&|c| Some(int(c.transition.to_version))))
    .bind(num(&|c| Some(ms(c.at))))
    .bind(pick(&|c| c.update.payload.as_ref().map(|p| p.to_string())))
    .bind(pick(&|c| {
        c.update.original_payload.as_ref().map(|p| p.to_string())
    }))
    .bind(pick(&|c| {
        c.update
            .decided_by
            .as_ref()
            .map(|d| d.kind.as_str().to_owned())
    }))
    .bind(pick(&|c| {
        c.update.decided_by.as_ref().map(|d| d.id.clone())
    }))
    .bind(pick(&|c| c.update.reason.clone()))
    .bind(pick(&|c| c.update.comment.clone()))
    .bind(pick(&|c| c.update.last_error.clone()))
    .bind(num(&|c| c.update.attempts.map(i64::from)))
    .bind(num(&|c| c.update.executed_at.map(ms)))
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let mut won = HashMap::with_capacity(found.len());
    for row in &found {
        let i: i64 = row.try_get("change_index").db()?;
        let i = usize::try_from(i).map_err(|_| StoreError::Corrupt("change index".into()))?;
        let change = changes
            .get(i)
            .ok_or_else(|| StoreError::Corrupt("change index".into()))?;
        won.insert(i, rows::written(change, row)?);
    }
    Ok(won)
}

async fn read_actions(tx: &mut Tx, ids: &[Uuid]) -> Result<HashMap<Uuid, ActionRecord>> {
    let found = crate::actions::by_ids_through(&mut **tx, ids).await?;
    Ok(found.into_iter().map(|a| (a.id, a)).collect())
}

/// Ends the old timers, finishes (or hands on) the jobs, schedules the new jobs and
/// queues the notifications of the changes that took, in that order (a timer a change
/// schedules must survive the ending of the old one). A round holds one change per action, so
/// doing each step for the whole round keeps every action's order.
async fn write_consequences(tx: &mut Tx, winners: &[&ActionChange]) -> Result<()> {
    let stop: Vec<String> = winners
        .iter()
        .filter(|c| c.stop_timer)
        .map(|c| c.action.id.to_string())
        .collect();
    if !stop.is_empty() {
        sqlx::query(
            "UPDATE jobs SET state = 'done'
              WHERE kind = 'timer' AND state <> 'done' AND subject = ANY($1)",
        )
        .bind(&stop)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    let finish: Vec<i64> = winners
        .iter()
        .filter(|c| c.continue_as.is_none())
        .filter_map(|c| c.finish_job)
        .collect();
    if !finish.is_empty() {
        sqlx::query("UPDATE jobs SET state = 'done' WHERE id = ANY($1)")
            .bind(&finish)
            .execute(&mut **tx)
            .await
            .db()?;
    }
    let (continued, kinds): (Vec<i64>, Vec<&str>) = winners
        .iter()
        .filter_map(|c| Some((c.finish_job?, c.continue_as?.as_str())))
        .unzip();
    if !continued.is_empty() {
        sqlx::query(
            "UPDATE jobs SET state = 'running', attempt = 1, kind = c.kind
               FROM unnest($1::bigint[], $2::text[]) AS c (id, kind)
              WHERE jobs.id = c.id",
        )
        .bind(&continued)
        .bind(&kinds)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    let jobs: Vec<NewJob> = winners
        .iter()
        .flat_map(|c| c.jobs.iter().cloned())
        .collect();
    insert_jobs(tx, &jobs).await?;
    let deliveries: Vec<(i64, &NewDelivery)> = winners
        .iter()
        .flat_map(|c| {
            let at = ms(rows::to_millis(c.at));
            c.deliveries.iter().map(move |d| (at, d))
        })
        .collect();
    insert_deliveries(tx, &deliveries).await
}
