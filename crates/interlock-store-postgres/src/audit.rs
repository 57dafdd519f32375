//! Appending to the hash-chained audit trail inside a write transaction, and reading it.
//!
//! A chain is appended to under a transaction-scoped advisory lock on its name, taken
//! before its head is read: two transactions of one node writing one team's chain take
//! turns, and the head each reads is current. Chains are per node, so nodes never wait
//! for each other here. Locks are taken in name order, so two transactions cannot
//! deadlock over them.

use chrono::{DateTime, Utc};
use interlock_store::audit::GENESIS;
use interlock_store::{AuditDraft, AuditEntry, AuditFilter, Page, Result};
use interlock_store_sql::chain::{self, Chains};
use interlock_store_sql::listing;
use sqlx::{Postgres, QueryBuilder};

use crate::db::{Db, DbResult, Tx, rows_per_statement};
use crate::rows::{self, int};

/// Entries to append in one transaction, with their chains locked and heads read.
#[derive(Debug)]
pub(crate) struct Appender {
    chains: Chains,
}

impl Appender {
    /// Locks the chains `drafts` append to and reads their heads. Every entry the
    /// transaction will append must be among `drafts`.
    pub async fn lock(db: &Db, tx: &mut Tx, drafts: &[&AuditDraft]) -> Result<Appender> {
        let mut chains = Chains::new(db.node.clone());
        let names = chains.chains_of(drafts.iter().copied());
        if !names.is_empty() {
            // unnest keeps the array's (sorted) order, so the locks are taken in it.
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtextextended(c, 7)) FROM unnest($1::text[]) AS c",
            )
            .bind(&names)
            .execute(&mut **tx)
            .await
            .db()?;
            let heads =
                sqlx::query("SELECT chain, seq, hash FROM audit_heads WHERE chain = ANY($1)")
                    .bind(&names)
                    .fetch_all(&mut **tx)
                    .await
                    .db()?;
            chains.load_heads(&heads, drafts)?;
        }
        Ok(Appender { chains })
    }

    pub fn push(&mut self, at: DateTime<Utc>, draft: &AuditDraft) {
        self.chains.push(at, draft);
    }

    pub fn push_all(&mut self, at: DateTime<Utc>, drafts: &[AuditDraft]) {
        for d in drafts {
            self.chains.push(at, d);
        }
    }

    /// Writes the entries and the new chain heads.
    pub async fn write(self, tx: &mut Tx) -> Result<()> {
        let entries = self.chains.entries();
        if entries.is_empty() {
            return Ok(());
        }
        for chunk in entries.chunks(rows_per_statement(chain::ENTRY_COLUMNS)) {
            QueryBuilder::<Postgres>::new(chain::ENTRY_INSERT)
                .push_values(chunk, |s, r| Chains::bind_entry(s, r))
                .build()
                .execute(&mut **tx)
                .await
                .db()?;
        }
        let heads = self.chains.new_heads();
        for chunk in heads.chunks(rows_per_statement(chain::HEAD_COLUMNS)) {
            QueryBuilder::<Postgres>::new(chain::HEAD_INSERT)
                .push_values(chunk, |s, h| Chains::bind_head(s, h))
                .push(chain::HEAD_UPSERT_END)
                .build()
                .execute(&mut **tx)
                .await
                .db()?;
        }
        Ok(())
    }
}

/// Appends `drafts` at `at` inside `tx`: lock, chain, write.
pub(crate) async fn append_in(
    db: &Db,
    tx: &mut Tx,
    at: DateTime<Utc>,
    drafts: &[AuditDraft],
) -> Result<()> {
    let refs: Vec<&AuditDraft> = drafts.iter().collect();
    let mut appender = Appender::lock(db, tx, &refs).await?;
    appender.push_all(at, drafts);
    appender.write(tx).await
}

/// Appends entries outside an action change.
pub(crate) async fn append(db: &Db, at: DateTime<Utc>, entries: Vec<AuditDraft>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    append_in(db, &mut tx, at, &entries).await?;
    tx.commit().await.db()
}

pub(crate) async fn search(
    db: &Db,
    f: &AuditFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<AuditEntry>> {
    let Some(mut q) = listing::audit_query::<Postgres>(f, cursor, limit)? else {
        return Ok(listing::empty());
    };
    let found = q.build().fetch_all(&db.pool).await.db()?;
    let items = found
        .iter()
        .map(rows::audit_entry)
        .collect::<Result<Vec<_>>>()?;
    Ok(listing::page(items, limit, |e| e.id.to_string()))
}

/// Every chain with its recorded head (see [`chain::HEADS_SELECT`]).
pub(crate) async fn heads(db: &Db) -> Result<Vec<(String, u64, String)>> {
    let found = sqlx::query_as(chain::HEADS_SELECT)
        .bind(GENESIS)
        .fetch_all(&db.pool)
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
    let found =
        sqlx::query("SELECT * FROM audit WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(chain)
            .bind(int(after_seq))
            .bind(i64::from(limit))
            .fetch_all(&db.pool)
            .await
            .db()?;
    found.iter().map(rows::audit_entry).collect()
}
