//! The pools, transactions, and the one place where database errors become
//! [`StoreError`]s.

use std::sync::Arc;

use interlock_store::{Result, StoreError};
use sqlx::{Sqlite, SqlitePool, Transaction};

/// A write transaction on the single writer connection.
pub(crate) type Tx = Transaction<'static, Sqlite>;

/// SQLite's limit on bound parameters per statement is 32766; multi-row statements are
/// split to stay well below it.
pub(crate) const MAX_BINDS: usize = 30_000;

#[derive(Debug, Clone)]
pub(crate) struct Db {
    /// Exactly one connection: SQLite has one writer, and queueing here is cheaper than
    /// retrying on `SQLITE_BUSY`.
    pub writer: SqlitePool,
    /// Several connections; in WAL mode readers never wait for the writer.
    pub reader: SqlitePool,
    /// The node name in this store's audit chain names.
    pub node: Arc<str>,
}

impl Db {
    /// Starts a write transaction holding the write lock from the first statement, so it
    /// can never fail halfway when a read turns into a write.
    pub async fn begin(&self) -> Result<Tx> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.db()
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

/// Caps a page size: at least one row, at most 500.
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 500))
}
