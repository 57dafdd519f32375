//! A temporary directory holding one SQLite database (or, for cluster tests, naming a
//! fresh PostgreSQL database) and whatever files a test writes.

use std::path::{Path, PathBuf};

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::cli::{Ran, interlock};

#[derive(Debug)]
pub struct TestDb {
    dir: tempfile::TempDir,
    /// `sqlite://…/interlock.db` or `postgres://…`, as the binary takes it.
    pub url: String,
    /// The PostgreSQL database, dropped with this.
    pg: Option<interlock_store_postgres::testing::TestDatabase>,
}

/// A team `support` made from the command line, with keys for it.
#[derive(Debug)]
pub struct Deployment {
    pub db: TestDb,
    /// An agent key of team `support`.
    pub agent: String,
    /// A deployment-wide admin key.
    pub admin: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("interlock.db").display());
        TestDb { dir, url, pg: None }
    }

    /// A fresh database on the test PostgreSQL server (see
    /// `interlock_store_postgres::testing`).
    pub async fn postgres() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let pg = interlock_store_postgres::testing::TestDatabase::create().await;
        TestDb {
            dir,
            url: pg.url.clone(),
            pg: Some(pg),
        }
    }

    /// A direct connection to the PostgreSQL database, for looking underneath the nodes.
    pub async fn pg(&self) -> sqlx::PgConnection {
        let url = &self.pg.as_ref().expect("a PostgreSQL test database").url;
        sqlx::PgConnection::connect(url)
            .await
            .expect("the test database opens")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `interlock ARGS… --database URL`.
    pub fn cli(&self, args: &[&str]) -> Ran {
        interlock(args.iter().copied().chain(["--database", &self.url]))
    }

    /// Writes a file next to the database and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("writing a test file");
        path
    }

    /// A direct connection to the file, for looking underneath the binary (and, in the
    /// audit tests, for tampering with it).
    pub async fn sql(&self) -> SqliteConnection {
        let options = SqliteConnectOptions::new().filename(self.dir.path().join("interlock.db"));
        SqliteConnection::connect_with(&options)
            .await
            .expect("the test database opens")
    }

    /// Creates a key from the command line and returns the token it printed.
    pub fn key(&self, args: &[&str]) -> String {
        let ran = self.cli(&[&["key", "create"], args].concat()).ok();
        ran.stdout.trim().to_owned()
    }
}

impl Deployment {
    /// Team `support` with `rules` saved as its next version, an agent and an admin
    /// key: all done from the command line, before any server runs.
    pub fn with_rules(rules: &serde_json::Value) -> Deployment {
        Deployment::on(TestDb::new(), rules)
    }

    /// The same deployment on `db`.
    pub fn on(db: TestDb, rules: &serde_json::Value) -> Deployment {
        db.cli(&["team", "create", "support", "--name", "Support"])
            .ok();
        let agent = db.key(&["--kind", "agent", "--team", "support"]);
        let admin = db.key(&["--kind", "admin"]);
        let file = db.write("rules.json", &rules.to_string());
        db.cli(&["rules", "set", "--team", "support", file.to_str().unwrap()])
            .ok();
        Deployment { db, agent, admin }
    }
}
