//! Teams, rules, keys, connectors, the clock agreement, migrations.

use std::sync::Arc;

use chrono::TimeDelta;
use interlock_core::Category;
use interlock_core::rules::RuleSet;
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

pub async fn a_new_team_is_found_by_id_and_by_slug_and_listed(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    assert_eq!(support.slug, "support");
    assert_eq!(support.created_at, t(0));

    assert_eq!(store.team(support.id).await.unwrap(), Some(support.clone()));
    assert_eq!(
        store.team_by_slug("sales").await.unwrap(),
        Some(sales.clone())
    );
    assert_eq!(store.team_by_slug("nobody").await.unwrap(), None);
    assert_eq!(store.team(Uuid::now_v7()).await.unwrap(), None);

    let mut all = store.list_teams().await.unwrap();
    all.sort_by(|a, b| a.slug.cmp(&b.slug));
    assert_eq!(all, vec![sales, support.clone()]);

    let rules = store.current_rules(support.id).await.unwrap();
    assert_eq!(rules.version, 1);
    assert_eq!(rules.rules.version(), 1);
    assert!(rules.rules.same_rules_as(&RuleSet::conservative()));
    assert_eq!(rules.created_by, member("owner"));
    assert_eq!(
        audit_of(&*store, "support").await.len(),
        1,
        "the creation is audited"
    );
}

pub async fn a_second_team_with_the_same_slug_is_a_duplicate(store: Arc<dyn Store>) {
    team(&*store, "support").await;
    let again = Team {
        id: Uuid::now_v7(),
        slug: "support".to_owned(),
        name: "Another support".to_owned(),
        created_at: t(5),
    };
    let audit = draft(None, &member("owner"), "support", "team.created");
    let err = store
        .create_team(again.clone(), RuleSet::conservative(), audit)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "got {err:?}");
    assert_eq!(
        store.team(again.id).await.unwrap(),
        None,
        "nothing of the duplicate is written"
    );
    assert_eq!(store.list_teams().await.unwrap().len(), 1);
    assert_eq!(
        audit_of(&*store, "support").await.len(),
        1,
        "the refused creation is not audited"
    );
}

pub async fn an_unknown_team_has_no_rules(store: Arc<dyn Store>) {
    let err = store.current_rules(Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "got {err:?}");
    assert!(
        store
            .list_rules_versions(Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}

fn stricter_rules() -> RuleSet {
    RuleSet::from_json_str(
        r#"{"currency": "USD", "advisory_tags": ["legal"], "categories": {"SEND_CHAT": {"level": "autonomous"}}}"#,
    )
    .expect("the suite's rule set is valid")
}

pub async fn saving_rules_numbers_versions_and_keeps_the_old_ones(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let editor = member("maria");
    let audit = draft(Some(support.id), &editor, "rules", "rules.saved");
    let v2 = store
        .save_rules(
            support.id,
            1,
            stricter_rules(),
            editor.clone(),
            t(100),
            audit.clone(),
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.rules.version(), 2);
    assert_eq!(v2.created_by, editor);
    assert_eq!(v2.created_at, t(100));
    let v3 = store
        .save_rules(
            support.id,
            2,
            RuleSet::conservative(),
            editor.clone(),
            t(200),
            audit,
        )
        .await
        .unwrap();
    assert_eq!(v3.version, 3);

    let current = store.current_rules(support.id).await.unwrap();
    assert_eq!(current, v3);
    let versions: Vec<u64> = store
        .list_rules_versions(support.id)
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec![3, 2, 1], "newest first");
    let old = store
        .rules_version(support.id, 2)
        .await
        .unwrap()
        .expect("version 2 is kept");
    assert_eq!(old, v2);
    assert!(old.rules.same_rules_as(&stricter_rules()));
    assert_eq!(store.rules_version(support.id, 9).await.unwrap(), None);
    assert_eq!(audit_of(&*store, "rules").await.len(), 2);
}

pub async fn saving_rules_from_a_stale_version_is_refused_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let editor = member("maria");
    let audit = draft(Some(support.id), &editor, "rules", "rules.saved");
    store
        .save_rules(
            support.id,
            1,
            stricter_rules(),
            editor.clone(),
            t(100),
            audit.clone(),
        )
        .await
        .unwrap();
    let err = store
        .save_rules(
            support.id,
            1,
            RuleSet::conservative(),
            editor,
            t(101),
            audit,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::StaleRules {
                expected: 1,
                current: 2
            }
        ),
        "got {err:?}"
    );
    assert_eq!(store.current_rules(support.id).await.unwrap().version, 2);
    assert_eq!(
        audit_of(&*store, "rules").await.len(),
        1,
        "the refused save is not audited"
    );
}

