//! The notification outbox, its per-target sends, and the channels they go to.

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

pub async fn channels_are_created_listed_per_team_and_deleted_with_audit(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let owner = member("owner");
    let hook = webhook_channel(support.id, 1);
    let email = ChannelRecord {
        id: Uuid::now_v7(),
        team_id: support.id,
        config: ChannelConfig::Email {
            to: vec!["oncall@ourco.example".to_owned()],
            smtp: Some(SmtpServer {
                host: "smtp.ourco.example".to_owned(),
                port: 465,
                from: "interlock@ourco.example".to_owned(),
                username: Some("interlock".to_owned()),
                password: Some("pw".to_owned()),
                tls: SmtpTls::Tls,
            }),
        },
        created_at: t(2),
    };
    let slack = ChannelRecord {
        id: Uuid::now_v7(),
        team_id: sales.id,
        config: ChannelConfig::Slack {
            url: "https://hooks.slack.example/services/T/B/X".to_owned(),
        },
        created_at: t(3),
    };
    for c in [&hook, &email, &slack] {
        let audit = draft(
            Some(c.team_id),
            &owner,
            &c.id.to_string(),
            "channel.created",
        );
        store.create_channel(c.clone(), audit).await.unwrap();
    }
    assert_eq!(
        store.channels(support.id).await.unwrap(),
        vec![hook.clone(), email.clone()],
        "oldest first, secrets kept"
    );
    assert_eq!(store.channel(slack.id).await.unwrap(), Some(slack.clone()));

    let audit = draft(
        Some(support.id),
        &owner,
        &hook.id.to_string(),
        "channel.deleted",
    );
    store
        .delete_channel(hook.id, t(4), audit.clone())
        .await
        .unwrap();
    assert_eq!(store.channels(support.id).await.unwrap(), vec![email]);
    assert_eq!(store.channel(hook.id).await.unwrap(), None);
    let again = store.delete_channel(hook.id, t(5), audit).await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
    let entries = audit_of(&*store, &hook.id.to_string()).await;
    assert_eq!(
        entries.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
        ["channel.created", "channel.deleted"]
    );
    assert_audit_verifies(&*store).await;
}

pub async fn a_delivery_with_somewhere_to_go_schedules_its_notify_job_at_once(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let quiet = insert(&*store, armed_proposal(armed(support.id))).await;
    assert_eq!(
        store.deliveries_for_action(quiet.id).await.unwrap().len(),
        1
    );
    assert!(
        claim_with_notify(&*store, "w")
            .await
            .iter()
            .all(|j| j.kind != JobKind::Notify),
        "no channel and no callback: the delivery is recorded, with nothing to send"
    );

    add_webhook_channel(&*store, support.id, 1).await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let deliveries = store.deliveries_for_action(a.id).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    let jobs = claim_with_notify(&*store, "w").await;
    let notify: Vec<&Job> = jobs.iter().filter(|j| j.kind == JobKind::Notify).collect();
    assert_eq!(notify.len(), 1, "{jobs:?}");
    assert_eq!(notify[0].subject, deliveries[0].id);
    assert_eq!(notify[0].run_at, a.created_at, "due when it was written");
    assert_eq!(
        store.delivery(deliveries[0].id).await.unwrap().as_ref(),
        Some(&deliveries[0])
    );
    assert_eq!(store.delivery(Uuid::now_v7()).await.unwrap(), None);

    // An agent's callback goes out whether or not its team has channels.
    let sales = team(&*store, "sales").await;
    let a = action(sales.id);
    let callback = NewDelivery {
        id: Uuid::now_v7(),
        team_id: sales.id,
        action_id: Some(a.id),
        event: "action.approved".to_owned(),
        reminder: None,
        payload: json!({"event": "action.approved"}),
        callback_url: Some("https://agent.example/hook".to_owned()),
    };
    let p = NewAction {
        deliveries: vec![callback],
        ..proposal(a)
    };
    insert(&*store, p).await;
    let jobs = claim_with_notify(&*store, "w").await;
    assert_eq!(
        jobs.iter().filter(|j| j.kind == JobKind::Notify).count(),
        1,
        "{jobs:?}"
    );
}

pub async fn a_callback_delivery_keeps_its_url(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let a = action(support.id);
    let callback = NewDelivery {
        id: Uuid::now_v7(),
        team_id: support.id,
        action_id: Some(a.id),
        event: "action.approved".to_owned(),
        reminder: None,
        payload: json!({"event": "action.approved"}),
        callback_url: Some("https://agent.example/hook".to_owned()),
    };
    let p = NewAction {
        deliveries: vec![callback.clone()],
        ..proposal(a)
    };
    let a = insert(&*store, p).await;
    let stored = store.delivery(callback.id).await.unwrap().unwrap();
    assert_eq!(stored.callback_url, callback.callback_url);
    assert_eq!(stored.action_id, Some(a.id));
    assert_eq!(stored.payload, callback.payload);
}

pub async fn a_send_has_one_row_per_delivery_and_target_that_later_outcomes_replace(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    let d = store.deliveries_for_action(a.id).await.unwrap()[0].id;
    let (c1, c2) = (Uuid::now_v7(), Uuid::now_v7());
    let send = |target, state, attempts, at, error: Option<&str>| DeliverySend {
        delivery_id: d,
        target,
        state,
        attempts,
        answer: None,
        last_error: error.map(str::to_owned),
        updated_at: t(at),
    };
    let first = send(
        SendTarget::Channel(c1),
        SendState::Retrying,
        1,
        20,
        Some("503"),
    );
    store.record_send(first).await.unwrap();
    let sent = DeliverySend {
        answer: Some("200 ok".to_owned()),
        ..send(SendTarget::Channel(c1), SendState::Sent, 2, 30, None)
    };
    store.record_send(sent.clone()).await.unwrap();
    let failed = send(
        SendTarget::Channel(c2),
        SendState::Failed,
        6,
        40,
        Some("refused"),
    );
    store.record_send(failed.clone()).await.unwrap();
    let callback = send(SendTarget::Callback, SendState::Skipped, 0, 50, None);
    store.record_send(callback.clone()).await.unwrap();

    let mut all = store.sends_for_delivery(d).await.unwrap();
    all.sort_by_key(|s| s.updated_at);
    assert_eq!(all, vec![sent.clone(), failed.clone(), callback.clone()]);
    assert_eq!(
        store
            .sends_for_target(SendTarget::Channel(c1), 10)
            .await
            .unwrap(),
        vec![sent]
    );
    assert_eq!(
        store
            .sends_for_target(SendTarget::Callback, 10)
            .await
            .unwrap(),
        vec![callback]
    );
    assert!(
        store
            .sends_for_delivery(Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}
