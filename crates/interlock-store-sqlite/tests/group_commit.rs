//! Transitions that arrive together are written together (one transaction per batch, see
//! `transitions.rs`). Batching must not change what each caller sees: every change gets
//! its own answer, of two racing changes to one action exactly one wins, more changes
//! than fit in one batch are all written, and the audit trail stays one valid chain.

use std::sync::Arc;

use interlock_store::audit::verify_all;
use interlock_store::conformance::fixtures::*;
use interlock_store::{ActionChange, ActionRecord, Inserted, Store, StoreError};
use interlock_store_sqlite::SqliteStore;

fn hold(a: &ActionRecord, who: &str) -> ActionChange {
    ActionChange {
        audit: vec![draft(
            Some(a.team_id),
            &member(who),
            &a.id.to_string(),
            "action.held",
        )],
        ..change(a, state(a).hold(a.version).unwrap(), t(60))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_hundred_concurrent_holds_on_three_hundred_actions_each_win_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("interlock.db").to_str().unwrap())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let support = team(&*store, "support").await;
    let proposals = (0..300)
        .map(|_| armed_proposal(armed(support.id)))
        .collect();
    let actions: Vec<ActionRecord> = store
        .insert_actions(proposals)
        .await
        .unwrap()
        .into_iter()
        .map(|i| match i {
            Inserted::Created(a) | Inserted::Existing(a) => a,
        })
        .collect();

    let entries_before = verify_all(&*store).await.unwrap().unwrap();

    // Two holds per action, all at once: more than one batch (256) can take.
    let tasks: Vec<_> = actions
        .iter()
        .flat_map(|a| [hold(a, "first"), hold(a, "second")])
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move { store.apply_change(c).await })
        })
        .collect();
    let (mut wins, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(held) => {
                assert_eq!(held.version, 2);
                wins += 1;
            }
            Err(StoreError::Conflict(now)) => {
                assert_eq!(now.version, 2, "the loser sees the winner's change");
                conflicts += 1;
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((wins, conflicts), (300, 300));
    for a in &actions {
        let now = store.action(a.id).await.unwrap().unwrap();
        assert_eq!(now.version, 2, "held exactly once");
    }
    assert_eq!(
        verify_all(&*store).await.unwrap(),
        Ok(entries_before + 300),
        "one entry per hold that won, in one valid chain"
    );
}
