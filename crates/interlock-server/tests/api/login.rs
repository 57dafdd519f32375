//! Console sign-in: sessions, cookies, CSRF, brute-force protection, security headers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::console::*;
use crate::common::*;

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_session_and_shows_the_account() {
    let s = TestServer::start().await;
    s.person("ana@example.com", "manager", &["support"], Some(PASSWORD))
        .await;
    let c = Console::of(&s);
    let r = c.sign_in("Ana@Example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let cookie = set_cookie(&r, "interlock_session").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let account = c.get("/account", &cookie_pair(&cookie)).await;
    assert_eq!(account.status(), StatusCode::OK);
    let csp = account.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(account.headers()["x-content-type-options"], "nosniff");
    assert_eq!(account.headers()["referrer-policy"], "same-origin");
    assert_eq!(account.headers()["cache-control"], "no-store");
    let html = account.text().await.unwrap();
    assert!(
        html.contains("ana@example.com") && html.contains("support"),
        "{html}"
    );
    let (_, audit) = s.get("/v1/audit?type=login.succeeded", &s.admin).await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn behind_tls_the_session_cookie_is_secure() {
    let s = TestServer::start().await;
    s.person("bo@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let http = browser();
    let form = http
        .get(format!("{}/login", s.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let csrf_cookie = cookie_pair(&set_cookie(&form, "interlock_login_csrf").unwrap());
    let token = csrf_field(&form.text().await.unwrap());
    let r = http
        .post(format!("{}/login", s.base))
        .header("cookie", csrf_cookie)
        .header("x-forwarded-proto", "https")
        .form(&[
            ("email", "bo@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        set_cookie(&r, "interlock_session")
            .unwrap()
            .contains("; Secure")
    );
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_get_the_same_answer() {
    let s = TestServer::start().await;
    s.person("cy@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let c = Console::of(&s);
    for (email, password) in [
        ("cy@example.com", "not the password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let r = c.sign_in(email, password).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&r, "interlock_session").is_none());
        assert!(r.text().await.unwrap().contains("Wrong email or password."));
    }
    let (_, audit) = s.get("/v1/audit?type=login.failed", &s.admin).await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn repeated_failures_are_slowed_down_and_then_lock_the_account() {
    let s = TestServer::start_with(interlock_server::ServerSettings {
        logins_per_minute: 1000,
        ..settings()
    })
    .await;
    s.person("dee@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let c = Console::of(&s);
    for attempt in 1..=9 {
        let started = Instant::now();
        let r = c.sign_in("dee@example.com", "wrong password!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        if attempt > 3 {
            // Past the third failure every answer waits at least a quarter second.
            assert!(
                started.elapsed() >= Duration::from_millis(250),
                "attempt {attempt} was not slowed"
            );
        }
    }
    let tenth = c.sign_in("dee@example.com", "wrong password!").await;
    assert_eq!(tenth.status(), StatusCode::TOO_MANY_REQUESTS);
    // Locked: even the right password is refused now.
    let right = c.sign_in("dee@example.com", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = right.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 60, "{retry}");
    assert!(right.text().await.unwrap().contains("locked"));
    let (_, audit) = s.get("/v1/audit?type=login.failed&limit=1", &s.admin).await;
    assert_eq!(audit["entries"][0]["data"]["reason"], "locked");
    s.stop().await;
}

#[tokio::test]
async fn too_many_attempts_from_one_address_get_429_with_retry_after() {
    // Three a minute: a token comes back every 20 s, far longer than this test runs.
    let s = TestServer::start_with(interlock_server::ServerSettings {
        logins_per_minute: 3,
        ..settings()
    })
    .await;
    let c = Console::of(&s);
    for _ in 0..3 {
        assert_eq!(
            c.sign_in("x@example.com", "guess guess guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = c.sign_in("x@example.com", "guess guess guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    s.stop().await;
}

#[tokio::test]
async fn form_posts_without_the_csrf_token_are_refused() {
    let s = TestServer::start().await;
    s.person("eve@example.com", "manager", &["support"], Some(PASSWORD))
        .await;
    let c = Console::of(&s);
    // The login form itself: no token, or a token without its cookie.
    let r = c
        .http
        .post(format!("{}/login", s.base))
        .form(&[("email", "eve@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .http
        .post(format!("{}/login", s.base))
        .form(&[
            ("email", "eve@example.com"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Signed in: logout without the session's token is refused and the session lives on.
    let session = c.session("eve@example.com").await;
    let r = c
        .http
        .post(format!("{}/logout", s.base))
        .header("cookie", &session)
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(c.get("/account", &session).await.status(), StatusCode::OK);
    // The API with the session cookie: writes need the X-CSRF-Token header.
    let a = s.propose_refund("120.00").await;
    let hold = format!("{}/v1/actions/{}/hold", s.base, id_of(&a));
    let r = c
        .http
        .post(&hold)
        .header("cookie", &session)
        .json(&json!({"expected_version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["code"], "csrf_token_invalid");
    let token = csrf_field(&c.get("/account", &session).await.text().await.unwrap());
    let r = c
        .http
        .post(&hold)
        .header("cookie", &session)
        .header("x-csrf-token", token)
        .json(&json!({"expected_version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Reads need no token.
    assert_eq!(
        c.get("/v1/actions", &session).await.status(),
        StatusCode::OK
    );
    s.stop().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_everywhere() {
    let s = TestServer::start().await;
    s.person("fay@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let c = Console::of(&s);
    let session = c.session("fay@example.com").await;
    let token = csrf_field(&c.get("/account", &session).await.text().await.unwrap());
    let r = c
        .http
        .post(format!("{}/logout", s.base))
        .header("cookie", &session)
        .form(&[("csrf_token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookie(&r, "interlock_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let account = c.get("/account", &session).await;
    assert_eq!(
        (
            account.status(),
            account.headers()["location"].to_str().unwrap()
        ),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(
        c.get("/v1/actions", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let s = TestServer::start().await;
    s.person("gus@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let user = s
        .store
        .user_by_email("gus@example.com")
        .await
        .unwrap()
        .unwrap();
    let token = "ab".repeat(32);
    let past = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    s.store
        .create_session(interlock_store::SessionRecord {
            id_hash: interlock_server::auth::hash_secret(&token),
            user_id: user.id,
            csrf_token: "t".into(),
            created_at: past - chrono::TimeDelta::hours(8),
            expires_at: past,
        })
        .await
        .unwrap();
    let c = Console::of(&s);
    let cookie = format!("interlock_session={token}");
    assert_eq!(
        c.get("/account", &cookie).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        c.get("/v1/actions", &cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
}
