//! The audit trail: chaining, exact data, search and pagination.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::fixtures::*;
use crate::audit::{GENESIS, chain_name};
use crate::*;

pub async fn every_audit_entry_written_verifies_as_an_unbroken_chain(store: Arc<dyn Store>) {
    assert_eq!(
        assert_audit_verifies(&*store).await,
        0,
        "an empty trail verifies"
    );
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let a = insert(&*store, armed_proposal(armed(support.id))).await;
    insert(&*store, proposal(action(sales.id))).await;
    let held = state(&a).hold(a.version).unwrap();
    let hold = ActionChange {
        audit: vec![draft(
            Some(support.id),
            &member("m"),
            &a.id.to_string(),
            "action.held",
        )],
        ..change(&a, held, t(30))
    };
    store.apply_change(hold).await.unwrap();
    store
        .append_audit(
            t(40),
            vec![
                draft(None, &member("m"), "login", "member.login"),
                draft(Some(sales.id), &member("m"), "export", "audit.exported"),
            ],
        )
        .await
        .unwrap();
    // team.created ×2 (deployment), proposals ×2, hold, login, export.
    assert_eq!(assert_audit_verifies(&*store).await, 7);

    let heads = store.audit_heads().await.unwrap();
    let chains: HashSet<&str> = heads.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        chains.len(),
        3,
        "one chain per team and one for the deployment: {heads:?}"
    );
    let support_chain = heads
        .iter()
        .find(|(c, _, _)| c.starts_with(&support.id.to_string()))
        .expect("the support chain");
    assert_eq!(support_chain.1, 2);
    let entries = store.audit_chain(&support_chain.0, 0, 100).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(entries[0].prev_hash, GENESIS);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert_eq!(support_chain.2, entries[1].hash);
    assert_eq!(
        store
            .audit_chain(&support_chain.0, 1, 100)
            .await
            .unwrap()
            .len(),
        1,
        "after_seq skips"
    );
    assert_eq!(
        store
            .audit_chain(&support_chain.0, 0, 1)
            .await
            .unwrap()
            .len(),
        1,
        "limit holds"
    );
    assert!(
        store
            .audit_chain("nobody/local", 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_first_appends_to_new_chains_keep_each_chain_unbroken(
    store: Arc<dyn Store>,
) {
    // Every writer here is a chain's first at once (a head row may not exist yet), and
    // some write two chains: each must still come out one unbroken chain.
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let mut entries = vec![draft(Some(support.id), &member("m"), "x", "note.one")];
            if i % 2 == 0 {
                entries.push(draft(Some(sales.id), &member("m"), "y", "note.two"));
            }
            tokio::spawn(async move { store.append_audit(t(10 + i), entries).await })
        })
        .collect();
    for w in writers {
        w.await
            .expect("the task ran")
            .expect("the append is written");
    }
    // team.created ×2, 16 in support, 8 in sales.
    assert_eq!(assert_audit_verifies(&*store).await, 26);
    let heads = store.audit_heads().await.unwrap();
    let seq_of = |team: Uuid| {
        heads
            .iter()
            .find(|(c, _, _)| c.starts_with(&team.to_string()))
            .map(|h| h.1)
    };
    assert_eq!((seq_of(support.id), seq_of(sales.id)), (Some(16), Some(8)));
}

pub async fn an_audit_entry_keeps_its_data_text_and_its_chain_links(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let data: serde_json::Value = serde_json::from_str(
        r#"{"b": 1.50, "a": [true, null, "x\ny"], "big": 123456789012345678901234567890}"#,
    )
    .unwrap();
    let entry = AuditDraft {
        team_id: Some(support.id),
        actor: member("maria"),
        subject: None,
        event: "rules.explained".to_owned(),
        data: data.clone(),
    };
    store
        .append_audit(t(77), vec![entry.clone(), entry])
        .await
        .unwrap();
    let filter = AuditFilter {
        event: Some("rules.explained".to_owned()),
        ..AuditFilter::default()
    };
    let page = store.search_audit(&filter, None, 10).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let (newer, older) = (&page.items[0], &page.items[1]);
    assert!(newer.id > older.id);
    assert_eq!(
        older.data,
        serde_json::to_string(&data).unwrap(),
        "data is stored as serialized once"
    );
    assert_eq!(older.at, t(77));
    assert_eq!(older.team_id, Some(support.id));
    assert_eq!(older.subject, None);
    assert_eq!(older.actor, member("maria"));
    assert!(older.chain.starts_with(&support.id.to_string()));
    assert_eq!(newer.seq, older.seq + 1);
    assert_eq!(newer.prev_hash, older.hash);
    assert_eq!(older.computed_hash(), older.hash);
    assert_eq!(
        chain_name(Some(support.id), older.chain.rsplit('/').next().unwrap()),
        older.chain
    );
    assert_audit_verifies(&*store).await;
}

