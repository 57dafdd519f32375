//! The store's own connections, in place of sqlx pools. A pooled connection is pinged
//! when it goes back to its pool: one more round trip to the connection's thread after
//! every statement or transaction, and the next user waits for it. On the single writer
//! that doubled the round trips of a short transaction, and under load each one costs
//! hundreds of microseconds of waiting to be scheduled. Here a connection is simply
//! locked while in use.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use interlock_store::{Result, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// One connection, used by one task at a time (`None` once closed).
#[derive(Debug, Clone)]
pub(crate) struct Shared(Arc<Mutex<Option<SqliteConnection>>>);

impl Shared {
    pub fn new(conn: SqliteConnection) -> Shared {
        Shared(Arc::new(Mutex::new(Some(conn))))
    }

    /// Waits for the connection (tokio's mutex is fair: first come, first served).
    pub async fn lock(&self) -> Result<Conn> {
        checked(self.0.clone().lock_owned().await)
    }

    fn try_lock(&self) -> Option<Result<Conn>> {
        self.0.clone().try_lock_owned().ok().map(checked)
    }

    /// Closes the connection once its current user is done.
    pub async fn close(&self) {
        if let Some(conn) = self.0.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

fn checked(guard: OwnedMutexGuard<Option<SqliteConnection>>) -> Result<Conn> {
    if guard.is_none() {
        return Err(StoreError::Backend("the database has been closed".into()));
    }
    Ok(Conn(guard))
}

/// A connection held by one task; use `&mut *conn` as the executor.
#[derive(Debug)]
pub(crate) struct Conn(OwnedMutexGuard<Option<SqliteConnection>>);

impl Deref for Conn {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.0
            .as_ref()
            .expect("`checked` only hands out open connections")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0
            .as_mut()
            .expect("`checked` only hands out open connections")
    }
}

/// Several read connections; a reader takes a free one, or queues for the next in turn.
#[derive(Debug, Clone)]
pub(crate) struct Readers {
    conns: Arc<[Shared]>,
    next: Arc<AtomicUsize>,
}

impl Readers {
    pub fn new(conns: Vec<SqliteConnection>) -> Readers {
        Readers {
            conns: conns.into_iter().map(Shared::new).collect(),
            next: Arc::default(),
        }
    }

    pub async fn lock(&self) -> Result<Conn> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(conn) = self.conns[(start + i) % n].try_lock() {
                return conn;
            }
        }
        self.conns[start % n].lock().await
    }

    pub async fn close(&self) {
        for c in self.conns.iter() {
            c.close().await;
        }
    }
}

/// A write transaction: `BEGIN IMMEDIATE` on the writer connection, held until
/// [`Tx::commit`]. Dropped without a commit (an error, or a caller that went away), it
/// rolls back before anyone else gets the connection: the rollback runs in a task that
/// holds the connection until it is done.
#[derive(Debug)]
pub(crate) struct Tx {
    conn: Option<Conn>,
}

impl Tx {
    pub async fn begin(writer: &Shared) -> Result<Tx> {
        let mut conn = writer.lock().await?;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(crate::db::backend)?;
        Ok(Tx { conn: Some(conn) })
    }

    /// Begins, and runs the statements `then` adds in the same round trip (the reads a
    /// transaction starts with); returns the rows they produce.
    pub async fn begin_with(
        writer: &Shared,
        then: impl FnOnce(&mut QueryBuilder<Sqlite>),
    ) -> Result<(Tx, Vec<SqliteRow>)> {
        // The statements are built before the writer is taken: the writer is the one
        // thing every write waits for, so nothing that can be done without it is done
        // while holding it.
        let mut q = QueryBuilder::new("BEGIN IMMEDIATE;\n");
        then(&mut q);
        let conn = writer.lock().await?;
        let mut tx = Tx { conn: Some(conn) };
        // On an error `tx` is dropped, which rolls back whatever did begin. Callers read
        // with constant texts (their values bound as JSON), so the query stays prepared.
        let rows = q
            .build()
            .persistent(true)
            .fetch_all(&mut *tx)
            .await
            .map_err(crate::db::backend)?;
        Ok((tx, rows))
    }

    /// Marks the transaction committed by a `COMMIT` the caller ran itself (as the last
    /// statement of its writes, to save a round trip).
    pub fn committed(mut self) {
        self.conn = None;
    }

    pub async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(&mut *self).await?;
        // Committed: nothing to roll back when this is dropped.
        self.conn = None;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("an open transaction holds its connection")
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("an open transaction holds its connection")
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        // Outside a runtime (the process is ending) there is nobody left to write.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Fails harmlessly if SQLite already rolled back (e.g. on a full disk).
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            });
        }
    }
}
