//! People, memberships, login bookkeeping and sessions.

use std::sync::Arc;

use chrono::TimeDelta;
use uuid::Uuid;

use super::fixtures::*;
use crate::*;

fn person(email: &str, role: Role, teams: Vec<Uuid>) -> UserRecord {
    UserRecord {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        role,
        teams,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        created_at: t(0),
        failed_logins: 0,
        locked_until: None,
    }
}

fn people_draft(subject: &str, event: &str) -> AuditDraft {
    draft(None, &member("owner"), subject, event)
}

pub async fn a_person_is_stored_with_their_teams_and_found_by_id_or_any_case_of_email(
    store: Arc<dyn Store>,
) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let mut ana = person("Ana@Example.com", Role::Manager, vec![support.id, sales.id]);
    let created = store
        .create_user(ana.clone(), people_draft("ana", "user.created"))
        .await
        .unwrap();
    ana.email = "ana@example.com".to_owned();
    ana.teams.sort();
    let mut got = created.clone();
    got.teams.sort();
    assert_eq!(got, ana);
    assert_eq!(
        store.user(ana.id).await.unwrap().map(|u| u.email),
        Some("ana@example.com".to_owned())
    );
    assert_eq!(
        store
            .user_by_email("ANA@example.COM")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ana.id)
    );
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    assert_eq!(audit_of(&*store, "ana").await.len(), 1);
}

pub async fn a_second_person_with_the_same_email_is_a_duplicate_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    store
        .create_user(
            person("bo@example.com", Role::Viewer, vec![]),
            people_draft("bo", "user.created"),
        )
        .await
        .unwrap();
    let err = store
        .create_user(
            person("BO@example.com", Role::Owner, vec![]),
            people_draft("bo2", "user.created"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    assert!(audit_of(&*store, "bo2").await.is_empty());
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

pub async fn a_role_change_replaces_role_and_teams_and_is_audited(store: Arc<dyn Store>) {
    let support = team(&*store, "support").await;
    let sales = team(&*store, "sales").await;
    let cy = store
        .create_user(
            person("cy@example.com", Role::Viewer, vec![support.id]),
            people_draft("cy", "user.created"),
        )
        .await
        .unwrap();
    let changed = store
        .set_user_role(
            cy.id,
            Role::Manager,
            vec![sales.id],
            t(5),
            people_draft("cy", "user.role_changed"),
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.role, changed.teams.clone()),
        (Role::Manager, vec![sales.id])
    );
    assert_eq!(audit_of(&*store, "cy").await.len(), 2);
    let missing = store
        .set_user_role(
            Uuid::now_v7(),
            Role::Owner,
            vec![],
            t(6),
            people_draft("x", "user.role_changed"),
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)));
}

pub async fn failed_logins_count_up_lock_and_a_success_resets_them(store: Arc<dyn Store>) {
    let dee = store
        .create_user(
            person("dee@example.com", Role::Viewer, vec![]),
            people_draft("dee", "user.created"),
        )
        .await
        .unwrap();
    for n in 1..=3 {
        let u = store
            .record_login(
                dee.id,
                false,
                None,
                t(n),
                people_draft("dee", "login.failed"),
            )
            .await
            .unwrap();
        assert_eq!(u.failed_logins, n as u32);
        assert_eq!(u.locked_until, None);
    }
    let locked = store
        .record_login(
            dee.id,
            false,
            Some(t(900)),
            t(4),
            people_draft("dee", "login.failed"),
        )
        .await
        .unwrap();
    assert_eq!(
        (locked.failed_logins, locked.locked_until),
        (4, Some(t(900)))
    );
    let ok = store
        .record_login(
            dee.id,
            true,
            None,
            t(1000),
            people_draft("dee", "login.succeeded"),
        )
        .await
        .unwrap();
    assert_eq!((ok.failed_logins, ok.locked_until), (0, None));
    assert_eq!(audit_of(&*store, "dee").await.len(), 6);
}

pub async fn a_new_password_replaces_the_old_and_clears_a_lock(store: Arc<dyn Store>) {
    let ed = store
        .create_user(
            person("ed@example.com", Role::Admin, vec![]),
            people_draft("ed", "user.created"),
        )
        .await
        .unwrap();
    store
        .record_login(
            ed.id,
            false,
            Some(t(900)),
            t(1),
            people_draft("ed", "login.failed"),
        )
        .await
        .unwrap();
    store
        .set_password(
            ed.id,
            "$argon2id$new".to_owned(),
            t(2),
            people_draft("ed", "user.password_set"),
        )
        .await
        .unwrap();
    let u = store.user(ed.id).await.unwrap().unwrap();
    assert_eq!(u.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!((u.failed_logins, u.locked_until), (0, None));
}

pub async fn removing_a_person_revokes_their_keys_and_ends_their_sessions(store: Arc<dyn Store>) {
    let fay = store
        .create_user(
            person("fay@example.com", Role::Manager, vec![]),
            people_draft("fay", "user.created"),
        )
        .await
        .unwrap();
    let key = KeyRecord {
        id: "key_00000000000000f1".to_owned(),
        kind: KeyKind::User,
        team_id: None,
        user_id: Some(fay.id),
        name: None,
        secret_hash: "ab".repeat(32),
        created_at: t(1),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    store
        .create_key(
            key.clone(),
            people_draft("key_00000000000000f1", "key.created"),
        )
        .await
        .unwrap();
    let session = SessionRecord {
        id_hash: "cd".repeat(32),
        user_id: fay.id,
        csrf_token: "csrf".to_owned(),
        created_at: t(1),
        expires_at: t(1) + TimeDelta::hours(8),
    };
    store.create_session(session.clone()).await.unwrap();
    store
        .remove_user(fay.id, t(2), people_draft("fay", "user.removed"))
        .await
        .unwrap();
    assert_eq!(store.user(fay.id).await.unwrap(), None);
    assert_eq!(
        store.key(&key.id).await.unwrap().unwrap().revoked_at,
        Some(t(2))
    );
    assert_eq!(store.session(&session.id_hash).await.unwrap(), None);
    let again = store
        .remove_user(fay.id, t(3), people_draft("fay", "user.removed"))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::NotFound(_)));
}

pub async fn sessions_are_found_deleted_and_purged_when_expired(store: Arc<dyn Store>) {
    let gus = store
        .create_user(
            person("gus@example.com", Role::Viewer, vec![]),
            people_draft("gus", "user.created"),
        )
        .await
        .unwrap();
    let make = |n: u8, expires| SessionRecord {
        id_hash: format!("{n:02x}").repeat(32),
        user_id: gus.id,
        csrf_token: format!("csrf{n}"),
        created_at: t(0),
        expires_at: expires,
    };
    let (a, b, c) = (make(1, t(100)), make(2, t(200)), make(3, t(300)));
    for s in [&a, &b, &c] {
        store.create_session(s.clone()).await.unwrap();
    }
    assert_eq!(store.session(&a.id_hash).await.unwrap(), Some(a.clone()));
    store.delete_session(&c.id_hash).await.unwrap();
    assert_eq!(store.session(&c.id_hash).await.unwrap(), None);
    assert_eq!(store.purge_sessions(t(150)).await.unwrap(), 1);
    assert_eq!(store.session(&a.id_hash).await.unwrap(), None);
    assert_eq!(store.session(&b.id_hash).await.unwrap(), Some(b));
}
