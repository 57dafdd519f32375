//! Cards: opened when an action or plan names them, noted on, escalated.

use interlock_store::{Card, CardNote, CardWork, PlanRecord, Result, StoreError};
use interlock_store_sql::listing::{page_limit, push_team_scope};
use interlock_store_sql::outbox::{CardMention, priority_after};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::audit::Appender;
use crate::db::{Db, DbResult, Tx};
use crate::rows::{self, ms};

/// Opens the cards that new actions or plans name; a card that exists only moves up the
/// "recently changed" order. `mentions` holds each card once (see `card_mentions`).
pub(crate) async fn insert_mentions(tx: &mut Tx, mentions: &[CardMention]) -> Result<()> {
    if mentions.is_empty() {
        return Ok(());
    }
    let teams: Vec<String> = mentions.iter().map(|(t, _, _)| t.to_string()).collect();
    let cards: Vec<&str> = mentions.iter().map(|(_, c, _)| c.as_str()).collect();
    let at: Vec<i64> = mentions.iter().map(|(_, _, at)| *at).collect();
    sqlx::query(
        "INSERT INTO cards (team_id, id, created_at, updated_at)
         SELECT t, c, a, a FROM unnest($1::text[], $2::text[], $3::bigint[]) AS m(t, c, a)
         ON CONFLICT (team_id, id) DO UPDATE
             SET updated_at = GREATEST(cards.updated_at, excluded.updated_at)",
    )
    .bind(&teams)
    .bind(&cards)
    .bind(&at)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// The card, locked until `tx` ends so concurrent work on it takes turns.
async fn fetch_locked(tx: &mut Tx, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
    let row = sqlx::query("SELECT * FROM cards WHERE team_id = $1 AND id = $2 FOR UPDATE")
        .bind(team_id.to_string())
        .bind(card_id)
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    row.as_ref().map(rows::card).transpose()
}

pub(crate) async fn work(db: &Db, w: CardWork) -> Result<Card> {
    let at = rows::to_millis(w.at);
    let mut tx = db.begin().await?;
    // The audit chain's lock first, as proposals take it before the cards they name:
    // the same order everywhere, so the two never wait for each other in a circle.
    let mut audit = Appender::lock(db, &mut tx, &[&w.audit]).await?;
    let before = fetch_locked(&mut tx, w.team_id, &w.card_id).await?;
    let (priority, mut changed) = priority_after(before.as_ref(), w.raise_to);
    if let Some(text) = &w.note {
        let added = sqlx::query(
            "INSERT INTO card_notes (team_id, card_id, text, author_kind, author_id, action_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (action_id) DO NOTHING",
        )
        .bind(w.team_id.to_string())
        .bind(&w.card_id)
        .bind(text)
        .bind(w.author.kind.as_str())
        .bind(&w.author.id)
        .bind(w.action_id.map(|a| a.to_string()))
        .bind(ms(at))
        .execute(&mut *tx)
        .await
        .db()?;
        changed |= added.rows_affected() == 1;
    }
    if !changed {
        // Repeated work (a retried execution): nothing to write, nothing to audit.
        tx.commit().await.db()?;
        return before.ok_or(StoreError::NotFound("card"));
    }
    let row = sqlx::query(
        "INSERT INTO cards (team_id, id, priority, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (team_id, id) DO UPDATE
             SET priority = excluded.priority, updated_at = excluded.updated_at
         RETURNING *",
    )
    .bind(w.team_id.to_string())
    .bind(&w.card_id)
    .bind(priority.as_str())
    .bind(ms(at))
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let card = rows::card(&row)?;
    audit.push(at, &w.audit);
    audit.write(&mut tx).await?;
    tx.commit().await.db()?;
    Ok(card)
}

pub(crate) async fn card(db: &Db, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
    let row = sqlx::query("SELECT * FROM cards WHERE team_id = $1 AND id = $2")
        .bind(team_id.to_string())
        .bind(card_id)
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.as_ref().map(rows::card).transpose()
}

pub(crate) async fn notes(db: &Db, team_id: Uuid, card_id: &str) -> Result<Vec<CardNote>> {
    let found =
        sqlx::query("SELECT * FROM card_notes WHERE team_id = $1 AND card_id = $2 ORDER BY id")
            .bind(team_id.to_string())
            .bind(card_id)
            .fetch_all(&db.pool)
            .await
            .db()?;
    found.iter().map(rows::card_note).collect()
}

pub(crate) async fn list(db: &Db, visible: Option<&[Uuid]>, limit: u32) -> Result<Vec<Card>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM cards WHERE 1 = 1");
    if !push_team_scope(&mut q, visible, None) {
        return Ok(Vec::new());
    }
    q.push(" ORDER BY updated_at DESC, id LIMIT ")
        .push_bind(page_limit(limit));
    let found = q.build().fetch_all(&db.pool).await.db()?;
    found.iter().map(rows::card).collect()
}

pub(crate) async fn plans(db: &Db, team_id: Uuid, card_id: &str) -> Result<Vec<PlanRecord>> {
    let found = sqlx::query(
        "SELECT * FROM plans WHERE team_id = $1 AND card_id = $2 ORDER BY id COLLATE \"C\"",
    )
    .bind(team_id.to_string())
    .bind(card_id)
    .fetch_all(&db.pool)
    .await
    .db()?;
    found.iter().map(rows::plan).collect()
}
