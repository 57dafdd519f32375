pub mod admin;
pub mod audit;
pub mod bench;
pub mod notify;
pub mod people;
pub mod rules;
pub mod serve;

use std::sync::Arc;

use interlock_store::hints::HintBus;
use interlock_store::{Actor, Store};
use interlock_store_postgres::{NodeName, PgStore, is_postgres_url};
use interlock_store_sqlite::SqliteStore;

/// The node name CLI commands write their audit entries under on PostgreSQL (on SQLite
/// there is one chain per team, shared with the server).
const CLI_NODE: &str = "cli";

/// Opens (and migrates) the database a command works on.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_node(url, CLI_NODE, false).await?.store)
}

/// A store opened as one node: on PostgreSQL, a serving node also holds its name and
/// hears the other nodes.
#[derive(Debug)]
pub struct Node {
    pub store: Arc<dyn Store>,
    pub cluster: Option<Arc<dyn HintBus>>,
    /// Held as long as the node runs.
    pub name: Option<NodeName>,
}

pub async fn open_node(url: &str, node: &str, serving: bool) -> anyhow::Result<Node> {
    let opened =
        |e: interlock_store::StoreError| anyhow::anyhow!("cannot open the database {url}: {e}");
    let mut cluster: Option<Arc<dyn HintBus>> = None;
    let mut name = None;
    let store: Arc<dyn Store> = if is_postgres_url(url) {
        let store = PgStore::open(url, node).await.map_err(opened)?;
        if serving {
            name = Some(store.hold_node_name().await.map_err(opened)?);
            cluster = Some(Arc::new(store.hints().await.map_err(opened)?));
        }
        Arc::new(store)
    } else {
        Arc::new(SqliteStore::open(url).await.map_err(opened)?)
    };
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database: {e}"))?;
    Ok(Node {
        store,
        cluster,
        name,
    })
}

/// Who did it, in the audit trail, when it was done from the command line.
pub fn cli_actor() -> Actor {
    Actor::system("cli")
}

/// Turns an API-level refusal into the CLI's refusal (code and message).
pub fn refusal(e: interlock_server::error::ApiError) -> anyhow::Error {
    crate::Refusal::new(e.code, e.message).into()
}
