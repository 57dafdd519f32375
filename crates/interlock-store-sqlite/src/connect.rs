//! Opening the database file with the settings Interlock relies on.

use std::str::FromStr;
use std::time::Duration;

use interlock_store::{Result, StoreError};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};

use crate::conn::{Readers, Shared};
use crate::db::DbResult;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: usize = 4;
/// How often the checkpointer copies committed pages from the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL pages after which the writer checkpoints itself (SQLite's default is 1,000). The
/// checkpointer normally has copied them already, so this only finishes the job, which
/// lets the next transaction start the WAL over; it also bounds the WAL (~40 MB) should
/// the checkpointer fall behind.
const WRITER_CHECKPOINT_PAGES: &str = "10000";

/// The writer connection and the read connections for the database at `url`. They
/// live as long as the store: closing the last one would checkpoint and delete the WAL,
/// which readers then recreate.
pub(crate) async fn connections(url: &str) -> Result<(Shared, Readers, Checkpointer)> {
    let base = options(url)?
        // An acknowledged action must survive a crash or power loss: fsync every commit.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Statement journals and scratch tables in memory: on disk each was a file
        // created and deleted every few group commits.
        .pragma("temp_store", "MEMORY")
        .busy_timeout(BUSY_TIMEOUT);

    let writer = base
        .clone()
        .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await
        .db()?;

    // Readers connect after the writer has created the file and switched it to WAL
    // (a persistent property of the file). `query_only` turns a write sent to the wrong
    // connection into an immediate error instead of a lock fight with the writer.
    let read_options = base.clone().pragma("query_only", "ON");
    let mut readers = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        readers.push(read_options.connect().await.db()?);
    }
    let checkpointer = Checkpointer::start(base.connect().await.db()?);
    Ok((Shared::new(writer), Readers::new(readers), checkpointer))
}

/// Copies committed pages from the WAL into the database file on a connection of its
/// own. Left to the writer, that copying (and the database file's fsync) happened inside
/// whichever commit crossed SQLite's threshold, holding up every change queued behind it;
/// here it runs beside the writer, which SQLite allows (a `PASSIVE` checkpoint takes no
/// lock the writer needs). Stops when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    fn start(mut conn: SqliteConnection) -> Checkpointer {
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the writer's own will catch up");
                }
            }
        });
        Checkpointer { task }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
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
