//! The connections, transactions, and the one place where database errors become
//! [`StoreError`]s.

use std::sync::Arc;

use interlock_store::{Result, StoreError};
use sqlx::{QueryBuilder, Sqlite};

pub(crate) use crate::conn::{Conn, Tx};
use crate::conn::{Readers, Shared};

/// SQLite's limit on bound parameters per statement is 32766; multi-row statements are
/// split to stay well below it.
pub(crate) const MAX_BINDS: usize = 30_000;

#[derive(Debug, Clone)]
pub(crate) struct Db {
    /// Exactly one connection: SQLite has one writer, and queueing here is cheaper than
    /// retrying on `SQLITE_BUSY`.
    pub writer: Shared,
    /// Several connections; in WAL mode readers never wait for the writer.
    pub readers: Readers,
    /// Transitions waiting for their group commit.
    pub changes: Arc<crate::transitions::ChangeQueue>,
    /// The node name in this store's audit chain names.
    pub node: Arc<str>,
}

impl Db {
    /// Starts a write transaction holding the write lock from the first statement, so it
    /// can never fail halfway when a read turns into a write.
    pub async fn begin(&self) -> Result<Tx> {
        Tx::begin(&self.writer).await
    }

    /// The writer connection, for a single statement outside a transaction.
    pub async fn write(&self) -> Result<Conn> {
        self.writer.lock().await
    }

    /// A read connection.
    pub async fn read(&self) -> Result<Conn> {
        self.readers.lock().await
    }
}

/// Several writes sent to SQLite as one query: one round trip to the writer
/// connection's thread instead of one per statement. Each round trip is two thread
/// hand-offs, and under load those cost more than the statements (a group commit of 30
/// proposals spent more time in them than in SQLite). SQLite runs the statements in
/// order and sqlx binds each its own parameters; the first error stops the rest, and the
/// caller's transaction then rolls back.
#[derive(Default)]
pub(crate) struct Writes {
    q: QueryBuilder<Sqlite>,
    statements: usize,
}

impl std::fmt::Debug for Writes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writes")
            .field("sql", &self.q.sql())
            .finish_non_exhaustive()
    }
}

impl Writes {
    /// Starts the next statement with `sql`; push its values and bindings onto the result.
    pub fn statement(&mut self, sql: &str) -> &mut QueryBuilder<Sqlite> {
        if self.statements > 0 {
            self.q.push(";\n");
        }
        self.statements += 1;
        self.q.push(sql);
        &mut self.q
    }

    /// Runs the writes and commits, in one round trip.
    pub async fn commit(mut self, mut tx: Tx) -> Result<()> {
        self.statement("COMMIT");
        self.q
            .build()
            .persistent(false)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.committed();
        Ok(())
    }

    pub async fn run(mut self, tx: &mut Tx) -> Result<()> {
        if self.statements == 0 {
            return Ok(());
        }
        // The text changes with every batch size: caching it would only evict the
        // statements that do repeat.
        self.q
            .build()
            .persistent(false)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }
}

/// Turns database errors into [`StoreError::Backend`]; the detail is for logs.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(backend)
    }
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A unique violation becomes `Duplicate(what)`; anything else a backend error.
pub(crate) fn duplicate_or_backend(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what()),
        _ => backend(e),
    }
}

/// Rows per multi-row statement for a table of `columns` columns.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns).max(1)
}

/// Narrows a listing to the teams a caller may see (`None`: every team) and to one team.
/// Returns false when the caller sees no team at all, so nothing can match.
pub(crate) fn push_team_scope(
    q: &mut QueryBuilder<Sqlite>,
    visible: Option<&[uuid::Uuid]>,
    team: Option<uuid::Uuid>,
) -> bool {
    if let Some(teams) = visible {
        if teams.is_empty() {
            return false;
        }
        q.push(" AND team_id IN (");
        let mut s = q.separated(", ");
        for t in teams {
            s.push_bind(t.to_string());
        }
        q.push(")");
    }
    if let Some(t) = team {
        q.push(" AND team_id = ").push_bind(t.to_string());
    }
    true
}

/// Caps a page size: at least one row, at most 500.
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 500))
}