pub async fn searching_the_audit_trail_narrows_by_every_filter(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let ann = member("ann");
    let bot = agent("bot");
    let e = |team: Option<Uuid>, actor: &Actor, subject: &str, event: &str| AuditDraft {
        data: json!({ "n": subject }),
        ..draft(team, actor, subject, event)
    };
    store
        .append_audit(
            t(100),
            vec![e(Some(support.id), &ann, "x1", "action.approved")],
        )
        .await
        .unwrap();
    store
        .append_audit(
            t(200),
            vec![e(Some(support.id), &bot, "x2", "action.proposed")],
        )
        .await
        .unwrap();
    store
        .append_audit(
            t(300),
            vec![e(Some(sales.id), &ann, "x3", "action.approved")],
        )
        .await
        .unwrap();
    store
        .append_audit(t(400), vec![e(None, &ann, "x4", "member.login")])
        .await
        .unwrap();

    let subjects = |f: AuditFilter| {
        let store = store.clone();
        async move {
            let page = store.search_audit(&f, None, 100).await.unwrap();
            page.items
                .into_iter()
                .filter_map(|e| e.subject)
                .filter(|s| s.starts_with('x'))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        subjects(AuditFilter::default()).await,
        vec!["x4", "x3", "x2", "x1"]
    );
    let f = AuditFilter {
        team_id: Some(support.id),
        ..AuditFilter::default()
    };
    assert_eq!(subjects(f).await, vec!["x2", "x1"]);
    let f = AuditFilter {
        visible_teams: Some(vec![sales.id]),
        ..AuditFilter::default()
    };
    assert_eq!(
        subjects(f).await,
        vec!["x3"],
        "the deployment chain is not visible to a team"
    );
    let f = AuditFilter {
        visible_teams: Some(Vec::new()),
        ..AuditFilter::default()
    };
    assert!(subjects(f).await.is_empty());
    let f = AuditFilter {
        subject: Some("x2".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(subjects(f).await, vec!["x2"]);
    let f = AuditFilter {
        actor_id: Some("ann".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(subjects(f).await, vec!["x4", "x3", "x1"]);
    let f = AuditFilter {
        event: Some("action.approved".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(subjects(f).await, vec!["x3", "x1"]);
    let f = AuditFilter {
        since: Some(t(200)),
        until: Some(t(400)),
        ..AuditFilter::default()
    };
    assert_eq!(
        subjects(f).await,
        vec!["x3", "x2"],
        "since is inclusive, until exclusive"
    );
    let f = AuditFilter {
        actor_id: Some("ann".to_owned()),
        event: Some("action.approved".to_owned()),
        since: Some(t(150)),
        ..AuditFilter::default()
    };
    assert_eq!(subjects(f).await, vec!["x3"]);
}

pub async fn paging_through_the_audit_trail_visits_every_entry_once_newest_first(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    for batch in 0..5 {
        let drafts = (0..9)
            .map(|i| {
                draft(
                    Some(support.id),
                    &agent("a1"),
                    &format!("s{batch}-{i}"),
                    "action.proposed",
                )
            })
            .collect();
        store.append_audit(t(batch * 10), drafts).await.unwrap();
    }
    let filter = AuditFilter {
        team_id: Some(support.id),
        ..AuditFilter::default()
    };
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .search_audit(&filter, cursor.as_deref(), 4)
            .await
            .unwrap();
        assert!(page.items.len() <= 4);
        ids.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids.len(), 45);
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "every entry once, newest first");
}
