//! Listing actions: filters and cursor pagination.

use std::collections::HashSet;
use std::sync::Arc;

use interlock_core::{Category, Level, Status};
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

async fn ids(store: &dyn Store, filter: ActionFilter) -> Vec<Uuid> {
    let page = store.list_actions(&filter, None, 500).await.unwrap();
    assert!(page.next_cursor.is_none(), "everything fits in one page");
    page.items.into_iter().map(|a| a.id).collect()
}

pub async fn listing_actions_narrows_by_every_filter(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let plan_id = Uuid::now_v7();
    let plan = PlanRecord {
        id: plan_id,
        team_id: support.id,
        card_id: None,
        summary: "a plan".to_owned(),
        proposed_by: agent("a2"),
        created_at: t(1),
    };
    let email = action(support.id);
    let refund = ActionRecord {
        category: Category::Refund,
        proposed_by: agent("a2"),
        ..armed(support.id)
    };
    let advisory = ActionRecord {
        level: Level::Advisory,
        status: Status::Advisory,
        proposed_by: agent("a2"),
        ..action(sales.id)
    };
    let step = ActionRecord {
        plan_id: Some(plan_id),
        plan_step: Some(0),
        ..action(support.id)
    };
    store
        .insert_actions(vec![
            proposal(email.clone()),
            proposal(refund.clone()),
            proposal(advisory.clone()),
        ])
        .await
        .unwrap();
    let audit = draft(Some(support.id), &agent("a2"), "plan", "plan.proposed");
    store
        .insert_plan(plan, vec![proposal(step.clone())], audit)
        .await
        .unwrap();

    let all = ids(&*store, ActionFilter::default()).await;
    assert_eq!(
        all,
        vec![step.id, advisory.id, refund.id, email.id],
        "newest first"
    );

    let team_only = ActionFilter {
        team_id: Some(support.id),
        ..ActionFilter::default()
    };
    assert_eq!(
        ids(&*store, team_only).await,
        vec![step.id, refund.id, email.id]
    );
    let visible = ActionFilter {
        visible_teams: Some(vec![sales.id]),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, visible).await, vec![advisory.id]);
    let nothing_visible = ActionFilter {
        visible_teams: Some(Vec::new()),
        ..ActionFilter::default()
    };
    assert!(ids(&*store, nothing_visible).await.is_empty());
    let visible_and_team = ActionFilter {
        visible_teams: Some(vec![sales.id]),
        team_id: Some(support.id),
        ..ActionFilter::default()
    };
    assert!(
        ids(&*store, visible_and_team).await.is_empty(),
        "a team outside the visible ones"
    );
    let statuses = ActionFilter {
        statuses: vec![Status::Armed, Status::Advisory],
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, statuses).await, vec![advisory.id, refund.id]);
    let category = ActionFilter {
        category: Some(Category::Refund),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, category).await, vec![refund.id]);
    let level = ActionFilter {
        level: Some(Level::Advisory),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, level).await, vec![advisory.id]);
    let by_a2 = ActionFilter {
        proposed_by: Some(agent("a2")),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, by_a2).await, vec![advisory.id, refund.id]);
    let by_member_a2 = ActionFilter {
        proposed_by: Some(member("a2")),
        ..ActionFilter::default()
    };
    assert!(
        ids(&*store, by_member_a2).await.is_empty(),
        "the actor's kind counts too"
    );
    let in_plan = ActionFilter {
        plan_id: Some(plan_id),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, in_plan).await, vec![step.id]);
    let combined = ActionFilter {
        team_id: Some(support.id),
        statuses: vec![Status::AwaitingApproval],
        category: Some(Category::SendEmail),
        proposed_by: Some(agent("a1")),
        ..ActionFilter::default()
    };
    assert_eq!(ids(&*store, combined).await, vec![step.id, email.id]);
}

pub async fn paging_through_actions_visits_every_action_once_newest_first(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let batch: Vec<NewAction> = (0..57)
        .map(|i| proposal(action(if i % 3 == 0 { sales.id } else { support.id })))
        .collect();
    let mut expected: Vec<Uuid> = batch.iter().map(|p| p.action.id).collect();
    expected.sort();
    expected.reverse();
    store.insert_actions(batch).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_actions(&ActionFilter::default(), cursor.as_deref(), 10)
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        pages += 1;
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen, expected, "every action once, newest first");

    let support_only = ActionFilter {
        team_id: Some(support.id),
        ..ActionFilter::default()
    };
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_actions(&support_only, cursor.as_deref(), 7)
            .await
            .unwrap();
        for a in &page.items {
            assert_eq!(a.team_id, support.id);
            assert!(seen.insert(a.id), "{} listed twice", a.id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 38);
    let capped = store
        .list_actions(&ActionFilter::default(), None, 100_000)
        .await
        .unwrap();
    assert_eq!(
        capped.items.len(),
        57,
        "a huge limit is capped, not an error"
    );
}
