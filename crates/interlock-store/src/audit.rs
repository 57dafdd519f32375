//! The audit hash chain (SPEC §11). Entries are chained per team and per writing node
//! (`<team or "deployment">/<node>`), so nodes of a cluster never contend for one chain
//! head, while each chain still detects an altered, inserted or removed entry.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::models::{Actor, AuditEntry};

/// The hash an empty chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain a node writes a team's (or the deployment's) entries to.
pub fn chain_name(team_id: Option<Uuid>, node: &str) -> String {
    match team_id {
        Some(t) => format!("{t}/{node}"),
        None => format!("deployment/{node}"),
    }
}

/// The fields an entry's hash covers, in a fixed order, with the previous hash.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    pub chain: &'a str,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub team_id: Option<Uuid>,
    pub actor: &'a Actor,
    pub subject: Option<&'a str>,
    pub event: &'a str,
    pub data: &'a str,
    pub prev_hash: &'a str,
}

/// SHA-256 over every field, each length-prefixed so no two entries hash the same text.
pub fn entry_hash(input: &HashInput<'_>) -> String {
    let mut h = Sha256::new();
    let team = input.team_id.map(|t| t.to_string()).unwrap_or_default();
    let at = input.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let seq = input.seq.to_string();
    for field in [
        input.chain,
        &seq,
        &at,
        &team,
        input.actor.kind.as_str(),
        &input.actor.id,
        input.subject.unwrap_or(""),
        input.event,
        input.data,
        input.prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    pub fn computed_hash(&self) -> String {
        entry_hash(&HashInput {
            chain: &self.chain,
            seq: self.seq,
            at: self.at,
            team_id: self.team_id,
            actor: &self.actor,
            subject: self.subject.as_deref(),
            event: &self.event,
            data: &self.data,
            prev_hash: &self.prev_hash,
        })
    }
}

/// What is wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub chain: String,
    pub seq: u64,
    pub problem: String,
}

/// Checks one chain, entry by entry in sequence order; `head` is the recorded
/// `(seq, hash)` of the chain's last entry, which catches removal from the end.
#[derive(Debug)]
pub struct ChainVerifier {
    chain: String,
    expected_seq: u64,
    prev_hash: String,
    pub checked: u64,
}

impl ChainVerifier {
    pub fn new(chain: &str) -> ChainVerifier {
        ChainVerifier {
            chain: chain.to_owned(),
            expected_seq: 1,
            prev_hash: GENESIS.to_owned(),
            checked: 0,
        }
    }

    fn broken(&self, seq: u64, problem: String) -> ChainBreak {
        ChainBreak {
            chain: self.chain.clone(),
            seq,
            problem,
        }
    }

    pub fn next(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(self.broken(
                e.seq,
                format!(
                    "expected entry {} but found {}: an entry was removed or inserted",
                    self.expected_seq, e.seq
                ),
            ));
        }
        if e.prev_hash != self.prev_hash {
            return Err(self.broken(
                e.seq,
                "its previous-hash link does not match the entry before it".to_owned(),
            ));
        }
        if e.computed_hash() != e.hash {
            return Err(self.broken(
                e.seq,
                "its content does not match its hash: the entry was altered".to_owned(),
            ));
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    pub fn finish(self, head_seq: u64, head_hash: &str) -> Result<u64, ChainBreak> {
        if self.expected_seq - 1 != head_seq || self.prev_hash != head_hash {
            return Err(self.broken(
                head_seq,
                format!(
                    "the chain ends at entry {} but its recorded head is entry {head_seq}: entries were removed or added at the end",
                    self.expected_seq - 1
                ),
            ));
        }
        Ok(self.checked)
    }
}

/// Verifies every chain of a store; returns the number of entries checked.
pub async fn verify_all(store: &dyn crate::Store) -> crate::Result<Result<u64, ChainBreak>> {
    let mut total = 0;
    for (chain, head_seq, head_hash) in store.audit_heads().await? {
        let mut v = ChainVerifier::new(&chain);
        let mut after = 0;
        loop {
            let entries = store.audit_chain(&chain, after, 1000).await?;
            if entries.is_empty() {
                break;
            }
            for e in &entries {
                if let Err(b) = v.next(e) {
                    return Ok(Err(b));
                }
            }
            after = entries.last().map_or(after, |e| e.seq);
        }
        match v.finish(head_seq, &head_hash) {
            Ok(n) => total += n,
            Err(b) => return Ok(Err(b)),
        }
    }
    Ok(Ok(total))
}
