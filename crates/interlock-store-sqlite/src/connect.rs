//! Opening the database file with the settings Interlock relies on.

use std::str::FromStr;
use std::time::Duration;

use interlock_store::{Result, StoreError};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use crate::conn::{Readers, Shared};
use crate::db::DbResult;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: usize = 4;

/// The writer connection and the read connections for the database at `url`. They
/// live as long as the store: closing the last one would checkpoint and delete the WAL,
/// which readers then recreate.
pub(crate) async fn connections(url: &str) -> Result<(Shared, Readers)> {
    let base = options(url)?
        // An acknowledged action must survive a crash or power loss: fsync every commit.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);

    let writer = base
        .clone()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await
        .db()?;

    // Readers connect after the writer has created the file and switched it to WAL
    // (a persistent property of the file). `query_only` turns a write sent to the wrong
    // connection into an immediate error instead of a lock fight with the writer.
    let read_options = base.pragma("query_only", "ON");
    let mut readers = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        readers.push(read_options.connect().await.db()?);
    }
    Ok((Shared::new(writer), Readers::new(readers)))
}

fn options(url: &str) -> Result<SqliteConnectOptions> {
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Backend(
                "in-memory SQLite databases are not supported: the writer and reader connections \
                 would see different databases; use a file"
                    .into(),
            ));
        }
        SqliteConnectOptions::from_str(url).db()
    } else {
        Ok(SqliteConnectOptions::new().filename(url))
    }
}
