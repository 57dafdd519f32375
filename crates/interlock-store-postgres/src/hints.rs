//! The cluster's hints over PostgreSQL `LISTEN`/`NOTIFY` (see
//! [`interlock_store::hints`]).
//!
//! Action changes are sent by the node that made them, after its commit: they are
//! gathered for a moment and sent as few notifications as fit (a payload holds at most
//! 8000 bytes), so a node changing thousands of actions a second sends tens of
//! notifications, not thousands. Rule and connector changes are announced by triggers
//! on `rules_versions` and `connectors` (see the migrations), so a change made from the
//! CLI is heard too.
//! Each node listens on a connection of its own; when that connection drops, sqlx
//! reconnects it and the node is told hints may have been missed.

use std::str::FromStr;
use std::time::Duration;

use interlock_store::Result;
use interlock_store::hints::{ActionHint, Hint, HintBus};
use interlock_store_sql::errors::DbResult;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

const ACTIONS: &str = "interlock_actions";
const RULES: &str = "interlock_rules";
const CONNECTORS: &str = "interlock_connectors";
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;
/// How long a node gathers action hints before sending them.
const GATHER: Duration = Duration::from_millis(5);

/// One node's end of the hints: send with [`HintBus::send`], hear with
/// [`HintBus::subscribe`].
#[derive(Debug, Clone)]
pub struct Hints {
    outgoing: mpsc::UnboundedSender<ActionHint>,
    incoming: broadcast::Sender<Hint>,
}

impl HintBus for Hints {
    fn send(&self, hint: ActionHint) {
        // The sender task ends only with the process.
        let _ = self.outgoing.send(hint);
    }

    fn subscribe(&self) -> broadcast::Receiver<Hint> {
        self.incoming.subscribe()
    }
}

impl Hints {
    /// Listens on a connection of its own to `url`; sends through `pool`.
    pub(crate) async fn start(url: &str, pool: PgPool) -> Result<Hints> {
        let mut listener = PgListener::connect(url).await.db()?;
        listener
            .listen_all([ACTIONS, RULES, CONNECTORS])
            .await
            .db()?;
        // Notifications a node sent itself come back to it: they carry this instance's
        // id so that it can pass them by.
        let me = Uuid::new_v4().simple().to_string();
        let (incoming, _) = broadcast::channel(4096);
        let (outgoing, queued) = mpsc::unbounded_channel();
        tokio::spawn(listen(listener, me.clone(), incoming.clone()));
        tokio::spawn(send(pool, me, queued));
        Ok(Hints { outgoing, incoming })
    }
}

async fn listen(mut listener: PgListener, me: String, incoming: broadcast::Sender<Hint>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                for hint in parse(n.channel(), n.payload(), &me) {
                    let _ = incoming.send(hint);
                }
            }
            // The connection dropped; the next `try_recv` reconnects.
            Ok(None) => {
                tracing::warn!("lost the connection that hears other nodes; reconnecting");
                let _ = incoming.send(Hint::Missed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot hear other nodes; trying again");
                let _ = incoming.send(Hint::Missed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn send(pool: PgPool, me: String, mut queued: mpsc::UnboundedReceiver<ActionHint>) {
    while let Some(first) = queued.recv().await {
        tokio::time::sleep(GATHER).await;
        let mut hints = vec![first];
        while let Ok(h) = queued.try_recv() {
            hints.push(h);
        }
        for payload in payloads(&me, &hints) {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(ACTIONS)
                .bind(&payload)
                .execute(&pool)
                .await
            {
                // Hints are best effort: other nodes' readers still see the change when
                // they next read, and their long polls time out.
                tracing::warn!(error = %e, "could not tell other nodes of changes");
            }
        }
    }
}

/// `me`, then one line per hint: `action team status version proposer`, split so each
/// payload stays under PostgreSQL's limit.
fn payloads(me: &str, hints: &[ActionHint]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = me.to_owned();
    for h in hints {
        let line = format!(
            "\n{} {} {} {} {}",
            h.action_id,
            h.team_id,
            h.status.as_str(),
            h.version,
            h.proposed_by
        );
        if current.len() + line.len() > MAX_PAYLOAD {
            out.push(std::mem::replace(&mut current, me.to_owned()));
        }
        current.push_str(&line);
    }
    if current.len() > me.len() {
        out.push(current);
    }
    out
}

fn parse(channel: &str, payload: &str, me: &str) -> Vec<Hint> {
    match channel {
        RULES => Uuid::parse_str(payload)
            .map(Hint::Rules)
            .into_iter()
            .collect(),
        CONNECTORS => Uuid::parse_str(payload)
            .map(Hint::Connectors)
            .into_iter()
            .collect(),
        ACTIONS => {
            let mut lines = payload.lines();
            if lines.next() == Some(me) {
                return Vec::new();
            }
            lines.filter_map(parse_action).map(Hint::Action).collect()
        }
        _ => Vec::new(),
    }
}

fn parse_action(line: &str) -> Option<ActionHint> {
    // The proposer's id is last and may hold spaces.
    let mut parts = line.splitn(5, ' ');
    Some(ActionHint {
        action_id: Uuid::parse_str(parts.next()?).ok()?,
        team_id: Uuid::parse_str(parts.next()?).ok()?,
        status: interlock_core::Status::from_str(parts.next()?).ok()?,
        version: parts.next()?.parse().ok()?,
        proposed_by: parts.next()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(i: u64) -> ActionHint {
        ActionHint {
            action_id: Uuid::now_v7(),
            team_id: Uuid::now_v7(),
            status: interlock_core::Status::Executed,
            version: i,
            proposed_by: format!("agent key {i}"),
        }
    }

    #[test]
    fn many_hints_are_split_into_payloads_under_the_limit_and_read_back_whole() {
        let hints: Vec<ActionHint> = (0..500).map(hint).collect();
        let payloads = payloads("node-a", &hints);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() < 8000));
        let read: Vec<Hint> = payloads
            .iter()
            .flat_map(|p| parse(ACTIONS, p, "node-b"))
            .collect();
        let expected: Vec<Hint> = hints.into_iter().map(Hint::Action).collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn a_node_passes_by_its_own_hints() {
        let payloads = payloads("node-a", &[hint(1)]);
        assert!(parse(ACTIONS, &payloads[0], "node-a").is_empty());
    }
}
