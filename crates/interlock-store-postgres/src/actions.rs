//! Proposals (group commit), plans, and reading actions.
//!
//! A batch of proposals is one transaction: the actions go in with multi-row inserts
//! that skip any idempotency key already taken (`ON CONFLICT DO NOTHING`, so two nodes
//! given the same key at once cannot both create an action), and only the actions that
//! were created get their jobs, deliveries and audit entries.

use std::collections::{HashMap, HashSet};

use interlock_store::{
    ActionFilter, ActionRecord, AuditDraft, Inserted, NewAction, NewDelivery, NewJob, Page,
    PlanRecord, Result,
};
use interlock_store_sql::listing;
use interlock_store_sql::outbox::card_mentions;
use sqlx::{Postgres, Row};
use uuid::Uuid;

use crate::audit::Appender;
use crate::cards::insert_mentions;
use crate::columns::Columns;
use crate::connectors::insert_deliveries;
use crate::db::{Db, DbResult, Tx};
use crate::jobs::insert_jobs;
use crate::rows::{self, ACTION_COLUMNS, ms};

pub(crate) async fn insert(db: &Db, batch: Vec<NewAction>) -> Result<Vec<Inserted>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    let inserted = insert_in(db, &mut tx, batch, &[]).await?;
    tx.commit().await.db()?;
    Ok(inserted)
}

/// Inserts new actions with their jobs, audit entries (after `first_audit`, appended
/// at its own time by the caller's draft) and deliveries, inside `tx`.
async fn insert_in(
    db: &Db,
    tx: &mut Tx,
    batch: Vec<NewAction>,
    first_audit: &[(chrono::DateTime<chrono::Utc>, &AuditDraft)],
) -> Result<Vec<Inserted>> {
    // Settle repeats within the batch first: the first action with a key stands for the
    // rest.
    let mut first_with_key: HashMap<(Uuid, String), usize> = HashMap::new();
    // Per proposal: its action among `fresh`, and whether it only repeats that one's key.
    let mut slots: Vec<(usize, bool)> = Vec::with_capacity(batch.len());
    let mut fresh: Vec<NewAction> = Vec::with_capacity(batch.len());
    for mut item in batch {
        item.action = rows::as_stored(item.action);
        let key = item
            .action
            .idempotency_key
            .clone()
            .map(|k| (item.action.team_id, k));
        match key.as_ref().and_then(|k| first_with_key.get(k)) {
            Some(&first) => slots.push((first, true)),
            None => {
                if let Some(k) = key {
                    first_with_key.insert(k, fresh.len());
                }
                slots.push((fresh.len(), false));
                fresh.push(item);
            }
        }
    }
    let created = insert_actions(tx, &fresh).await?;
    let taken = existing_by_key(tx, &fresh, &created).await?;

    let mut outcome: Vec<Inserted> = Vec::with_capacity(fresh.len());
    let mut jobs: Vec<NewJob> = Vec::new();
    let mut deliveries: Vec<(i64, NewDelivery)> = Vec::new();
    let mut audited: Vec<(chrono::DateTime<chrono::Utc>, Vec<AuditDraft>)> = Vec::new();
    for item in fresh {
        let a = item.action;
        if created.contains(&a.id) {
            audited.push((a.created_at, item.audit));
            jobs.extend(item.jobs);
            deliveries.extend(item.deliveries.into_iter().map(|d| (ms(a.created_at), d)));
            outcome.push(Inserted::Created(a));
        } else {
            let key = (a.team_id, a.idempotency_key.clone().unwrap_or_default());
            match taken.get(&key) {
                Some(first) => outcome.push(Inserted::Existing(first.clone())),
                None => {
                    return Err(interlock_store::StoreError::Backend(format!(
                        "action {} was neither created nor found by its idempotency key",
                        a.id
                    )));
                }
            }
        }
    }
    insert_jobs(tx, &jobs).await?;
    let deliveries: Vec<(i64, &NewDelivery)> = deliveries.iter().map(|(at, d)| (*at, d)).collect();
    insert_deliveries(tx, &deliveries).await?;

    // The audit chains are locked last: until here this transaction only wrote rows of
    // its own, so the node's transition batches, which append to the same chains, are
    // held up only for the lock, the entries and the commit, not for these rows.
    let drafts: Vec<&AuditDraft> = first_audit
        .iter()
        .map(|(_, d)| *d)
        .chain(audited.iter().flat_map(|(_, a)| a))
        .collect();
    let mut audit = Appender::lock(db, tx, &drafts).await?;
    for (at, d) in first_audit {
        audit.push(*at, d);
    }
    for (at, drafts) in &audited {
        audit.push_all(*at, drafts);
    }
    // After the chain lock, like every other writer of cards (a connector updates a card
    // while its change holds the chain): the other order could deadlock.
    let created_actions = outcome.iter().filter_map(|o| match o {
        Inserted::Created(a) => Some(a),
        Inserted::Existing(_) => None,
    });
    insert_mentions(tx, &card_mentions(created_actions)).await?;
    audit.write(tx).await?;
    Ok(slots
        .into_iter()
        .map(|(i, repeat)| match &outcome[i] {
            Inserted::Created(a) if repeat => Inserted::Existing(a.clone()),
            o => o.clone(),
        })
        .collect())
}

