//! Audit entries appended inside one write transaction, whatever the database. Each
//! chain's head is read once (under the transaction's lock on it, so it is current),
//! advanced in memory, and written back with the entries: the entries and their heads
//! commit together or not at all.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use interlock_store::audit::{self, GENESIS, HashInput};
use interlock_store::{AuditDraft, Result, StoreError};

use crate::rows::{self, Columns, ms};

/// The entries as a JSON array of [`EntryRow::as_array`]s, for SQLite's `jsonb_each`
/// (PostgreSQL binds the same arrays' columns as arrays).
pub const ENTRY_INSERT_JSON: &str = "INSERT INTO audit (chain, seq, at, team_id, actor_kind, \
    actor_id, subject, event, data, prev_hash, hash) \
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
    value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10 FROM jsonb_each(?)";
/// The heads as a JSON array of `[chain, seq, hash]`, for SQLite's `jsonb_each` (`WHERE
/// true` tells SQLite's parser the `ON` starts the upsert, not a join).
pub const HEAD_UPSERT_JSON: &str = "INSERT INTO audit_heads (chain, seq, hash) \
    SELECT value ->> 0, value ->> 1, value ->> 2 FROM jsonb_each(?) WHERE true \
    ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

/// Every chain with its recorded head (bind [`GENESIS`] as `$1`). A chain that has
/// entries but no head row is reported at seq 0 (the genesis hash), so a deleted head
/// row fails verification instead of hiding the chain. Read the rows with [`heads_of`].
pub const HEADS_SELECT: &str = "SELECT chain, seq, hash FROM audit_heads
     UNION ALL
     SELECT DISTINCT chain, 0, $1 FROM audit
      WHERE chain NOT IN (SELECT chain FROM audit_heads)
     ORDER BY 1";

pub fn heads_of(found: Vec<(String, i64, String)>) -> Result<Vec<(String, u64, String)>> {
    found
        .into_iter()
        .map(|(chain, seq, hash)| {
            let seq = u64::try_from(seq)
                .map_err(|_| StoreError::Corrupt(format!("audit head of {chain}")))?;
            Ok((chain, seq, hash))
        })
        .collect()
}

/// One entry, chained and hashed, ready to insert.
#[derive(Debug)]
pub struct EntryRow {
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

/// An entry as [`ENTRY_INSERT_JSON`] reads it: its columns by position, which SQLite
/// finds faster than by name.
pub type EntryArray<'a> = (
    &'a str,
    u64,
    i64,
    Option<&'a str>,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

impl EntryRow {
    pub fn as_array(&self) -> EntryArray<'_> {
        (
            &self.chain,
            self.seq,
            self.at,
            self.team_id.as_deref(),
            self.actor_kind,
            &self.actor_id,
            self.subject.as_deref(),
            &self.event,
            &self.data,
            &self.prev_hash,
            &self.hash,
        )
    }
}

/// An entry ready to be chained: see [`Chains::prepare`].
#[derive(Debug)]
pub struct PreparedEntry<'a> {
    chain: String,
    at: DateTime<Utc>,
    data: String,
    draft: &'a AuditDraft,
}

/// The chains one transaction appends to, and the entries it appends.
#[derive(Debug)]
pub struct Chains {
    node: Arc<str>,
    heads: HashMap<String, (u64, String)>,
    rows: Vec<EntryRow>,
}

impl Chains {
    pub fn new(node: Arc<str>) -> Chains {
        Chains {
            node,
            heads: HashMap::new(),
            rows: Vec::new(),
        }
    }

    /// The chain this node writes `draft` to.
    pub fn chain_of(&self, draft: &AuditDraft) -> String {
        audit::chain_name(draft.team_id, &self.node)
    }

    /// The chains `drafts` append to, sorted (locking them in one order cannot deadlock)
    /// and without repeats.
    pub fn chains_of<'a>(&self, drafts: impl IntoIterator<Item = &'a AuditDraft>) -> Vec<String> {
        let mut chains: Vec<String> = drafts.into_iter().map(|d| self.chain_of(d)).collect();
        chains.sort_unstable();
        chains.dedup();
        chains
    }

    pub fn knows(&self, chain: &str) -> bool {
        self.heads.contains_key(chain)
    }

    /// Takes a chain's head as read from the database (`None`: the chain is empty).
    pub fn set_head(&mut self, chain: String, head: Option<(i64, String)>) -> Result<()> {
        let head = match head {
            None => (0, GENESIS.to_owned()),
            Some((seq, hash)) => {
                let seq = u64::try_from(seq)
                    .map_err(|_| StoreError::Corrupt(format!("audit head of {chain}")))?;
                (seq, hash)
            }
        };
        self.heads.insert(chain, head);
        Ok(())
    }

    /// Takes the heads in rows of `chain, seq, hash`; the chains of `drafts` that have
    /// no row start from the genesis hash.
    pub fn load_heads(&mut self, rows: &[impl Columns], drafts: &[&AuditDraft]) -> Result<()> {
        for d in drafts {
            self.heads
                .entry(self.chain_of(d))
                .or_insert_with(|| (0, GENESIS.to_owned()));
        }
        for row in rows {
            let chain = rows::text(row, "chain")?;
            let head = (rows::integer(row, "seq")?, rows::text(row, "hash")?);
            self.set_head(chain, Some(head))?;
        }
        Ok(())
    }

    /// Numbers and chains `draft` at `at`; its chain's head must be known.
    pub fn push(&mut self, at: DateTime<Utc>, draft: &AuditDraft) {
        let entry = self.prepare(at, draft);
        self.push_prepared(entry);
    }

    /// What of `draft`'s entry does not depend on its chain's head, made ahead (before a
    /// transaction takes the write lock) to append later with [`Chains::push_prepared`].
    /// The data is serialized once, and that exact text is both hashed and stored.
    pub fn prepare<'a>(&self, at: DateTime<Utc>, draft: &'a AuditDraft) -> PreparedEntry<'a> {
        PreparedEntry {
            chain: self.chain_of(draft),
            // Hash the instant as stored (milliseconds), so the stored entry verifies.
            at: rows::to_millis(at),
            data: draft.data.to_string(),
            draft,
        }
    }

    /// Numbers, chains and hashes a prepared entry; its chain's head must be known.
    pub fn push_prepared(&mut self, entry: PreparedEntry<'_>) {
        let PreparedEntry {
            chain,
            at,
            data,
            draft,
        } = entry;
        let (seq, prev_hash) = self
            .heads
            .get(&chain)
            .cloned()
            .unwrap_or((0, GENESIS.to_owned()));
        let seq = seq + 1;
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
        self.rows.push(EntryRow {
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
    }

    /// The entries to insert, in chain order.
    pub fn entries(&self) -> &[EntryRow] {
        &self.rows
    }

    /// The heads to write: every chain that has entries.
    pub fn new_heads(&self) -> Vec<(&str, u64, &str)> {
        self.heads
            .iter()
            .filter(|(_, (seq, _))| *seq > 0)
            .map(|(c, (seq, hash))| (c.as_str(), *seq, hash.as_str()))
            .collect()
    }
}
