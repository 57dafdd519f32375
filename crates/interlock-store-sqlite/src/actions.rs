//! Proposals (group commit), plans, and reading actions.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use interlock_store::{
    ActionFilter, ActionRecord, AuditDraft, Inserted, NewAction, NewDelivery, NewJob, Page,
    PlanRecord, Result,
};
use interlock_store_sql::rows::Binds;
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::cards::push_card_mentions;
use crate::connectors::push_deliveries;
use crate::db::{Db, DbResult, Tx, Writes, json_rows, rows_per_statement};
use crate::jobs::push_jobs;
use crate::rows::{self, ACTION_COLUMN_COUNT, ACTION_COLUMNS, ms};
use interlock_store_sql::listing;
use interlock_store_sql::outbox::card_mentions;

pub(crate) async fn insert(db: &Db, batch: Vec<NewAction>) -> Result<Vec<Inserted>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    // Two round trips to the writer: begin with the audit heads read, then every write
    // and the commit (see `Writes`).
    let mut audit = AuditAppender::new(db);
    let drafts: Vec<&AuditDraft> = batch.iter().flat_map(|a| &a.audit).collect();
    let (mut tx, heads) = Tx::begin_with(&db.writer, |q| audit.push_head_query(q, &drafts)).await?;
    audit.preload(&heads, &drafts)?;
    let mut writes = Writes::default();
    let inserted = insert_in(&mut tx, &mut audit, &mut writes, batch).await?;
    audit.push_writes(&mut writes);
    writes.commit(tx).await?;
    Ok(inserted)
}

/// Prepares the inserts of new actions with their jobs, audit entries and deliveries
/// (reading inside `tx` what they depend on), as multi-row statements added to `writes`,
/// so a batch of thousands costs a handful of statements and one round trip.
async fn insert_in(
    tx: &mut Tx,
    audit: &mut AuditAppender,
    writes: &mut Writes,
    batch: Vec<NewAction>,
) -> Result<Vec<Inserted>> {
    let mut existing = existing_by_key(tx, &batch).await?;
    let mut results = Vec::with_capacity(batch.len());
    let mut created: Vec<ActionRecord> = Vec::with_capacity(batch.len());
    let mut jobs: Vec<NewJob> = Vec::new();
    let mut deliveries: Vec<(i64, NewDelivery)> = Vec::new();
    for item in batch {
        let action = rows::as_stored(item.action);
        if let Some(key) = &action.idempotency_key {
            let first = (action.team_id, key.clone());
            if let Some(first) = existing.get(&first) {
                results.push(Inserted::Existing(first.clone()));
                continue;
            }
            existing.insert(first, action.clone());
        }
        audit.push_all(tx, action.created_at, &item.audit).await?;
        jobs.extend(item.jobs);
        deliveries.extend(
            item.deliveries
                .into_iter()
                .map(|d| (ms(action.created_at), d)),
        );
        results.push(Inserted::Created(action.clone()));
        created.push(action);
    }
    push_actions(writes, &created);
    push_jobs(writes, &jobs);
    let deliveries: Vec<(i64, &NewDelivery)> = deliveries.iter().map(|(at, d)| (*at, d)).collect();
    push_deliveries(writes, &deliveries);
    push_card_mentions(writes, &card_mentions(&created));
    Ok(results)
}

/// Inserts every column of [`ACTION_COLUMNS`], read by position from each row.
static INSERT_ACTIONS: LazyLock<String> = LazyLock::new(|| {
    let values: Vec<String> = (0..ACTION_COLUMN_COUNT)
        .map(|i| format!("value ->> {i}"))
        .collect();
    format!(
        "INSERT INTO actions ({ACTION_COLUMNS}) SELECT {} FROM jsonb_each(?)",
        values.join(", ")
    )
});

/// New actions as one constant statement with their rows as one JSON parameter (see
/// [`Writes::rows`]): a multi-row `VALUES` list was parsed again for every batch size.
fn push_actions(writes: &mut Writes, actions: &[ActionRecord]) {
    let rows: Vec<JsonRow> = actions
        .iter()
        .map(|a| {
            let mut row = JsonRow::default();
            rows::push_action(&mut row, a);
            row
        })
        .collect();
    writes.rows(INSERT_ACTIONS.as_str(), json_rows(&rows));
}

