//! Throwaway databases for tests: each test run gets a database of its own on the
//! PostgreSQL server named by `INTERLOCK_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), never shared tables, dropped when the
//! handle is dropped. `scripts/test` makes sure a server is reachable.

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The server tests use, as an URL of a database on it that exists (`postgres`).
pub fn server_url() -> String {
    std::env::var("INTERLOCK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database; dropped (with any connections still open to it) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates `interlock_test_<random>` on the test server. Panics with a clear
    /// message when no server answers: these tests need a real PostgreSQL.
    pub async fn create() -> TestDatabase {
        let server = server_url();
        let name = format!("interlock_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!(
                "no PostgreSQL at {server} ({e}); start one (scripts/test does) or set \
                 INTERLOCK_TEST_POSTGRES_URL"
            )
        });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        TestDatabase {
            url: with_database(&server, &name),
            name,
            server,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside async; a thread of its own runs the statement to completion.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&server).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
    }
}

/// `url` with its database replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_database_name_replaces_the_one_in_the_url_and_keeps_the_options() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
