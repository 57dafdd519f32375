//! The store conformance suite on a real PostgreSQL: a fresh database per test.

use std::sync::Arc;

use interlock_store::Store;
use interlock_store_postgres::PgStore;
use interlock_store_postgres::testing::TestDatabase;

interlock_store::conformance_tests!(async {
    let db = TestDatabase::create().await;
    let store = PgStore::open(&db.url, "test-node")
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate");
    (Arc::new(store) as Arc<dyn Store>, db)
});