/// Inserts the actions whose idempotency key is free; returns the ids inserted.
async fn insert_actions(tx: &mut Tx, actions: &[NewAction]) -> Result<HashSet<Uuid>> {
    if actions.is_empty() {
        return Ok(HashSet::new());
    }
    let mut columns = Columns::default();
    for a in actions {
        rows::push_action(columns.row(), &a.action);
    }
    // The same text for every batch: built from constants and the columns' types.
    let text = format!(
        "INSERT INTO actions ({ACTION_COLUMNS}) SELECT * FROM {} \
         ON CONFLICT (team_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
         DO NOTHING RETURNING id",
        columns.unnest()
    );
    let created = columns
        .bind(sqlx::query(sqlx::AssertSqlSafe(text)))
        .fetch_all(&mut **tx)
        .await
        .db()?;
    created
        .iter()
        .map(|row| rows::parse_uuid("id", &row.try_get::<String, _>(0).db()?))
        .collect()
}

/// The actions already holding the keys of the proposals that were not created.
async fn existing_by_key(
    tx: &mut Tx,
    proposals: &[NewAction],
    created: &HashSet<Uuid>,
) -> Result<HashMap<(Uuid, String), ActionRecord>> {
    let (teams, keys): (Vec<String>, Vec<String>) = proposals
        .iter()
        .map(|p| &p.action)
        .filter(|a| !created.contains(&a.id))
        .filter_map(|a| Some((a.team_id.to_string(), a.idempotency_key.clone()?)))
        .unzip();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let found = sqlx::query(
        "SELECT a.* FROM actions a JOIN unnest($1::text[], $2::text[]) AS k(team_id, key)
             ON a.team_id = k.team_id AND a.idempotency_key = k.key",
    )
    .bind(&teams)
    .bind(&keys)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let mut by_key = HashMap::with_capacity(found.len());
    for row in &found {
        let a = rows::action(row)?;
        if let Some(key) = a.idempotency_key.clone() {
            by_key.insert((a.team_id, key), a);
        }
    }
    Ok(by_key)
}

pub(crate) async fn insert_plan(
    db: &Db,
    plan: PlanRecord,
    steps: Vec<NewAction>,
    audit: AuditDraft,
) -> Result<(PlanRecord, Vec<ActionRecord>)> {
    let plan = PlanRecord {
        created_at: rows::to_millis(plan.created_at),
        ..plan
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO plans (id, team_id, card_id, summary, proposed_by_kind, proposed_by_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(plan.id.to_string())
    .bind(plan.team_id.to_string())
    .bind(&plan.card_id)
    .bind(&plan.summary)
    .bind(plan.proposed_by.kind.as_str())
    .bind(&plan.proposed_by.id)
    .bind(ms(plan.created_at))
    .execute(&mut *tx)
    .await
    .db()?;
    let steps = insert_in(db, &mut tx, steps, &[(plan.created_at, &audit)]).await?;
    // After the steps, which took the audit chain's lock: cards are always locked after
    // it (see `cards::work`).
    if let Some(card) = &plan.card_id {
        insert_mentions(
            &mut tx,
            &[(plan.team_id, card.clone(), ms(plan.created_at))],
        )
        .await?;
    }
    tx.commit().await.db()?;
    let steps = steps
        .into_iter()
        .map(|s| match s {
            Inserted::Created(a) | Inserted::Existing(a) => a,
        })
        .collect();
    Ok((plan, steps))
}

/// The one action (or none) a query with one bound text parameter finds.
async fn one(db: &Db, sql: &'static str, binds: &[&str]) -> Result<Option<ActionRecord>> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    let row = q.fetch_optional(&db.pool).await.db()?;
    row.as_ref().map(rows::action).transpose()
}

pub(crate) async fn plan(db: &Db, id: Uuid) -> Result<Option<PlanRecord>> {
    let row = sqlx::query("SELECT * FROM plans WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.as_ref().map(rows::plan).transpose()
}

pub(crate) async fn plan_actions(db: &Db, plan_id: Uuid) -> Result<Vec<ActionRecord>> {
    let found = sqlx::query("SELECT * FROM actions WHERE plan_id = $1 ORDER BY plan_step, id")
        .bind(plan_id.to_string())
        .fetch_all(&db.pool)
        .await
        .db()?;
    found.iter().map(rows::action).collect()
}

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<ActionRecord>> {
    one(
        db,
        "SELECT * FROM actions WHERE id = $1",
        &[&id.to_string()],
    )
    .await
}

pub(crate) async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<ActionRecord>> {
    by_ids_through(&db.pool, ids).await
}

/// The actions of `ids` that exist, read through `conn` (the pool, or a transaction).
pub(crate) async fn by_ids_through<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    ids: &[Uuid],
) -> Result<Vec<ActionRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let found = sqlx::query("SELECT * FROM actions WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_all(conn)
        .await
        .db()?;
    found.iter().map(rows::action).collect()
}

pub(crate) async fn by_idempotency_key(
    db: &Db,
    team_id: Uuid,
    key: &str,
) -> Result<Option<ActionRecord>> {
    let sql = "SELECT * FROM actions WHERE team_id = $1 AND idempotency_key = $2";
    one(db, sql, &[&team_id.to_string(), key]).await
}

/// Newest first by id (UUIDv7 ids are time-ordered); the cursor is the last id shown.
pub(crate) async fn list(
    db: &Db,
    f: &ActionFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<ActionRecord>> {
    let Some(mut q) = listing::actions_query::<Postgres>(f, cursor, limit) else {
        return Ok(listing::empty());
    };
    let found = q.build().fetch_all(&db.pool).await.db()?;
    let items = found.iter().map(rows::action).collect::<Result<Vec<_>>>()?;
    Ok(listing::page(items, limit, |a| a.id.to_string()))
}
