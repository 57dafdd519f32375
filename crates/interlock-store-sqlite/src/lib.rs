//! Interlock's embedded backend: one SQLite file in WAL mode.
//!
//! SQLite has one writer at a time, so every write goes through exactly one connection:
//! writes queue in the process instead of failing with `SQLITE_BUSY`, and throughput
//! comes from group commit (`insert_actions` writes a whole batch in one transaction, so
//! one fsync covers thousands of proposals; concurrent transitions are batched the same
//! way, see `transitions`). Reads use connections of their own and, thanks to WAL, never
//! wait for the writer. A transaction makes as few round trips to the connection's thread
//! as it can (see `conn` and `db::Writes`): under load those, not SQLite, set the pace.
//!
//! Every write transaction starts with `BEGIN IMMEDIATE`, so a second process on the same
//! file (the CLI while `serve` runs) waits for the write lock up front rather than failing
//! when a read turns into a write.

#![forbid(unsafe_code)]

mod actions;
mod audit;
mod cards;
mod changes;
mod conn;
mod connect;
mod connectors;
mod db;
mod jobs;
mod keys;
mod migrate;
mod outbox;
mod people;
use interlock_store_sql::rows;
mod store;
mod teams;
mod transitions;

pub use interlock_store::{Result, StoreError};

/// The node name SQLite deployments write their audit chains under: there is one process.
pub const LOCAL_NODE: &str = "local";

/// A [`Store`](interlock_store::Store) on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: db::Db,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`: `sqlite://path`, `sqlite:path`
    /// or a plain file path. Does not migrate: call [`Store::migrate`](interlock_store::Store::migrate).
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let (writer, readers, checkpointer) = connect::connections(url).await?;
        Ok(SqliteStore {
            db: db::Db {
                writer,
                readers,
                checkpointer: std::sync::Arc::new(checkpointer),
                changes: std::sync::Arc::new(transitions::queue()),
                node: LOCAL_NODE.into(),
            },
        })
    }

    /// The same store writing audit entries to chains of another node name.
    pub fn with_node(mut self, name: &str) -> SqliteStore {
        self.db.node = name.into();
        self
    }

    /// The node name this store writes its audit chains under.
    pub fn node(&self) -> &str {
        &self.db.node
    }

    /// Closes every connection, waiting for each to be free (a clean shutdown
    /// checkpoints the WAL).
    pub async fn close(&self) {
        self.db.checkpointer.stop();
        self.db.writer.close().await;
        self.db.readers.close().await;
    }
}
