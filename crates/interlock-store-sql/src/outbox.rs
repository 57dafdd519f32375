//! What the outbox and cards decide the same way on every database: which `notify` jobs
//! a delivery needs, which cards new actions open, and what working on a card changes.

use std::collections::BTreeMap;

use interlock_store::{ActionRecord, Card, CardPriority};
use uuid::Uuid;

use crate::rows::ms;

/// A card named by a new action or plan: its team, its id, and when (unix ms).
pub type CardMention = (Uuid, String, i64);

/// Writes the `notify` jobs of deliveries just inserted in the same transaction, due at
/// their creation, so a delivery is sent exactly when the change that caused it is
/// committed. Only a delivery with somewhere to go gets one: an agent's callback, or a
/// channel its team has at that commit. Without, there is nothing to send, and a job per
/// delivery would cost every time bomb and execution a claim and a commit for nothing
/// (a team's first channel receives what is written after it, not earlier deliveries).
/// `uid_in` ends the statement, picking the new deliveries by uid: `= ANY($1)`, or the
/// start of an `IN (…)` the caller completes.
pub fn notify_jobs_for(uid_in: &str) -> String {
    format!(
        "INSERT INTO jobs (kind, subject, run_at)
         SELECT 'notify', d.uid, d.created_at FROM deliveries d
          WHERE (d.callback_url IS NOT NULL
                 OR EXISTS (SELECT 1 FROM channels c WHERE c.team_id = d.team_id))
            AND d.uid {uid_in}"
    )
}

/// The cards that newly created actions name, each once (at its latest mention) and in
/// key order: PostgreSQL refuses to upsert one row twice in a statement, and concurrent
/// batches lock the cards they share in the same order.
pub fn card_mentions<'a>(created: impl IntoIterator<Item = &'a ActionRecord>) -> Vec<CardMention> {
    let mut latest: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    for a in created {
        if let Some(card) = &a.card_id {
            let at = latest.entry((a.team_id, card.clone())).or_insert(i64::MIN);
            *at = (*at).max(ms(a.created_at));
        }
    }
    latest
        .into_iter()
        .map(|((team, card), at)| (team, card, at))
        .collect()
}

/// A card's priority after work that may raise it (never lower it), and whether the work
/// changes the card: a card that does not exist yet is opened at `Normal` unless raised.
pub fn priority_after(
    before: Option<&Card>,
    raise_to: Option<CardPriority>,
) -> (CardPriority, bool) {
    match (before, raise_to) {
        (Some(b), Some(to)) if to > b.priority => (to, true),
        (Some(b), _) => (b.priority, false),
        (None, to) => (to.unwrap_or(CardPriority::Normal), true),
    }
}
