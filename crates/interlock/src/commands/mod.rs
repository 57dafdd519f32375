pub mod admin;
pub mod audit;
pub mod bench;
pub mod notify;
pub mod people;
pub mod rules;
pub mod serve;

use std::sync::Arc;

use interlock_store::{Actor, Store};
use interlock_store_sqlite::SqliteStore;

/// Opens (and migrates) the database a command works on.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            anyhow::bail!("PostgreSQL is not supported by this build yet; use a sqlite:// database")
        } else {
            Arc::new(
                SqliteStore::open(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot open the database {url}: {e}"))?,
            )
        };
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database: {e}"))?;
    Ok(store)
}

/// Who did it, in the audit trail, when it was done from the command line.
pub fn cli_actor() -> Actor {
    Actor::system("cli")
}

/// Turns an API-level refusal into the CLI's refusal (code and message).
pub fn refusal(e: interlock_server::error::ApiError) -> anyhow::Error {
    crate::Refusal::new(e.code, e.message).into()
}
