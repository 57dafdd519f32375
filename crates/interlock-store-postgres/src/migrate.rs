//! Plain numbered SQL migrations, embedded in the binary. Nodes that start together
//! take turns: the first holds an advisory lock while it migrates, the others wait for
//! it and then find nothing left to do. A database migrated by a newer Interlock is
//! refused rather than used with a schema this build does not know.

use interlock_store::{Result, StoreError};
use sqlx::Connection as _;

use crate::db::{Db, DbResult};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Never edit one that has landed: add the next file.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "notify",
        sql: include_str!("../migrations/0002_notify.sql"),
    },
    Migration {
        version: 3,
        name: "connectors_changed",
        sql: include_str!("../migrations/0003_connectors_changed.sql"),
    },
];

/// The advisory lock key migrations hold ("ILCKMIGR" as a number).
const MIGRATION_LOCK: i64 = 0x494C_434B_4D49_4752;

pub(crate) async fn run(db: &Db) -> Result<()> {
    let mut conn = db.pool.acquire().await.db()?;
    // A session lock, held across the migrations' own transactions and released
    // explicitly (or by the connection's end, should this node die meanwhile).
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .db()?;
    let result = migrate(&mut conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .db();
    result.and(unlocked.map(|_| ()))
}

async fn migrate(conn: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     BIGINT NOT NULL PRIMARY KEY,
            name        TEXT   NOT NULL,
            applied_at  BIGINT NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await
    .db()?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = newest.filter(|&v| v > known) {
        return Err(StoreError::Backend(format!(
            "the database schema is at version {newest}, newer than this build of Interlock \
             knows ({known}); upgrade Interlock"
        )));
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| newest.is_none_or(|n| m.version > n))
    {
        let mut tx = conn.begin().await.db()?;
        sqlx::raw_sql(m.sql).execute(&mut *tx).await.db()?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)",
        )
        .bind(m.version)
        .bind(m.name)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
    }
    Ok(())
}
