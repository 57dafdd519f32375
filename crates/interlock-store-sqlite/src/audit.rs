//! Appending to the hash-chained audit trail inside a write transaction, and reading it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use interlock_store::audit::{self, GENESIS, HashInput};
use interlock_store::{AuditDraft, AuditEntry, AuditFilter, Page, Result, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite};

use crate::db::{Db, DbResult, Tx, Writes, page_limit, push_team_scope, rows_per_statement};
use crate::rows::{self, int, ms};

/// Entries to append in one transaction. Each chain's head is read once (under the
/// write lock, so it is current), advanced in memory, and written back with the
/// entries: the entries and their heads commit together or not at all.
#[derive(Debug)]
pub(crate) struct AuditAppender {
    node: std::sync::Arc<str>,
    heads: HashMap<String, (u64, String)>,
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    chain: String,
    seq: u64,
    at: i64,
    team_id: Option<String>,
    actor_kind: &'static str,
    actor_id: String,
    subject: Option<String>,
    event: String,
    data: String,
    prev_hash: String,
    hash: String,
}

const COLUMNS: usize = 11;

impl AuditAppender {
    pub fn new(db: &Db) -> AuditAppender {
        AuditAppender {
            node: db.node.clone(),
            heads: HashMap::new(),
            rows: Vec::new(),
        }
    }

    /// Adds `SELECT chain, seq, hash` of the chains `drafts` append to, for a
    /// transaction to run as it begins; hand the rows to [`AuditAppender::preload`].
    pub fn push_head_query(&self, q: &mut QueryBuilder<Sqlite>, drafts: &[&AuditDraft]) {
        let mut chains: Vec<String> = drafts
            .iter()
            .map(|d| audit::chain_name(d.team_id, &self.node))
            .collect();
        chains.sort_unstable();
        chains.dedup();
        q.push("SELECT chain, seq, hash FROM audit_heads WHERE chain IN (");
        let mut s = q.separated(", ");
        for c in chains.iter().take(rows_per_statement(1)) {
            s.push_bind(c.clone());
        }
        q.push(")");
    }

    /// Takes the heads read by [`AuditAppender::push_head_query`] (under the write lock,
    /// so they are current): those chains need no read of their own.
    pub fn preload(&mut self, rows: &[SqliteRow], drafts: &[&AuditDraft]) -> Result<()> {
        for d in drafts {
            self.heads
                .entry(audit::chain_name(d.team_id, &self.node))
                .or_insert_with(|| (0, GENESIS.to_owned()));
        }
        for row in rows {
            let chain: String = row.try_get("chain").db()?;
            let seq: i64 = row.try_get("seq").db()?;
            let hash: String = row.try_get("hash").db()?;
            let seq = u64::try_from(seq)
                .map_err(|_| StoreError::Corrupt(format!("audit head of {chain}")))?;
            self.heads.insert(chain, (seq, hash));
        }
        Ok(())
    }

    /// Numbers and chains `draft` at `at`. The data is serialized once, and that exact
    /// text is both hashed and stored.
    pub async fn push(&mut self, tx: &mut Tx, at: DateTime<Utc>, draft: &AuditDraft) -> Result<()> {
        let chain = audit::chain_name(draft.team_id, &self.node);
        if !self.heads.contains_key(&chain) {
            let head = read_head(tx, &chain).await?;
            self.heads.insert(chain.clone(), head);
        }
        let (seq, prev_hash) = self
            .heads
            .get(&chain)
            .cloned()
            .unwrap_or((0, GENESIS.to_owned()));
        let seq = seq + 1;
        let data = draft.data.to_string();
        // Hash the instant as stored (milliseconds), so the stored entry verifies.
        let at = rows::to_millis(at);
        let hash = audit::entry_hash(&HashInput {
            chain: &chain,
            seq,
            at,
            team_id: draft.team_id,
            actor: &draft.actor,
            subject: draft.subject.as_deref(),
            event: &draft.event,
            data: &data,
            prev_hash: &prev_hash,
        });
        self.heads.insert(chain.clone(), (seq, hash.clone()));
        self.rows.push(Row {
            chain,
            seq,
            at: ms(at),
            team_id: draft.team_id.map(|t| t.to_string()),
            actor_kind: draft.actor.kind.as_str(),
            actor_id: draft.actor.id.clone(),
            subject: draft.subject.clone(),
            event: draft.event.clone(),
            data,
            prev_hash,
            hash,
        });
        Ok(())
    }

    pub async fn push_all(
        &mut self,
        tx: &mut Tx,
        at: DateTime<Utc>,
        drafts: &[AuditDraft],
    ) -> Result<()> {
        for d in drafts {
            self.push(tx, at, d).await?;
        }
        Ok(())
    }

