//! Appending to the hash-chained audit trail inside a write transaction, and reading it.
//!
//! A chain is appended to under a lock on its head row, taken as the head is read
//! (`SELECT … FOR UPDATE`, which in PostgreSQL's READ COMMITTED waits for a holder to
//! finish and then reads the row as it left it): two transactions of one node writing
//! one team's chain take turns, and the head each reads is current, in one round trip.
//! A chain's first transaction creates its head row first. Chains are per node, so nodes
//! never wait for each other here. Locks are taken in name order, so two transactions
//! cannot deadlock over them.

use chrono::{DateTime, Utc};
use interlock_store::audit::GENESIS;
use interlock_store::{AuditDraft, AuditEntry, AuditFilter, Page, Result};
use interlock_store_sql::chain::{self, Chains};
use interlock_store_sql::listing;
use sqlx::Postgres;

use crate::db::{Db, DbResult, Tx};
use crate::rows::{self, int};

/// The heads of the chains named in `$1` (sorted), locked in that order.
const HEADS_LOCK: &str =
    "SELECT chain, seq, hash FROM audit_heads WHERE chain = ANY($1) ORDER BY chain FOR UPDATE";

/// Head rows for chains that have none yet (at the genesis hash, `$2`), so they can be
/// locked; a concurrent first transaction of the same chain waits here for the other.
const HEADS_CREATE: &str = "INSERT INTO audit_heads (chain, seq, hash)
    SELECT c, 0, $2 FROM unnest($1::text[]) AS c ORDER BY c
    ON CONFLICT (chain) DO NOTHING";

/// The entries, columns as arrays in [`chain::EntryRow::as_array`] order, inserted in
/// array order (so ids follow each chain's order); and the new heads, one per chain, as
/// three arrays. One statement, so one round trip.
const ENTRIES_INSERT: &str = "WITH entries AS (
    INSERT INTO audit (chain, seq, at, team_id, actor_kind, actor_id, subject, event, data,
                       prev_hash, hash)
    SELECT chain, seq, at, team_id, actor_kind, actor_id, subject, event, data, prev_hash, hash
      FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           WITH ORDINALITY AS e(chain, seq, at, team_id, actor_kind, actor_id, subject, event,
                                data, prev_hash, hash, n)
     ORDER BY n
)
INSERT INTO audit_heads (chain, seq, hash)
    SELECT * FROM unnest($12::text[], $13::bigint[], $14::text[])
    ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

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
            let lock = || sqlx::query(HEADS_LOCK).bind(&names);
            let mut heads = lock().fetch_all(&mut **tx).await.db()?;
            if heads.len() < names.len() {
                sqlx::query(HEADS_CREATE)
                    .bind(&names)
                    .bind(GENESIS)
                    .execute(&mut **tx)
                    .await
                    .db()?;
                heads = lock().fetch_all(&mut **tx).await.db()?;
            }
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

    /// Writes the entries, in chain order, and the new chain heads: one statement of
    /// constant text whatever the number of entries (columns bound as arrays), so each
    /// connection prepares it once; multi-row `VALUES` made a new statement, parsed and
    /// prepared in a round trip of its own, for every batch size.
    pub async fn write(self, tx: &mut Tx) -> Result<()> {
        let entries = self.chains.entries();
        if entries.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = entries.iter().map(|e| e.as_array()).collect();
        let text = |f: fn(&_) -> &str| -> Vec<&str> { rows.iter().map(f).collect() };
        let maybe =
            |f: fn(&_) -> Option<&str>| -> Vec<Option<&str>> { rows.iter().map(f).collect() };
        let seqs: Vec<i64> = rows.iter().map(|r| int(r.1)).collect();
        let ats: Vec<i64> = rows.iter().map(|r| r.2).collect();
        let heads = self.chains.new_heads();
        let chains: Vec<&str> = heads.iter().map(|h| h.0).collect();
        let head_seqs: Vec<i64> = heads.iter().map(|h| int(h.1)).collect();
        let hashes: Vec<&str> = heads.iter().map(|h| h.2).collect();
        sqlx::query(ENTRIES_INSERT)
            .bind(text(|r| r.0))
            .bind(&seqs)
            .bind(&ats)
            .bind(maybe(|r| r.3))
            .bind(text(|r| r.4))
            .bind(text(|r| r.5))
            .bind(maybe(|r| r.6))
            .bind(text(|r| r.7))
            .bind(text(|r| r.8))
            .bind(text(|r| r.9))
            .bind(text(|r| r.10))
            .bind(&chains)
            .bind(&head_seqs)
            .bind(&hashes)
            .execute(&mut **tx)
            .await
            .db()?;
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
