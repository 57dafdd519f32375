//! The store conformance suite on a real SQLite file in a temporary directory.

use std::sync::Arc;

use interlock_store::Store;
use interlock_store_sqlite::SqliteStore;

interlock_store::conformance_tests!(async {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("interlock.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("open the database");
    store.migrate().await.expect("migrate");
    (Arc::new(store) as Arc<dyn Store>, dir)
});
