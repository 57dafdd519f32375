//! The connection pool and what every module needs to write in a transaction.

use std::sync::Arc;

use sqlx::{PgPool, Postgres};

pub(crate) use interlock_store_sql::errors::{DbResult, duplicate_or_backend};

/// Connections per node. A node mostly writes in group-committed batches (a few
/// connections busy at a time); the rest serve reads and long polls.
pub(crate) const POOL_SIZE: u32 = 16;

pub(crate) type Tx = sqlx::Transaction<'static, Postgres>;

#[derive(Debug, Clone)]
pub(crate) struct Db {
    pub pool: PgPool,
    /// For the listener's own connection.
    pub url: Arc<str>,
    /// The node name in this store's audit chain names.
    pub node: Arc<str>,
    /// Transitions waiting for their group commit.
    pub changes: Arc<crate::transitions::ChangeQueue>,
}

impl Db {
    pub async fn begin(&self) -> interlock_store::Result<Tx> {
        self.pool.begin().await.db()
    }
}

/// True when the database answers.
pub(crate) async fn ping(db: &Db) -> interlock_store::Result<()> {
    sqlx::query("SELECT 1").execute(&db.pool).await.db()?;
    Ok(())
}
