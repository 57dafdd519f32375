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

pub(crate) use interlock_store_sql::errors::{DbResult, backend, duplicate_or_backend};

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
