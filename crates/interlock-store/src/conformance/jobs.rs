//! The durable job queue: due-only claims, leases, rescue.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;

use super::fixtures::*;
use crate::*;

fn job(kind: JobKind, run_at_secs: i64) -> NewJob {
    NewJob {
        kind,
        subject: Uuid::now_v7(),
        run_at: t(run_at_secs),
    }
}

pub async fn only_due_jobs_are_claimed_oldest_first_up_to_the_limit(store: Arc<dyn Store>) {
    let jobs = vec![
        job(JobKind::Timer, 30),
        job(JobKind::Execute, 10),
        job(JobKind::PlanCheck, 20),
        job(JobKind::Timer, 10),
        job(JobKind::Timer, 99),
    ];
    store.enqueue_jobs(jobs.clone()).await.unwrap();

    let first = store.claim_jobs(t(30), "w1", t(1000), 2).await.unwrap();
    assert_eq!(first.len(), 2, "the limit holds");
    // Both due at t(10), in insertion (id) order.
    assert_eq!(
        first.iter().map(|j| j.subject).collect::<Vec<_>>(),
        vec![jobs[1].subject, jobs[3].subject]
    );
    assert!(first[0].id < first[1].id);
    for j in &first {
        assert_eq!(j.claimed_by, "w1");
        assert_eq!(j.lease_until, t(1000));
        assert_eq!(j.attempt, 1);
        assert_eq!(j.run_at, t(10));
    }
    let rest = store.claim_jobs(t(30), "w1", t(1000), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|j| j.subject).collect::<Vec<_>>(),
        vec![jobs[2].subject, jobs[0].subject]
    );
    assert_eq!(rest[0].kind, JobKind::PlanCheck);
    assert!(
        store
            .claim_jobs(t(98), "w1", t(1000), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing else is due"
    );
    assert!(
        store
            .claim_jobs(t(99), "w1", t(1000), 0)
            .await
            .unwrap()
            .is_empty(),
        "a limit of 0 claims nothing"
    );
    assert_eq!(
        store
            .claim_jobs(t(99), "w1", t(1000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn concurrent_claimers_never_get_the_same_job(store: Arc<dyn Store>) {
    let jobs: Vec<NewJob> = (0..200).map(|i| job(JobKind::Execute, i % 7)).collect();
    store.enqueue_jobs(jobs.clone()).await.unwrap();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut mine = Vec::new();
                loop {
                    let got = store.claim_jobs(t(100), &worker, t(1000), 7).await.unwrap();
                    if got.is_empty() {
                        break mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for w in workers {
        for j in w.await.expect("the worker ran") {
            total += 1;
            assert!(seen.insert(j.id), "job {} was claimed twice", j.id);
            assert_eq!(j.attempt, 1);
        }
    }
    assert_eq!(total, 200, "every job was claimed exactly once");
    let subjects: HashSet<Uuid> = jobs.iter().map(|j| j.subject).collect();
    assert_eq!(subjects.len(), 200);
}

pub async fn only_the_worker_holding_a_job_may_finish_or_reschedule_it(store: Arc<dyn Store>) {
    store
        .enqueue_jobs(vec![job(JobKind::Execute, 0), job(JobKind::Execute, 0)])
        .await
        .unwrap();
    let claimed = store.claim_jobs(t(0), "w1", t(1000), 10).await.unwrap();
    let (a, b) = (&claimed[0], &claimed[1]);

    assert!(
        !store.finish_job(a.id, "w2").await.unwrap(),
        "another worker cannot finish it"
    );
    assert!(!store.reschedule_job(a.id, "w2", t(50)).await.unwrap());
    assert!(store.finish_job(a.id, "w1").await.unwrap());
    assert!(
        !store.finish_job(a.id, "w1").await.unwrap(),
        "a finished job stays finished"
    );
    assert!(!store.reschedule_job(a.id, "w1", t(50)).await.unwrap());
    assert!(
        !store.finish_job(987_654, "w1").await.unwrap(),
        "an unknown job"
    );

    assert!(store.reschedule_job(b.id, "w1", t(50)).await.unwrap());
    assert!(
        !store.finish_job(b.id, "w1").await.unwrap(),
        "a rescheduled job is no longer held"
    );
    assert_eq!(store.next_job_due().await.unwrap(), Some(t(50)));
    let again = store.claim_jobs(t(50), "w2", t(1000), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, again[0].attempt, again[0].claimed_by.as_str()),
        (b.id, 2, "w2")
    );
}

pub async fn jobs_whose_lease_ran_out_are_rescued_and_can_be_claimed_again(store: Arc<dyn Store>) {
    store
        .enqueue_jobs(vec![job(JobKind::Timer, 0), job(JobKind::Timer, 0)])
        .await
        .unwrap();
    let short = store.claim_jobs(t(0), "dead", t(100), 1).await.unwrap();
    let long = store.claim_jobs(t(0), "alive", t(500), 1).await.unwrap();
    assert_eq!((short.len(), long.len()), (1, 1));

    assert_eq!(
        store.rescue_expired_jobs(t(100)).await.unwrap(),
        0,
        "a lease is good until it ends"
    );
    assert_eq!(store.rescue_expired_jobs(t(101)).await.unwrap(), 1);
    assert!(
        !store.finish_job(short[0].id, "dead").await.unwrap(),
        "the dead worker lost its claim"
    );
    let taken = store.claim_jobs(t(0), "alive", t(900), 10).await.unwrap();
    assert_eq!(
        taken.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![short[0].id]
    );
    assert_eq!(taken[0].attempt, 2);
    assert!(
        store.finish_job(long[0].id, "alive").await.unwrap(),
        "a live lease is untouched"
    );
}

pub async fn a_restarted_worker_gets_back_only_its_own_claims(store: Arc<dyn Store>) {
    store
        .enqueue_jobs(vec![job(JobKind::Execute, 0), job(JobKind::Execute, 0)])
        .await
        .unwrap();
    let mine = store.claim_jobs(t(0), "node-a", t(1000), 1).await.unwrap();
    let theirs = store.claim_jobs(t(0), "node-b", t(1000), 1).await.unwrap();
    assert_eq!(store.release_claims_of("node-a").await.unwrap(), 1);
    assert!(
        !store.finish_job(mine[0].id, "node-a").await.unwrap(),
        "released"
    );
    assert!(
        store.finish_job(theirs[0].id, "node-b").await.unwrap(),
        "another node's claim stays"
    );
    let again = store.claim_jobs(t(0), "node-a", t(2000), 10).await.unwrap();
    assert_eq!(
        again.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![mine[0].id]
    );
}

pub async fn the_next_job_due_is_the_earliest_ready_one(store: Arc<dyn Store>) {
    assert_eq!(store.next_job_due().await.unwrap(), None);
    store
        .enqueue_jobs(vec![job(JobKind::Timer, 40), job(JobKind::Timer, 20)])
        .await
        .unwrap();
    assert_eq!(store.next_job_due().await.unwrap(), Some(t(20)));
    let claimed = store.claim_jobs(t(20), "w", t(1000), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        store.next_job_due().await.unwrap(),
        Some(t(40)),
        "claimed jobs are not waiting"
    );
    store.enqueue_jobs(Vec::new()).await.unwrap();
}
