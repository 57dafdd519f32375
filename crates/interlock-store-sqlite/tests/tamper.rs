//! `audit::verify_all` catches a trail edited behind Interlock's back: the database file
//! is changed with raw SQL through a connection of its own, as an intruder would.

use std::sync::Arc;

use interlock_store::audit::{ChainBreak, verify_all};
use interlock_store::conformance::fixtures::*;
use interlock_store::{ActionChange, Store};
use interlock_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use tempfile::TempDir;

/// A store with a short trail: a team, three proposals, a hold. Returns the store, its
/// directory, the database URL and the team's chain name.
async fn populated() -> (Arc<dyn Store>, TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("interlock.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let support = team(&*store, "support").await;
    let mut first = None;
    for _ in 0..3 {
        let a = insert(&*store, armed_proposal(armed(support.id))).await;
        first.get_or_insert(a);
    }
    let a = first.unwrap();
    let hold = ActionChange {
        audit: vec![draft(
            Some(support.id),
            &member("m"),
            &a.id.to_string(),
            "action.held",
        )],
        ..change(&a, state(&a).hold(a.version).unwrap(), t(60))
    };
    store.apply_change(hold).await.unwrap();
    assert_eq!(
        verify_all(&*store).await.unwrap(),
        Ok(5),
        "the untouched trail verifies"
    );
    let chain = format!("{}/local", support.id);
    (store, dir, url, chain)
}

async fn tamper(url: &str, sql: &str, chain: &str) {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    let changed = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(chain)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1, "the tampering changed one row");
    conn.close().await.unwrap();
}

async fn broken(store: &dyn Store) -> ChainBreak {
    verify_all(store)
        .await
        .unwrap()
        .expect_err("the tampering is detected")
}

#[tokio::test]
async fn an_edited_entry_is_detected() {
    let (store, _dir, url, chain) = populated().await;
    tamper(
        &url,
        r#"UPDATE audit SET data = '{"approved":true}' WHERE chain = ? AND seq = 2"#,
        &chain,
    )
    .await;
    let b = broken(&*store).await;
    assert_eq!((b.chain.as_str(), b.seq), (chain.as_str(), 2), "{b:?}");
    assert!(b.problem.contains("altered"), "{b:?}");
}

#[tokio::test]
async fn an_entry_removed_from_the_middle_is_detected() {
    let (store, _dir, url, chain) = populated().await;
    tamper(
        &url,
        "DELETE FROM audit WHERE chain = ? AND seq = 2",
        &chain,
    )
    .await;
    let b = broken(&*store).await;
    assert_eq!((b.chain.as_str(), b.seq), (chain.as_str(), 3), "{b:?}");
    assert!(b.problem.contains("removed"), "{b:?}");
}

#[tokio::test]
async fn an_entry_removed_from_the_end_is_detected() {
    let (store, _dir, url, chain) = populated().await;
    tamper(
        &url,
        "DELETE FROM audit WHERE chain = ? AND seq = 4",
        &chain,
    )
    .await;
    let b = broken(&*store).await;
    assert_eq!(b.chain, chain, "{b:?}");
    assert!(b.problem.contains("recorded head"), "{b:?}");
}

#[tokio::test]
async fn a_removed_chain_head_is_detected() {
    let (store, _dir, url, chain) = populated().await;
    tamper(&url, "DELETE FROM audit_heads WHERE chain = ?", &chain).await;
    let b = broken(&*store).await;
    assert_eq!(b.chain, chain, "{b:?}");
}

#[tokio::test]
async fn an_entry_rehashed_after_editing_breaks_the_next_link() {
    let (store, _dir, url, chain) = populated().await;
    // Changing an entry's hash along with its data (as a careful intruder would) breaks
    // the link from the entry after it.
    tamper(
        &url,
        "UPDATE audit SET hash = lower(hex(randomblob(32))) WHERE chain = ? AND seq = 2",
        &chain,
    )
    .await;
    let b = broken(&*store).await;
    assert_eq!(b.chain, chain, "{b:?}");
    assert!(b.seq == 2 || b.seq == 3, "{b:?}");
}
