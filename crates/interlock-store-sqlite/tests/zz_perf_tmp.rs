use interlock_store::Store;
use interlock_store::conformance::fixtures::*;
use interlock_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn perf() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("p.db").to_str().unwrap())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let team = team(&*store, "support").await;
    for batch_size in [1usize, 10, 100, 500] {
        let n = if batch_size == 1 { 500 } else { 20_000 };
        let batches: Vec<Vec<_>> = (0..n / batch_size)
            .map(|_| {
                (0..batch_size)
                    .map(|_| armed_proposal(armed(team.id)))
                    .collect()
            })
            .collect();
        let start = Instant::now();
        for b in batches {
            store.insert_actions(b).await.unwrap();
        }
        let el = start.elapsed();
        println!(
            "batch {batch_size}: {n} in {el:?} = {:.0}/s",
            n as f64 / el.as_secs_f64()
        );
    }
    let start = Instant::now();
    let n = interlock_store::audit::verify_all(&*store)
        .await
        .unwrap()
        .unwrap();
    println!("verify {n} entries in {:?}", start.elapsed());
    let start = Instant::now();
    let p = store
        .list_actions(&Default::default(), None, 100)
        .await
        .unwrap();
    println!("list 100 in {:?} ({})", start.elapsed(), p.items.len());
}
