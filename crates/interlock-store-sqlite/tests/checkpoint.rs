//! Committed pages reach the database file beside the writer: the writer leaves the
//! copying out of the WAL to a checkpointer of its own until the WAL is large (see
//! `connect.rs`), so a store that only writes a little still gets its file up to date.

use std::time::{Duration, Instant};

use interlock_store::Store;
use interlock_store::conformance::fixtures::*;
use interlock_store_sqlite::SqliteStore;

#[tokio::test]
async fn the_checkpointer_copies_committed_pages_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("interlock.db");
    let store = SqliteStore::open(file.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    let support = team(&store, "support").await;
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // Let whatever migrating wrote settle, then write far fewer pages than the writer's
    // own threshold (10,000): only the checkpointer can bring them into the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = size();
    let proposals = (0..500)
        .map(|_| armed_proposal(armed(support.id)))
        .collect();
    store.insert_actions(proposals).await.unwrap();

    let started = Instant::now();
    while size() < before + 200 * 1024 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the database file stayed at {} bytes (was {before}): nothing was checkpointed",
            size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What was copied reads back whole.
    let listed = store
        .list_actions(&Default::default(), None, 1000)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 500);
}