/// One row's columns in order, as a JSON array (text, integers, NULL).
#[derive(Debug, Default, serde::Serialize)]
struct JsonRow(Vec<Value>);

impl Binds for &mut JsonRow {
    fn text(&mut self, v: Option<String>) -> &mut Self {
        self.0.push(v.map_or(Value::Null, Value::String));
        self
    }

    fn int(&mut self, v: Option<i64>) -> &mut Self {
        self.0.push(v.map_or(Value::Null, Value::from));
        self
    }
}

/// The team's actions already holding any of the batch's idempotency keys.
async fn existing_by_key(
    tx: &mut Tx,
    batch: &[NewAction],
) -> Result<HashMap<(Uuid, String), ActionRecord>> {
    let mut by_team: HashMap<Uuid, HashSet<&str>> = HashMap::new();
    for item in batch {
        if let Some(key) = &item.action.idempotency_key {
            by_team.entry(item.action.team_id).or_default().insert(key);
        }
    }
    let mut found = HashMap::new();
    for (team, keys) in by_team {
        let keys: Vec<&str> = keys.into_iter().collect();
        for chunk in keys.chunks(rows_per_statement(1)) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM actions WHERE team_id = ");
            q.push_bind(team.to_string())
                .push(" AND idempotency_key IN (");
            let mut s = q.separated(", ");
            for k in chunk {
                s.push_bind(k.to_string());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut **tx).await.db()? {
                let a = rows::action(&row)?;
                if let Some(key) = a.idempotency_key.clone() {
                    found.insert((team, key), a);
                }
            }
        }
    }
    Ok(found)
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
         VALUES (?, ?, ?, ?, ?, ?, ?)",
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
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, plan.created_at, &audit).await?;
    let mut writes = Writes::default();
    if let Some(card) = &plan.card_id {
        push_card_mentions(
            &mut writes,
            &[(plan.team_id, card.clone(), ms(plan.created_at))],
        );
    }
    let steps = insert_in(&mut tx, &mut appender, &mut writes, steps).await?;
    appender.push_writes(&mut writes);
    writes.run(&mut tx).await?;
    tx.commit().await.db()?;
    let steps = steps
        .into_iter()
        .map(|s| match s {
            Inserted::Created(a) | Inserted::Existing(a) => a,
        })
        .collect();
    Ok((plan, steps))
}

pub(crate) async fn plan(db: &Db, id: Uuid) -> Result<Option<PlanRecord>> {
    let row = sqlx::query("SELECT * FROM plans WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::plan).transpose()
}

pub(crate) async fn plan_actions(db: &Db, plan_id: Uuid) -> Result<Vec<ActionRecord>> {
    let rows = sqlx::query("SELECT * FROM actions WHERE plan_id = ? ORDER BY plan_step, id")
        .bind(plan_id.to_string())
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::action).collect()
}

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<ActionRecord>> {
    let row = sqlx::query("SELECT * FROM actions WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::action).transpose()
}

pub(crate) async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<ActionRecord>> {
    by_ids_through(&mut *db.read().await?, ids).await
}

/// The actions with these ids, read through `conn` (inside a transaction, say).
pub(crate) async fn by_ids_through(
    conn: &mut SqliteConnection,
    ids: &[Uuid],
) -> Result<Vec<ActionRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let found = sqlx::query("SELECT * FROM actions WHERE id IN (SELECT value FROM json_each(?))")
        .bind(serde_json::to_string(&ids).unwrap_or_default())
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
    let row = sqlx::query("SELECT * FROM actions WHERE team_id = ? AND idempotency_key = ?")
        .bind(team_id.to_string())
        .bind(key)
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::action).transpose()
}

/// Newest first by id (UUIDv7 ids are time-ordered); the cursor is the last id shown.
pub(crate) async fn list(
    db: &Db,
    f: &ActionFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<ActionRecord>> {
    let Some(mut q) = listing::actions_query::<Sqlite>(f, cursor, limit) else {
        return Ok(listing::empty());
    };
    let rows = q.build().fetch_all(&mut *db.read().await?).await.db()?;
    let items = rows.iter().map(rows::action).collect::<Result<Vec<_>>>()?;
    Ok(listing::page(items, limit, |a| a.id.to_string()))
}