    /// Writes the entries and the new chain heads.
    pub async fn write(self, tx: &mut Tx) -> Result<()> {
        let mut w = Writes::default();
        self.push_writes(&mut w);
        w.run(tx).await
    }

    /// Adds the statements that write the entries and the new chain heads to `w`.
    pub fn push_writes(self, w: &mut Writes) {
        if self.rows.is_empty() {
            return;
        }
        for chunk in self.rows.chunks(rows_per_statement(COLUMNS)) {
            w.statement(
                "INSERT INTO audit (chain, seq, at, team_id, actor_kind, actor_id, subject, event, \
                 data, prev_hash, hash) ",
            )
            .push_values(chunk, |mut s, r| {
                s.push_bind(r.chain.clone())
                    .push_bind(int(r.seq))
                    .push_bind(r.at)
                    .push_bind(r.team_id.clone())
                    .push_bind(r.actor_kind)
                    .push_bind(r.actor_id.clone())
                    .push_bind(r.subject.clone())
                    .push_bind(r.event.clone())
                    .push_bind(r.data.clone())
                    .push_bind(r.prev_hash.clone())
                    .push_bind(r.hash.clone());
            });
        }
        let heads: Vec<_> = self
            .heads
            .into_iter()
            .filter(|(_, (seq, _))| *seq > 0)
            .collect();
        for chunk in heads.chunks(rows_per_statement(3)) {
            let q = w.statement("INSERT INTO audit_heads (chain, seq, hash) ");
            q.push_values(chunk, |mut s, (chain, (seq, hash))| {
                s.push_bind(chain.clone())
                    .push_bind(int(*seq))
                    .push_bind(hash.clone());
            });
            q.push(" ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash");
        }
    }
}

async fn read_head(tx: &mut Tx, chain: &str) -> Result<(u64, String)> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE chain = ?")
            .bind(chain)
            .fetch_optional(&mut **tx)
            .await
            .db()?;
    match head {
        None => Ok((0, GENESIS.to_owned())),
        Some((seq, hash)) => {
            let seq = u64::try_from(seq)
                .map_err(|_| StoreError::Corrupt(format!("audit head of {chain}")))?;
            Ok((seq, hash))
        }
    }
}

/// Appends entries outside an action change.
pub(crate) async fn append(db: &Db, at: DateTime<Utc>, entries: Vec<AuditDraft>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let mut audit = AuditAppender::new(db);
    audit.push_all(&mut tx, at, &entries).await?;
    audit.write(&mut tx).await?;
    tx.commit().await.db()
}

pub(crate) async fn search(
    db: &Db,
    f: &AuditFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<AuditEntry>> {
    let limit = page_limit(limit);
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM audit WHERE 1 = 1");
    if !push_team_scope(&mut q, f.visible_teams.as_deref(), f.team_id) {
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        });
    }
    if let Some(subject) = &f.subject {
        q.push(" AND subject = ").push_bind(subject.clone());
    }
    if let Some(actor) = &f.actor_id {
        q.push(" AND actor_id = ").push_bind(actor.clone());
    }
    if let Some(event) = &f.event {
        q.push(" AND event = ").push_bind(event.clone());
    }
    if let Some(since) = f.since {
        q.push(" AND at >= ").push_bind(ms(since));
    }
    if let Some(until) = f.until {
        q.push(" AND at < ").push_bind(ms(until));
    }
    if let Some(cursor) = cursor {
        let before: i64 = cursor
            .parse()
            .map_err(|_| StoreError::NotFound("audit cursor"))?;
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
    let rows = q.build().fetch_all(&mut *db.read().await?).await.db()?;
    let mut items = rows
        .iter()
        .map(rows::audit_entry)
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Every chain with its recorded head. A chain that has entries but no head row is
/// reported at seq 0 (the genesis hash), so a deleted head row fails verification
/// instead of hiding the chain.
pub(crate) async fn heads(db: &Db) -> Result<Vec<(String, u64, String)>> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT chain, seq, hash FROM audit_heads
         UNION ALL
         SELECT DISTINCT chain, 0, ? FROM audit
          WHERE chain NOT IN (SELECT chain FROM audit_heads)
         ORDER BY chain",
    )
    .bind(GENESIS)
    .fetch_all(&mut *db.read().await?)
    .await
    .db()?;
    rows.into_iter()
        .map(|(chain, seq, hash)| {
            let seq = u64::try_from(seq)
                .map_err(|_| StoreError::Corrupt(format!("audit head of {chain}")))?;
            Ok((chain, seq, hash))
        })
        .collect()
}

pub(crate) async fn chain(
    db: &Db,
    chain: &str,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT * FROM audit WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?")
        .bind(chain)
        .bind(int(after_seq))
        .bind(i64::from(limit))
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::audit_entry).collect()
}
