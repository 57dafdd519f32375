//! Opening the database file with the settings Interlock relies on.

use std::str::FromStr;
use std::time::Duration;

use interlock_store::{Result, StoreError};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::db::DbResult;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 4;

/// The writer pool (one connection) and the reader pool for the database at `url`.
pub(crate) async fn pools(url: &str) -> Result<(SqlitePool, SqlitePool)> {
    let base = options(url)?
        // An acknowledged action must survive a crash or power loss: fsync every commit.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);

    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        // Connections live as long as the store: closing the last one would checkpoint
        // and delete the WAL, which readers then recreate.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(
            base.clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal),
        )
        .await
        .db()?;

    // Readers connect after the writer has created the file and switched it to WAL
    // (a persistent property of the file). `query_only` turns a write sent to the wrong
    // pool into an immediate error instead of a lock fight with the writer.
    let reader = SqlitePoolOptions::new()
        .max_connections(READERS)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(base.pragma("query_only", "ON"))
        .await
        .db()?;
    Ok((writer, reader))
}

fn options(url: &str) -> Result<SqliteConnectOptions> {
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Backend(
                "in-memory SQLite databases are not supported: the writer and reader pools \
                 would see different databases; use a file"
                    .into(),
            ));
        }
        SqliteConnectOptions::from_str(url).db()
    } else {
        Ok(SqliteConnectOptions::new().filename(url))
    }
}
