//! Appending to the hash-chained audit trail inside a write transaction, and reading it.

use chrono::{DateTime, Utc};
use interlock_store::audit::GENESIS;
use interlock_store::{AuditDraft, AuditEntry, AuditFilter, Page, Result};
use interlock_store_sql::chain::{self, Chains, PreparedEntry};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};

use interlock_store_sql::listing;

use crate::db::{Db, DbResult, Tx, Writes, json_rows};
use crate::rows::{self, int};

/// Entries to append in one transaction (see [`Chains`]); the chains' heads are read
/// under the write lock, so they are current.
#[derive(Debug)]
pub(crate) struct AuditAppender {
    chains: Chains,
}

impl AuditAppender {
    pub fn new(db: &Db) -> AuditAppender {
        AuditAppender {
            chains: Chains::new(db.node.clone()),
        }
    }

    /// Adds `SELECT chain, seq, hash` of the chains `drafts` append to, for a
    /// transaction to run as it begins; hand the rows to [`AuditAppender::preload`].
    pub fn push_head_query(&self, q: &mut QueryBuilder<Sqlite>, drafts: &[&AuditDraft]) {
        let chains = self.chains.chains_of(drafts.iter().copied());
        q.push(
            "SELECT chain, seq, hash FROM audit_heads WHERE chain IN (SELECT value FROM jsonb_each(",
        )
        .push_bind(json_rows(&chains).unwrap_or_else(|| "[]".to_owned()))
        .push("))");
    }

    /// Takes the heads read by [`AuditAppender::push_head_query`]: those chains need no
    /// read of their own.
    pub fn preload(&mut self, rows: &[SqliteRow], drafts: &[&AuditDraft]) -> Result<()> {
        self.chains.load_heads(rows, drafts)
    }

    /// `draft`'s entry made ahead (see [`Chains::prepare`]), for [`AuditAppender::push_prepared`].
    pub fn prepare<'a>(&self, at: DateTime<Utc>, draft: &'a AuditDraft) -> PreparedEntry<'a> {
        self.chains.prepare(at, draft)
    }

    /// Appends entries made ahead whose chains' heads were preloaded
    /// ([`AuditAppender::preload`] takes every chain of the drafts it is given).
    pub fn push_prepared<'a>(&mut self, entries: impl IntoIterator<Item = PreparedEntry<'a>>) {
        for entry in entries {
            self.chains.push_prepared(entry);
        }
    }

    /// Numbers and chains `draft` at `at`, reading its chain's head first if need be.
    pub async fn push(&mut self, tx: &mut Tx, at: DateTime<Utc>, draft: &AuditDraft) -> Result<()> {
        let chain = self.chains.chain_of(draft);
        if !self.chains.knows(&chain) {
            let head: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE chain = ?")
                    .bind(&chain)
                    .fetch_optional(&mut **tx)
                    .await
                    .db()?;
            self.chains.set_head(chain, head)?;
        }
        self.chains.push(at, draft);
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
        let entries: Vec<_> = self.chains.entries().iter().map(|e| e.as_array()).collect();
        w.rows(chain::ENTRY_INSERT_JSON, json_rows(&entries));
        w.rows(chain::HEAD_UPSERT_JSON, json_rows(&self.chains.new_heads()));
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
    let Some(mut q) = listing::audit_query::<Sqlite>(f, cursor, limit)? else {
        return Ok(listing::empty());
    };
    let rows = q.build().fetch_all(&mut *db.read().await?).await.db()?;
    let items = rows
        .iter()
        .map(rows::audit_entry)
        .collect::<Result<Vec<_>>>()?;
    Ok(listing::page(items, limit, |e| e.id.to_string()))
}

/// Every chain with its recorded head (see [`chain::HEADS_SELECT`]).
pub(crate) async fn heads(db: &Db) -> Result<Vec<(String, u64, String)>> {
    let found = sqlx::query_as(chain::HEADS_SELECT)
        .bind(GENESIS)
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    chain::heads_of(found)
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
