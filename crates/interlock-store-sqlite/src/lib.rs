//! Interlock's embedded backend: one SQLite file in WAL mode.
//!
//! SQLite has one writer at a time, so every write goes through a pool of exactly one
//! connection: writes queue in the process instead of failing with `SQLITE_BUSY`, and
//! throughput comes from group commit (`insert_actions` writes a whole batch in one
//! transaction, so one fsync covers thousands of proposals). Reads use a separate pool
//! and, thanks to WAL, never wait for the writer.
//!
//! Every write transaction starts with `BEGIN IMMEDIATE`, so a second process on the same
//! file (the CLI while `serve` runs) waits for the write lock up front rather than failing
//! when a read turns into a write.

#![forbid(unsafe_code)]

mod actions;
mod audit;
mod changes;
mod connect;
mod connectors;
mod db;
mod jobs;
mod keys;
mod migrate;
mod people;
mod rows;
mod store;
mod teams;

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
        let (writer, reader) = connect::pools(url).await?;
        Ok(SqliteStore {
            db: db::Db {
                writer,
                reader,
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

    /// Closes both pools, waiting for open connections to finish (a clean shutdown
    /// checkpoints the WAL).
    pub async fn close(&self) {
        self.db.writer.close().await;
        self.db.reader.close().await;
    }
}
