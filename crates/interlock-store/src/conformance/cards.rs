//! Cards: opened by the actions and plans that name them, noted on, escalated.

use std::sync::Arc;

use uuid::Uuid;

use super::fixtures::*;
use crate::*;

fn work(team_id: Uuid, card: &str, action: Option<Uuid>, at: i64) -> CardWork {
    CardWork {
        team_id,
        card_id: card.to_owned(),
        action_id: action,
        note: None,
        author: Actor::system("executor"),
        raise_to: None,
        at: t(at),
        audit: draft(
            Some(team_id),
            &Actor::system("executor"),
            card,
            "card.changed",
        ),
    }
}

pub async fn an_action_naming_a_card_opens_it_and_lists_it_for_its_team_only(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let a = insert(&*store, proposal(action(support.id))).await;
    let card = store.card(support.id, "card-1").await.unwrap().unwrap();
    assert_eq!(card.priority, CardPriority::Normal);
    assert_eq!(card.created_at, a.created_at);
    assert_eq!(store.card(sales.id, "card-1").await.unwrap(), None);
    // A second action about the same card opens nothing new.
    let mut b = action(support.id);
    b.created_at = t(20);
    b.updated_at = t(20);
    insert(&*store, proposal(b)).await;
    let again = store.card(support.id, "card-1").await.unwrap().unwrap();
    assert_eq!((again.created_at, again.updated_at), (t(10), t(20)));

    assert_eq!(
        store.list_cards(None, 50).await.unwrap(),
        vec![again.clone()]
    );
    assert_eq!(
        store.list_cards(Some(&[support.id]), 50).await.unwrap(),
        vec![again]
    );
    assert!(
        store
            .list_cards(Some(&[sales.id]), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_cards(Some(&[]), 50).await.unwrap().is_empty());
    let filter = ActionFilter {
        card_id: Some("card-1".to_owned()),
        ..ActionFilter::default()
    };
    assert_eq!(
        store
            .list_actions(&filter, None, 50)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

pub async fn a_plan_naming_a_card_is_found_by_it(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let plan = PlanRecord {
        id: Uuid::now_v7(),
        team_id: support.id,
        card_id: Some("case-9".to_owned()),
        summary: "Make it right".to_owned(),
        proposed_by: agent("a1"),
        created_at: t(5),
    };
    let audit = draft(
        Some(support.id),
        &agent("a1"),
        &plan.id.to_string(),
        "plan.proposed",
    );
    store
        .insert_plan(plan.clone(), Vec::new(), audit)
        .await
        .unwrap();
    assert_eq!(
        store.plans_for_card(support.id, "case-9").await.unwrap(),
        vec![plan]
    );
    assert!(store.card(support.id, "case-9").await.unwrap().is_some());
    assert!(
        store
            .plans_for_card(support.id, "other")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_note_is_added_once_per_action_and_audited_once(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let action_id = Uuid::now_v7();
    let note = CardWork {
        note: Some("Customer prefers email.".to_owned()),
        ..work(support.id, "card-7", Some(action_id), 30)
    };
    let card = store.work_card(note.clone()).await.unwrap();
    assert_eq!(
        (card.id.as_str(), card.priority),
        ("card-7", CardPriority::Normal)
    );
    store.work_card(note).await.unwrap();
    let notes = store.card_notes(support.id, "card-7").await.unwrap();
    assert_eq!(notes.len(), 1, "a retried execution adds its note once");
    assert_eq!(notes[0].text, "Customer prefers email.");
    assert_eq!(notes[0].action_id, Some(action_id));
    assert_eq!(notes[0].author, Actor::system("executor"));
    assert_eq!(notes[0].created_at, t(30));
    assert_eq!(audit_of(&*store, "card-7").await.len(), 1);
    // Notes without an action are people's: each one is kept.
    for at in [40, 41] {
        let by_hand = CardWork {
            note: Some("Called them back.".to_owned()),
            ..work(support.id, "card-7", None, at)
        };
        store.work_card(by_hand).await.unwrap();
    }
    assert_eq!(
        store.card_notes(support.id, "card-7").await.unwrap().len(),
        3
    );
    assert_audit_verifies(&*store).await;
}

pub async fn escalations_raise_a_cards_priority_and_never_lower_it(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let raise = |to, at| CardWork {
        raise_to: Some(to),
        ..work(support.id, "card-3", Some(Uuid::now_v7()), at)
    };
    let opened = store
        .work_card(raise(CardPriority::High, 10))
        .await
        .unwrap();
    assert_eq!(
        opened.priority,
        CardPriority::High,
        "opened as a priority card"
    );
    let milder = store.work_card(raise(CardPriority::Low, 20)).await.unwrap();
    assert_eq!(milder.priority, CardPriority::High);
    assert_eq!(milder.updated_at, t(10), "nothing changed");
    let worse = store
        .work_card(raise(CardPriority::Critical, 30))
        .await
        .unwrap();
    assert_eq!(
        (worse.priority, worse.updated_at),
        (CardPriority::Critical, t(30))
    );
    assert_eq!(store.card(support.id, "card-3").await.unwrap(), Some(worse));
    assert_eq!(audit_of(&*store, "card-3").await.len(), 2);
}