fn key(id: &str, kind: KeyKind, team_id: Option<Uuid>) -> KeyRecord {
    KeyRecord {
        id: id.to_owned(),
        kind,
        team_id,
        user_id: None,
        name: Some(format!("key {id}")),
        secret_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        created_at: t(20),
        last_used_at: None,
        expires_at: Some(t(86_400)),
        revoked_at: None,
    }
}

pub async fn keys_are_created_found_listed_touched_and_revoked(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let owner = member("owner");
    let agent_key = key("k_agent", KeyKind::Agent, Some(support.id));
    let admin_key = KeyRecord {
        user_id: Some(Uuid::now_v7()),
        created_at: t(21),
        ..key("k_admin", KeyKind::Admin, None)
    };
    let created = store
        .create_key(
            agent_key.clone(),
            draft(Some(support.id), &owner, "k_agent", "key.created"),
        )
        .await
        .unwrap();
    assert_eq!(created, agent_key);
    store
        .create_key(
            admin_key.clone(),
            draft(None, &owner, "k_admin", "key.created"),
        )
        .await
        .unwrap();

    assert_eq!(store.key("k_agent").await.unwrap(), Some(agent_key.clone()));
    assert_eq!(store.key("k_nobody").await.unwrap(), None);
    let ids: Vec<String> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"k_agent".to_owned()) && ids.contains(&"k_admin".to_owned()));

    store.touch_key("k_agent", t(30)).await.unwrap();
    assert_eq!(
        store.key("k_agent").await.unwrap().unwrap().last_used_at,
        Some(t(30))
    );

    let revoked = store
        .revoke_key(
            "k_agent",
            t(40),
            draft(Some(support.id), &owner, "k_agent", "key.revoked"),
        )
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(t(40)));
    let again = store
        .revoke_key(
            "k_agent",
            t(50),
            draft(Some(support.id), &owner, "k_agent", "key.revoked"),
        )
        .await
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(t(40)),
        "revoking twice keeps the first time"
    );
    let err = store
        .revoke_key(
            "k_nobody",
            t(50),
            draft(None, &owner, "k_nobody", "key.revoked"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "got {err:?}");
    assert_eq!(audit_of(&*store, "k_nobody").await.len(), 0);
    assert!(audit_of(&*store, "k_agent").await.len() >= 2);
}

pub async fn migrating_again_changes_nothing(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.team(support.id).await.unwrap(), Some(support));
}

pub async fn connectors_are_set_replaced_and_listed_per_team_and_category(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let owner = member("owner");
    let hook = ConnectorConfig::Webhook {
        url: "https://hooks.example.com/refunds".to_owned(),
        secret: "s3cret".to_owned(),
    };
    let smtp = ConnectorConfig::Smtp {
        host: "smtp.example.com".to_owned(),
        port: 587,
        from: "support@example.com".to_owned(),
        username: Some("support".to_owned()),
        password: Some("pw".to_owned()),
        tls: SmtpTls::Starttls,
    };
    let set = |cat: Category, config: ConnectorConfig, at| {
        let store = store.clone();
        let audit = draft(Some(support.id), &owner, cat.as_str(), "connector.set");
        async move {
            store
                .set_connector(support.id, cat, config, at, audit)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        store.connector(support.id, Category::Refund).await.unwrap(),
        None
    );
    set(Category::Refund, ConnectorConfig::Log, t(1)).await;
    set(Category::Refund, hook.clone(), t(2)).await;
    set(Category::SendEmail, smtp.clone(), t(3)).await;

    assert_eq!(
        store.connector(support.id, Category::Refund).await.unwrap(),
        Some(hook.clone())
    );
    assert_eq!(
        store.connector(sales.id, Category::Refund).await.unwrap(),
        None
    );
    let mut all = store.connectors(support.id).await.unwrap();
    all.sort_by_key(|(c, _)| *c);
    assert_eq!(
        all,
        vec![(Category::SendEmail, smtp), (Category::Refund, hook)]
    );
    assert!(store.connectors(sales.id).await.unwrap().is_empty());
    assert_eq!(audit_of(&*store, "REFUND").await.len(), 2);
}

pub async fn the_first_clock_agreement_is_kept(store: Arc<dyn Store>) {
    assert_eq!(store.clock_settings().await.unwrap(), None);
    let first = ClockSettings {
        scale: 3600,
        real_origin: t(0),
        interlock_origin: t(0) - TimeDelta::days(1),
    };
    assert_eq!(store.agree_clock(first).await.unwrap(), first);
    let second = ClockSettings {
        scale: 60,
        real_origin: t(500),
        interlock_origin: t(500),
    };
    assert_eq!(
        store.agree_clock(second).await.unwrap(),
        first,
        "the first agreement stays"
    );
    assert_eq!(store.clock_settings().await.unwrap(), Some(first));
}
