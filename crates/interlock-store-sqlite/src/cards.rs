//! Cards: opened when an action or plan names them, noted on, escalated.

use interlock_store::{Card, CardNote, CardWork, PlanRecord, Result};
use interlock_store_sql::listing::{page_limit, push_team_scope};
use interlock_store_sql::outbox::{CardMention, priority_after};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, Tx, Writes, rows_per_statement};
use crate::rows::{self, ms};

/// Opens the cards that new actions or plans name (team, card id, at unix ms); a card
/// that exists only moves up the "recently changed" order.
pub(crate) fn push_card_mentions(w: &mut Writes, mentions: &[CardMention]) {
    for chunk in mentions.chunks(rows_per_statement(4)) {
        w.statement("INSERT INTO cards (team_id, id, created_at, updated_at) ")
            .push_values(chunk, |mut s, (team, card, at)| {
                s.push_bind(team.to_string())
                    .push_bind(card.clone())
                    .push_bind(*at)
                    .push_bind(*at);
            })
            .push(
                " ON CONFLICT (team_id, id) DO UPDATE SET updated_at = max(cards.updated_at, excluded.updated_at)",
            );
    }
}

async fn fetch(tx: &mut Tx, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
    let row = sqlx::query("SELECT * FROM cards WHERE team_id = ? AND id = ?")
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
    let before = fetch(&mut tx, w.team_id, &w.card_id).await?;
    let (priority, mut changed) = priority_after(before.as_ref(), w.raise_to);
    if let Some(text) = &w.note {
        let added = sqlx::query(
            "INSERT INTO card_notes (team_id, card_id, text, author_kind, author_id, action_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (action_id) DO NOTHING",
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
        return before.ok_or(interlock_store::StoreError::NotFound("card"));
    }
    sqlx::query(
        "INSERT INTO cards (team_id, id, priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (team_id, id) DO UPDATE SET priority = excluded.priority, updated_at = excluded.updated_at",
    )
    .bind(w.team_id.to_string())
    .bind(&w.card_id)
    .bind(priority.as_str())
    .bind(ms(at))
    .bind(ms(at))
    .execute(&mut *tx)
    .await
    .db()?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, at, &w.audit).await?;
    appender.write(&mut tx).await?;
    let card = fetch(&mut tx, w.team_id, &w.card_id).await?;
    tx.commit().await.db()?;
    card.ok_or(interlock_store::StoreError::NotFound("card"))
}

pub(crate) async fn card(db: &Db, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
    let row = sqlx::query("SELECT * FROM cards WHERE team_id = ? AND id = ?")
        .bind(team_id.to_string())
        .bind(card_id)
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::card).transpose()
}

pub(crate) async fn notes(db: &Db, team_id: Uuid, card_id: &str) -> Result<Vec<CardNote>> {
    let rows =
        sqlx::query("SELECT * FROM card_notes WHERE team_id = ? AND card_id = ? ORDER BY id")
            .bind(team_id.to_string())
            .bind(card_id)
            .fetch_all(&mut *db.read().await?)
            .await
            .db()?;
    rows.iter().map(rows::card_note).collect()
}

pub(crate) async fn list(db: &Db, visible: Option<&[Uuid]>, limit: u32) -> Result<Vec<Card>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM cards WHERE 1 = 1");
    if !push_team_scope(&mut q, visible, None) {
        return Ok(Vec::new());
    }
    q.push(" ORDER BY updated_at DESC, id LIMIT ")
        .push_bind(page_limit(limit));
    let rows = q.build().fetch_all(&mut *db.read().await?).await.db()?;
    rows.iter().map(rows::card).collect()
}

pub(crate) async fn plans(db: &Db, team_id: Uuid, card_id: &str) -> Result<Vec<PlanRecord>> {
    let rows = sqlx::query("SELECT * FROM plans WHERE team_id = ? AND card_id = ? ORDER BY id")
        .bind(team_id.to_string())
        .bind(card_id)
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::plan).collect()
}
