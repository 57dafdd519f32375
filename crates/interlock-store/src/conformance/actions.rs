//! Proposals (group commit, idempotency) and plans.

use std::sync::Arc;

use chrono::TimeDelta;
use interlock_core::{Category, Currency, Level, Money, Reminder, ReminderKind, Status};
use serde_json::json;
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

pub async fn every_field_of_an_action_reads_back_as_written(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let plan = PlanRecord {
        id: Uuid::now_v7(),
        team_id: support.id,
        card_id: Some("card-9".to_owned()),
        summary: "Refund and apologise".to_owned(),
        proposed_by: agent("a1"),
        created_at: t(5),
    };
    store
        .insert_plan(
            plan.clone(),
            Vec::new(),
            draft(Some(support.id), &agent("a1"), "plan", "plan.proposed"),
        )
        .await
        .unwrap();
    // Every optional field set, odd numbers and text included, and an instant with
    // sub-millisecond digits (stores keep milliseconds).
    let full = ActionRecord {
        category: Category::Refund,
        payload: serde_json::from_str(
            r#"{"amount": 120.50, "precise": 0.1000000000000000055511151231257827,
                "big": 123456789012345678901234567890, "text": "ünïcødé \"quoted\" \u0000"}"#,
        )
        .unwrap(),
        original_payload: Some(json!({ "amount": "150.00" })),
        amount: Some(Money::parse("120.50", "EUR".parse::<Currency>().unwrap()).unwrap()),
        tags: vec!["vip".to_owned(), "refund".to_owned()],
        plan_id: Some(plan.id),
        plan_step: Some(2),
        after: vec![Uuid::now_v7(), Uuid::now_v7()],
        level: Level::TimeBomb,
        status: Status::Armed,
        version: 7,
        rule_set_version: 3,
        armed_at: Some(t(10) + TimeDelta::nanoseconds(123_456_789)),
        deadline: Some(t(3610)),
        reminders: vec![
            Reminder {
                kind: ReminderKind::Half,
                at: t(1810),
            },
            Reminder {
                kind: ReminderKind::FinalWarning,
                at: t(3000),
            },
        ],
        last_reminder_at: Some(t(1810)),
        idempotency_key: Some("idem-1".to_owned()),
        callback_url: Some("https://agent.example.com/callback".to_owned()),
        decided_by: Some(member("maria")),
        reason: Some("check the amount".to_owned()),
        comment: Some("ok".to_owned()),
        attempts: 2,
        last_error: Some("timeout".to_owned()),
        executed_at: Some(t(4000)),
        ..action(support.id)
    };
    let created = insert(&*store, proposal(full.clone())).await;
    let expected = ActionRecord {
        armed_at: Some(t(10) + TimeDelta::milliseconds(123)),
        ..full
    };
    assert_eq!(
        created, expected,
        "the created record is what a read returns"
    );
    assert_eq!(
        store.action(expected.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .action_by_idempotency_key(support.id, "idem-1")
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .action_by_idempotency_key(support.id, "other")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.action(Uuid::now_v7()).await.unwrap(), None);

    // And the sparse one: every optional field empty.
    let sparse = insert(&*store, proposal(action(support.id))).await;
    assert_eq!(store.action(sparse.id).await.unwrap(), Some(sparse));
}

pub async fn a_batch_of_proposals_is_stored_with_its_jobs_audit_and_deliveries(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let batch: Vec<NewAction> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                armed_proposal(armed(support.id))
            } else {
                proposal(action(support.id))
            }
        })
        .collect();
    let ids: Vec<Uuid> = batch.iter().map(|p| p.action.id).collect();
    let out = store.insert_actions(batch).await.unwrap();
    assert_eq!(out.len(), 50);
    for (i, (inserted, id)) in out.iter().zip(&ids).enumerate() {
        let Inserted::Created(a) = inserted else {
            panic!("item {i} was not created: {inserted:?}");
        };
        assert_eq!(a.id, *id, "results keep the batch's order");
        assert_eq!(store.action(*id).await.unwrap().as_ref(), Some(a));
        assert_eq!(audit_of(&*store, &id.to_string()).await.len(), 1);
        let deliveries = store.deliveries_for_action(*id).await.unwrap();
        if i % 2 == 0 {
            assert_eq!(deliveries.len(), 1);
            assert_eq!(deliveries[0].event, "time_bomb.armed");
            assert_eq!(deliveries[0].team_id, support.id);
            assert_eq!(deliveries[0].created_at, a.created_at);
            assert_eq!(deliveries[0].payload, json!({ "action": id.to_string() }));
        } else {
            assert!(deliveries.is_empty());
        }
    }
    let jobs = claim_all(&*store, "w").await;
    assert_eq!(jobs.len(), 25, "one timer per time bomb");
    assert!(
        jobs.iter()
            .all(|j| j.kind == JobKind::Timer && j.run_at == t(1810))
    );
    assert_audit_verifies(&*store).await;
}

fn keyed(team_id: Uuid, key: &str) -> NewAction {
    armed_proposal(ActionRecord {
        idempotency_key: Some(key.to_owned()),
        ..armed(team_id)
    })
}

