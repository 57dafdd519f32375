//! One running process per node name. A starting node takes back the jobs its name
//! still holds (they were left by its previous run), so two live processes under one
//! name would take each other's work. Each serving node therefore holds a session
//! advisory lock on its name for as long as it runs; a second process under the same
//! name is refused. The lock goes with the connection, so a node that dies (even by
//! SIGKILL) frees its name as soon as PostgreSQL sees the connection close.

use interlock_store::{Result, StoreError};
use interlock_store_sql::errors::DbResult;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// Held while the node runs; dropping it (or the process ending) frees the name.
#[derive(Debug)]
pub struct NodeName {
    _conn: PgConnection,
}

pub(crate) async fn hold(url: &str, node: &str) -> Result<NodeName> {
    let mut conn = PgConnection::connect(url).await.db()?;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(1313820229, hashtext($1))")
        .bind(node)
        .fetch_one(&mut conn)
        .await
        .db()?;
    if !held {
        return Err(StoreError::Backend(format!(
            "another running node is named {node:?}; give each node its own name (--node)"
        )));
    }
    Ok(NodeName { _conn: conn })
}
