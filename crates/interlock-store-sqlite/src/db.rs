//! The connections, transactions, and the one place where database errors become
//! [`StoreError`]s.

use std::sync::Arc;

use interlock_store::Result;
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
    /// Copies the WAL into the database beside the writer, while the store lives.
    pub checkpointer: Arc<crate::connect::Checkpointer>,
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
///
/// Statements added with [`Writes::rows`] have a constant text and take their rows as
/// one JSON parameter: SQLite parses such a query once and keeps it prepared, where a
/// multi-row statement is parsed again for every batch size (parsing was a third of
/// the writer's time for transitions).
pub(crate) struct Writes {
    q: QueryBuilder<Sqlite>,
    statements: usize,
    /// Whether every statement so far has a constant text, so the query is worth keeping
    /// prepared.
    constant: bool,
}

impl Default for Writes {
    fn default() -> Self {
        Writes {
            q: QueryBuilder::default(),
            statements: 0,
            constant: true,
        }
    }
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
        self.constant = false;
        self.start(sql)
    }

    /// Adds a constant statement whose one parameter, its only `?`, is `rows`: a JSON
    /// array it reads with `jsonb_each(?)` (see [`json_rows`]). Skipped without rows.
    pub fn rows(&mut self, sql: &'static str, rows: Option<String>) {
        let Some(rows) = rows else { return };
        let (before, after) = sql.split_once('?').unwrap_or((sql, ""));
        debug_assert!(!after.contains('?'), "one parameter: {sql}");
        self.start(before).push_bind(rows).push(after);
    }

    fn start(&mut self, sql: &str) -> &mut QueryBuilder<Sqlite> {
        if self.statements > 0 {
            self.q.push(";\n");
        }
        self.statements += 1;
        self.q.push(sql);
        &mut self.q
    }

    /// Runs the writes and commits, in one round trip.
    pub async fn commit(mut self, mut tx: Tx) -> Result<()> {
        self.start("COMMIT");
        self.q
            .build()
            .persistent(self.constant)
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
        // A text that changes with every batch size is not kept: it would only evict
        // the statements that do repeat.
        self.q
            .build()
            .persistent(self.constant)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }
}

pub(crate) use interlock_store_sql::errors::{DbResult, backend, duplicate_or_backend};

/// `items` as a JSON array for [`Writes::rows`] or a `jsonb_each(?)` parameter: each item
/// serializes to an object whose fields the statement reads with `value ->> 'name'`.
/// `None` when there are none.
pub(crate) fn json_rows<T: serde::Serialize>(items: &[T]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    // Plain data (strings, numbers, options) always serializes.
    serde_json::to_string(items).ok()
}

/// Rows per multi-row statement for a table of `columns` columns.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_BINDS / columns).max(1)
}

/// True when the database answers.
pub(crate) async fn ping(db: &Db) -> Result<()> {
    sqlx::query("SELECT 1")
        .execute(&mut *db.read().await?)
        .await
        .db()?;
    Ok(())
}