pub async fn an_idempotency_key_used_in_an_earlier_batch_returns_the_first_action_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let first = insert(&*store, keyed(support.id, "order-17")).await;
    let entries_before = assert_audit_verifies(&*store).await;

    let retry = keyed(support.id, "order-17");
    let retry_id = retry.action.id;
    let fresh = proposal(action(support.id));
    let out = store.insert_actions(vec![retry, fresh]).await.unwrap();
    assert_eq!(out[0], Inserted::Existing(first.clone()));
    assert!(matches!(out[1], Inserted::Created(_)));

    assert_eq!(
        store.action(retry_id).await.unwrap(),
        None,
        "the repeat is not stored"
    );
    assert!(audit_of(&*store, &retry_id.to_string()).await.is_empty());
    assert!(
        store
            .deliveries_for_action(retry_id)
            .await
            .unwrap()
            .is_empty()
    );
    let jobs = claim_all(&*store, "w").await;
    assert_eq!(jobs.len(), 1, "only the first proposal's timer exists");
    assert_eq!(jobs[0].subject, first.id);
    assert_eq!(assert_audit_verifies(&*store).await, entries_before + 1);
}

pub async fn an_idempotency_key_repeated_within_one_batch_returns_the_first_action(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = keyed(support.id, "k");
    let b = keyed(support.id, "k");
    let c = keyed(support.id, "other");
    let b_id = b.action.id;
    let out = store.insert_actions(vec![a, b, c]).await.unwrap();
    let Inserted::Created(first) = &out[0] else {
        panic!("the first of the batch is created: {:?}", out[0]);
    };
    assert_eq!(out[1], Inserted::Existing(first.clone()));
    assert!(matches!(out[2], Inserted::Created(_)));
    assert_eq!(store.action(b_id).await.unwrap(), None);
    assert!(audit_of(&*store, &b_id.to_string()).await.is_empty());
    assert!(store.deliveries_for_action(b_id).await.unwrap().is_empty());
    let subjects: Vec<Uuid> = claim_all(&*store, "w")
        .await
        .iter()
        .map(|j| j.subject)
        .collect();
    assert_eq!(subjects.len(), 2);
    assert!(!subjects.contains(&b_id));
    assert_audit_verifies(&*store).await;
}

pub async fn idempotency_keys_belong_to_one_team(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let out = store
        .insert_actions(vec![keyed(support.id, "same"), keyed(sales.id, "same")])
        .await
        .unwrap();
    assert!(
        out.iter().all(|i| matches!(i, Inserted::Created(_))),
        "got {out:?}"
    );
    let again = store
        .insert_actions(vec![keyed(sales.id, "same")])
        .await
        .unwrap();
    assert_eq!(again[0], Inserted::Existing(out[1].record().clone()));
}

pub async fn many_actions_are_read_at_once_by_id_and_unknown_ids_are_left_out(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let proposals = (0..5)
        .map(|i| keyed(support.id, &format!("k{i}")))
        .collect();
    let stored: Vec<ActionRecord> = store
        .insert_actions(proposals)
        .await
        .unwrap()
        .iter()
        .map(|i| i.record().clone())
        .collect();
    assert!(store.actions(&[]).await.unwrap().is_empty());
    let wanted = [stored[3].id, Uuid::now_v7(), stored[0].id, stored[4].id];
    let mut read = store.actions(&wanted).await.unwrap();
    read.sort_by_key(|a| a.id);
    let mut expected = vec![stored[0].clone(), stored[3].clone(), stored[4].clone()];
    expected.sort_by_key(|a| a.id);
    assert_eq!(read, expected);
}

pub async fn a_plan_is_stored_with_its_steps_in_step_order(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let plan = PlanRecord {
        id: Uuid::now_v7(),
        team_id: support.id,
        card_id: Some("card-3".to_owned()),
        summary: "Refund, then tell the customer".to_owned(),
        proposed_by: agent("a1"),
        created_at: t(10),
    };
    let first = ActionRecord {
        plan_id: Some(plan.id),
        plan_step: Some(0),
        category: Category::Refund,
        ..action(support.id)
    };
    let second = ActionRecord {
        plan_id: Some(plan.id),
        plan_step: Some(1),
        after: vec![first.id],
        status: Status::Queued,
        level: Level::Autonomous,
        ..action(support.id)
    };
    // Steps given out of order come back in step order.
    let steps = vec![proposal(second.clone()), proposal(first.clone())];
    let audit = draft(
        Some(support.id),
        &agent("a1"),
        &plan.id.to_string(),
        "plan.proposed",
    );
    let (stored, actions) = store.insert_plan(plan.clone(), steps, audit).await.unwrap();
    assert_eq!(stored, plan);
    assert_eq!(actions.len(), 2);
    assert_eq!(store.plan(plan.id).await.unwrap(), Some(plan.clone()));
    assert_eq!(store.plan(Uuid::now_v7()).await.unwrap(), None);
    let listed = store.plan_actions(plan.id).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);
    assert_eq!(listed[1].after, vec![first.id]);
    assert_eq!(audit_of(&*store, &plan.id.to_string()).await.len(), 1);
    assert_eq!(audit_of(&*store, &first.id.to_string()).await.len(), 1);
    assert!(store.plan_actions(Uuid::now_v7()).await.unwrap().is_empty());
    assert_audit_verifies(&*store).await;
}
