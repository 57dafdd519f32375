//! SPEC §11: `interlock audit verify` on the SQLite file itself. An intact trail passes
//! with its count; an entry edited, removed from the middle, or removed from the end of
//! its chain is found and named.

use sqlx::Row;

use crate::common::cli::Ran;
use crate::common::db::TestDb;
use crate::common::worked_example_path;

/// A trail written from the command line: teams, keys and a rule change.
fn audited() -> TestDb {
    let db = TestDb::new();
    for (slug, name) in [("support", "Support"), ("sales", "Sales")] {
        db.cli(&["team", "create", slug, "--name", name]).ok();
    }
    db.key(&["--kind", "admin"]);
    db.key(&["--kind", "agent", "--team", "support"]);
    db.cli(&[
        "rules",
        "set",
        "--team",
        "support",
        worked_example_path().to_str().unwrap(),
    ])
    .ok();
    db
}

/// The chain with the most entries, and how many it has (at least three, so it has a
/// middle).
async fn longest_chain(db: &TestDb) -> (String, i64) {
    let mut sql = db.sql().await;
    let row = sqlx::query(
        "SELECT chain, COUNT(*) AS n FROM audit GROUP BY chain ORDER BY n DESC, chain LIMIT 1",
    )
    .fetch_one(&mut sql)
    .await
    .unwrap();
    let (chain, n): (String, i64) = (row.get("chain"), row.get("n"));
    assert!(n >= 3, "chain {chain} has only {n} entries");
    (chain, n)
}

/// Runs one statement against the file and checks it touched exactly one row.
async fn tamper(db: &TestDb, statement: &'static str, chain: &str, seq: i64) {
    let mut sql = db.sql().await;
    let done = sqlx::query(statement)
        .bind(chain)
        .bind(seq)
        .execute(&mut sql)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{statement}");
}

#[track_caller]
fn assert_broken(ran: &Ran, chain: &str, entry: i64, why: &str) {
    let err = &ran.stderr;
    assert!(err.contains("error[audit_chain_broken]"), "{err}");
    assert!(err.contains(&format!("chain {chain} ")), "{err}");
    assert!(err.contains(&format!("at entry {entry}:")), "{err}");
    assert!(err.contains(why), "{err}");
}

#[tokio::test]
async fn audit_verify_passes_an_intact_trail_and_prints_how_many_entries_it_checked() {
    let db = audited();
    let mut sql = db.sql().await;
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    let ran = db.cli(&["audit", "verify"]).ok();
    assert_eq!(
        ran.stdout.trim(),
        format!("audit trail intact: {entries} entries verified")
    );
}

#[tokio::test]
async fn audit_verify_names_the_chain_and_entry_whose_data_was_edited_in_the_file() {
    let db = audited();
    let (chain, _) = longest_chain(&db).await;
    tamper(
        &db,
        "UPDATE audit SET data = json_set(data, '$.edited', 'by hand') WHERE chain = ? AND seq = ?",
        &chain,
        2,
    )
    .await;
    let ran = db.cli(&["audit", "verify"]).refused();
    assert_broken(&ran, &chain, 2, "altered");
}

#[tokio::test]
async fn audit_verify_fails_when_an_entry_in_the_middle_of_a_chain_was_deleted() {
    let db = audited();
    let (chain, _) = longest_chain(&db).await;
    tamper(
        &db,
        "DELETE FROM audit WHERE chain = ? AND seq = ?",
        &chain,
        2,
    )
    .await;
    let ran = db.cli(&["audit", "verify"]).refused();
    assert_broken(&ran, &chain, 3, "removed");
}

#[tokio::test]
async fn audit_verify_fails_when_the_last_entry_of_a_chain_was_deleted() {
    let db = audited();
    let (chain, last) = longest_chain(&db).await;
    tamper(
        &db,
        "DELETE FROM audit WHERE chain = ? AND seq = ?",
        &chain,
        last,
    )
    .await;
    let ran = db.cli(&["audit", "verify"]).refused();
    assert_broken(&ran, &chain, last, "removed");
}
