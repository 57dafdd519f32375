//! Interlock's cluster backend: several `interlock serve` nodes sharing one PostgreSQL
//! database (SPEC §14).
//!
//! Each node holds a small pool of connections. Writes that must not interleave are
//! made safe by PostgreSQL itself: transitions are conditional updates (of two racing,
//! exactly one matches), jobs are claimed with `FOR UPDATE SKIP LOCKED`, audit chains
//! are appended under a transaction-scoped advisory lock per chain, and idempotency keys
//! are settled by a unique index (`ON CONFLICT DO NOTHING`). Throughput comes from group
//! commit: a batch of proposals or transitions is one transaction of a handful of
//! multi-row statements, whatever its size. Nodes hear of each other's changes through
//! `LISTEN`/`NOTIFY` (see [`hints`]).

#![forbid(unsafe_code)]

mod actions;
mod audit;
mod cards;
mod changes;
mod columns;
mod connectors;
mod db;
pub mod hints;
mod jobs;
mod keys;
mod migrate;
mod node;
mod outbox;
mod people;
mod store;
mod teams;
pub mod testing;
mod transitions;

use std::sync::Arc;
use std::time::Duration;

pub use interlock_store::{Result, StoreError};
use interlock_store_sql::errors::DbResult;
use interlock_store_sql::rows;
pub use node::NodeName;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// True when `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A [`Store`](interlock_store::Store) on a PostgreSQL database, as one node of a cluster.
#[derive(Debug, Clone)]
pub struct PgStore {
    db: db::Db,
}

/// A pooled connection returned within this long is handed out again without a ping.
const RECENTLY_USED: Duration = Duration::from_secs(1);

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`) as node `node`: its audit
    /// chains carry that name, so each node of a cluster needs its own. Does not
    /// migrate: call [`Store::migrate`](interlock_store::Store::migrate).
    pub async fn open(url: &str, node: &str) -> Result<PgStore> {
        let options: PgConnectOptions = url.parse().db()?;
        let pool = PgPoolOptions::new()
            .max_connections(db::POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection it hands out, a round trip before each
            // transaction's first. One back in the pool only moments ago is used as it
            // is (a dead one fails its statement and is dropped); one idle for longer,
            // which a database restart or a proxy may have closed, is still pinged.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(
                    async move { Ok(meta.idle_for < RECENTLY_USED || conn.ping().await.is_ok()) },
                )
            })
            .connect_with(options.application_name(&format!("interlock {node}")))
            .await
            .db()?;
        Ok(PgStore {
            db: db::Db {
                pool,
                url: url.into(),
                node: node.into(),
                changes: Arc::new(transitions::queue()),
            },
        })
    }

    /// The node name this store writes its audit chains under.
    pub fn node(&self) -> &str {
        &self.db.node
    }

    /// Claims this store's node name for as long as the result is held; fails when
    /// another running process holds it (see `node`).
    pub async fn hold_node_name(&self) -> Result<node::NodeName> {
        node::hold(&self.db.url, &self.db.node).await
    }

    /// Starts listening for other nodes' hints (see [`hints`]).
    pub async fn hints(&self) -> Result<hints::Hints> {
        hints::Hints::start(&self.db.url, self.db.pool.clone()).await
    }

    pub async fn close(&self) {
        self.db.pool.close().await;
    }
}
