//! A tiny migration runner: plain numbered SQL files, embedded in the binary, applied in
//! order, each in its own transaction together with its row in `schema_migrations`.
//! Running it again applies nothing; a database migrated by a newer Interlock is refused
//! rather than used with a schema this build does not know.

use interlock_store::{Result, StoreError};

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
        name: "people",
        sql: include_str!("../migrations/0002_people.sql"),
    },
    Migration {
        version: 3,
        name: "notify",
        sql: include_str!("../migrations/0003_notify.sql"),
    },
];

pub(crate) async fn run(db: &Db) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER NOT NULL PRIMARY KEY,
            name        TEXT    NOT NULL,
            applied_at  INTEGER NOT NULL
        )",
    )
    .execute(&mut *db.write().await?)
    .await
    .db()?;

    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *db.write().await?)
        .await
        .db()?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = newest.filter(|&v| v > known) {
        return Err(StoreError::Backend(format!(
            "the database schema is at version {newest}, newer than this build of Interlock \
             knows ({known}); upgrade Interlock"
        )));
    }

    for m in MIGRATIONS {
        let mut tx = db.begin().await?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if applied.is_some() {
            continue;
        }
        sqlx::raw_sql(m.sql).execute(&mut *tx).await.db()?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))",
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

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn migrations_are_numbered_one_by_one_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version,
                i as i64 + 1,
                "migration {} is out of order",
                m.name
            );
        }
    }
}
