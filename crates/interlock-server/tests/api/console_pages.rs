//! The console's pages and forms over plain HTTP (no script): the inbox and its decisions,
//! stale decisions, approve with edits, batch approval, the rules editor, audit, admin,
//! and who sees which controls.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::console::*;
use crate::common::*;

/// A manager of team support signed in, with their session cookie and CSRF token.
async fn manager(s: &TestServer) -> (Console, String, String) {
    s.person("mia@example.com", "manager", &["support"], Some(PASSWORD))
        .await;
    signed_in(s, "mia@example.com").await
}

async fn signed_in(s: &TestServer, email: &str) -> (Console, String, String) {
    let c = Console::of(s);
    let cookie = c.session(email).await;
    let token = csrf_field(&c.page("/inbox", &cookie, StatusCode::OK).await);
    (c, cookie, token)
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_inbox_shows_a_time_bomb_with_its_countdown_and_a_decision_executes_it() {
    let s = TestServer::start().await;
    let (c, cookie, token) = manager(&s).await;
    let bomb = s.propose_refund("120.00").await;
    let id = id_of(&bomb);

    let html = c.page("/inbox", &cookie, StatusCode::OK).await;
    assert!(html.contains(&format!("id=\"action-{id}\"")), "{html}");
    assert!(
        html.contains("data-remaining-ms=\"86400000\""),
        "24 h left: {html}"
    );
    assert!(html.contains("24h"), "{html}");
    assert!(html.contains("halfway reminder in 12h"), "{html}");
    assert!(
        html.contains("band 50.00"),
        "the decision explanation: {html}"
    );

    let version = bomb["version"].as_u64().unwrap().to_string();
    let r = c
        .post_form(
            &format!("/actions/{id}/decide"),
            &cookie,
            &[
                ("csrf_token", &token),
                ("decision", "approve"),
                ("expected_version", &version),
                ("return_to", "/inbox?team=support"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/inbox?team=support&done=approved&count=1");
    s.wait_status(&id, "executed").await;
    let html = c.page("/inbox", &cookie, StatusCode::OK).await;
    assert!(
        !html.contains(&format!("id=\"action-{id}\"")),
        "gone from the inbox"
    );

    let page = c
        .page(&format!("/actions/{id}"), &cookie, StatusCode::OK)
        .await;
    for expected in [
        "action.approved",
        "action.executed",
        "mia@example.com",
        "Duplicate charge",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_stale_decision_answers_409_and_changes_nothing() {
    let s = TestServer::start().await;
    let (c, cookie, token) = manager(&s).await;
    let bomb = s.propose_refund("120.00").await;
    let id = id_of(&bomb);
    let seen = bomb["version"].as_u64().unwrap().to_string();
    let hold = [
        ("csrf_token", token.as_str()),
        ("decision", "hold"),
        ("expected_version", seen.as_str()),
        ("reason", "checking the invoice"),
    ];
    let path = format!("/actions/{id}/decide");
    assert_eq!(
        c.post_form(&path, &cookie, &hold).await.status(),
        StatusCode::SEE_OTHER
    );
    // The same page, submitted again with the version it showed.
    let reject = [
        ("csrf_token", token.as_str()),
        ("decision", "reject"),
        ("expected_version", seen.as_str()),
    ];
    let r = c.post_form(&path, &cookie, &reject).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Changed in the meantime") && html.contains("Nothing was done"),
        "{html}"
    );
    let (_, now) = s.get(&format!("/v1/actions/{id}"), &s.admin.clone()).await;
    assert_eq!(now["status"], "awaiting_approval");
    assert_eq!(now["reason"], "checking the invoice");
    s.stop().await;
}

#[tokio::test]
async fn a_decision_without_the_session_token_is_refused() {
    let s = TestServer::start().await;
    let (c, cookie, _) = manager(&s).await;
    let bomb = s.propose_refund("120.00").await;
    let id = id_of(&bomb);
    let r = c
        .post_form(
            &format!("/actions/{id}/decide"),
            &cookie,
            &[
                ("csrf_token", "forged"),
                ("decision", "approve"),
                ("expected_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, now) = s.get(&format!("/v1/actions/{id}"), &s.admin.clone()).await;
    assert_eq!(now["status"], "armed");
    s.stop().await;
}

#[tokio::test]
async fn approve_with_edits_runs_the_edited_payload_and_keeps_the_original() {
    let s = TestServer::start().await;
    let (c, cookie, token) = manager(&s).await;
    let proposed = s.propose_refund("600.00").await;
    let id = id_of(&proposed);
    let page = c
        .page(&format!("/actions/{id}"), &cookie, StatusCode::OK)
        .await;
    assert!(
        page.contains("name=\"p.amount\" value=\"600.00\""),
        "{page}"
    );
    let version = proposed["version"].as_u64().unwrap().to_string();
    let r = c
        .post_form(
            &format!("/actions/{id}/approve-with-edits"),
            &cookie,
            &[
                ("csrf_token", &token),
                ("expected_version", &version),
                ("p.customer_id", "cus_42"),
                ("p.amount", "450.00"),
                ("p.currency", "USD"),
                ("p.kind", "partial"),
                ("p.reason", "goodwill, capped"),
                ("comment", "capped at 450"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["payload"]["amount"], "450.00");
    assert_eq!(done["original_payload"]["amount"], "600.00");
    assert_eq!(done["comment"], "capped at 450");

    // An edit the schema refuses is reported and nothing changes.
    let other = id_of(&s.propose_refund("700.00").await);
    let r = c
        .post_form(
            &format!("/actions/{other}/approve-with-edits"),
            &cookie,
            &[
                ("csrf_token", &token),
                ("expected_version", "1"),
                ("p.amount", "lots"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, still) = s
        .get(&format!("/v1/actions/{other}"), &s.admin.clone())
        .await;
    assert_eq!(still["status"], "awaiting_approval");
    s.stop().await;
}

#[tokio::test]
async fn batch_approval_approves_the_picked_and_counts_the_stale() {
    let s = TestServer::start().await;
    let (c, cookie, token) = manager(&s).await;
    let a = id_of(&s.propose_refund("100.00").await);
    let b = id_of(&s.propose_refund("200.00").await);
    let stale = id_of(&s.propose_refund("300.00").await);
    let pick = |id: &str, v: u64| format!("{id}:{v}");
    let (pa, pb, ps) = (pick(&a, 1), pick(&b, 1), pick(&stale, 0));
    let r = c
        .post_form(
            "/inbox/approve",
            &cookie,
            &[
                ("csrf_token", &token),
                ("pick", &pa),
                ("pick", &pb),
                ("pick", &ps),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/inbox?done=approved&count=2&conflicts=1");
    s.wait_status(&a, "executed").await;
    s.wait_status(&b, "executed").await;
    let (_, left) = s
        .get(&format!("/v1/actions/{stale}"), &s.admin.clone())
        .await;
    assert_eq!(left["status"], "armed");
    let html = c.page(&location(&r), &cookie, StatusCode::OK).await;
    assert!(
        html.contains("Approved 2 actions. 1 could not be approved"),
        "{html}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_the_inbox_and_rules_but_no_decision_or_editing_controls() {
    let s = TestServer::start().await;
    s.person("vic@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let (c, cookie, token) = signed_in(&s, "vic@example.com").await;
    let id = id_of(&s.propose_refund("120.00").await);
    let inbox = c.page("/inbox", &cookie, StatusCode::OK).await;
    assert!(inbox.contains(&format!("id=\"action-{id}\"")));
    assert!(!inbox.contains("/decide"), "no decision forms: {inbox}");
    assert!(!inbox.contains("Approve selected"));
    let page = c
        .page(&format!("/actions/{id}"), &cookie, StatusCode::OK)
        .await;
    assert!(!page.contains("/decide") && !page.contains("approve-with-edits"));
    let rules = c
        .page("/settings/hitl-rules", &cookie, StatusCode::OK)
        .await;
    assert!(
        !rules.contains("id=\"rules-form\"") && !rules.contains("Roll back"),
        "{rules}"
    );
    // Posting anyway is refused.
    let r = c
        .post_form(
            &format!("/actions/{id}/decide"),
            &cookie,
            &[
                ("csrf_token", &token),
                ("decision", "approve"),
                ("expected_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.get("/admin", &cookie).await.status(),
        StatusCode::FORBIDDEN
    );
    s.stop().await;
}

/// The rules form fields of a page, as a browser would submit them unchanged.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("id=\"rules-form\"").expect("the rules form")..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut out = Vec::new();
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|at| {
            let rest = &tag[at + key.len()..];
            rest[..rest.find('"').unwrap()].replace("&#x2e;", ".")
        })
    };
    for piece in form.split('<').skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if tag.starts_with("input") {
            let (Some(name), kind) = (attr(tag, "name"), attr(tag, "type")) else {
                continue;
            };
            if kind.as_deref() == Some("checkbox") {
                if tag.contains(" checked") {
                    out.push((name, "on".to_owned()));
                }
            } else {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("select") {
            let name = attr(tag, "name").unwrap();
            let rest = &form[form.find(tag).unwrap()..];
            let options = &rest[..rest.find("</select>").unwrap()];
            let chosen = options
                .split("<option")
                .find(|o| o.contains(" selected"))
                .and_then(|o| attr(o, "value"))
                .unwrap_or_default();
            out.push((name, chosen));
        }
    }
    out
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let f = fields
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    f.1 = value.to_owned();
}

#[tokio::test]
async fn the_rules_editor_saves_a_version_refuses_invalid_bands_shows_diffs_and_rolls_back() {
    let s = TestServer::start().await;
    s.person("ada@example.com", "admin", &[], Some(PASSWORD))
        .await;
    let (c, cookie, _) = signed_in(&s, "ada@example.com").await;
    let html = c
        .page("/settings/hitl-rules?team=sales", &cookie, StatusCode::OK)
        .await;
    assert!(html.contains("version 1"), "{html}");
    let mut fields = form_fields(&html);
    set(&mut fields, "REFUND.level", "time_bomb");
    set(&mut fields, "REFUND.band.0.kind", "below");
    set(&mut fields, "REFUND.band.0.amount", "50.00");
    set(&mut fields, "REFUND.band.0.level", "autonomous");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let r = c.post_form("/settings/hitl-rules", &cookie, &pairs).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(location(&r), "/settings/hitl-rules?team=sales&saved=2");
    let (_, rules) = s.get("/v1/teams/sales/rules", &s.admin.clone()).await;
    assert_eq!(rules["version"], 2);
    assert_eq!(
        rules["categories"]["REFUND"]["thresholds"][0]["below"],
        "50.00"
    );

    // An invalid band: 422, the problem next to the band, nothing saved.
    let html = c
        .page("/settings/hitl-rules?team=sales", &cookie, StatusCode::OK)
        .await;
    let mut fields = form_fields(&html);
    set(&mut fields, "REFUND.band.1.kind", "from");
    set(&mut fields, "REFUND.band.1.amount", "500.00");
    set(&mut fields, "REFUND.band.1.to", "100.00");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let r = c.post_form("/settings/hitl-rules", &cookie, &pairs).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = r.text().await.unwrap();
    assert!(refused.contains("Nothing was saved"), "{refused}");
    let band_row = &refused[refused.find("id=\"band-REFUND-1\"").unwrap()..];
    assert!(
        band_row.contains("class=\"error\""),
        "the error sits under the band"
    );
    assert!(
        band_row.contains("value=\"100.00\""),
        "the form comes back as typed"
    );
    let (_, rules) = s.get("/v1/teams/sales/rules", &s.admin.clone()).await;
    assert_eq!(rules["version"], 2);

    let diff = c
        .page(
            "/settings/hitl-rules?team=sales&diff=2",
            &cookie,
            StatusCode::OK,
        )
        .await;
    assert!(
        diff.contains("categories.REFUND.thresholds[0].below"),
        "{diff}"
    );
    assert!(diff.contains("categories.REFUND.level"), "{diff}");

    let token = csrf_field(&diff);
    let r = c
        .post_form(
            "/settings/hitl-rules/rollback",
            &cookie,
            &[("csrf_token", &token), ("team", "sales"), ("version", "1")],
        )
        .await;
    assert_eq!(location(&r), "/settings/hitl-rules?team=sales&saved=3");
    let (_, rules) = s.get("/v1/teams/sales/rules", &s.admin.clone()).await;
    assert_eq!(rules["version"], 3);
    assert_eq!(
        rules["categories"]["REFUND"]["thresholds"],
        Value::Array(vec![])
    );
    s.stop().await;
}

#[tokio::test]
async fn the_audit_page_searches_exports_and_verifies_the_chains() {
    let s = TestServer::start().await;
    s.person("own@example.com", "owner", &[], Some(PASSWORD))
        .await;
    let (c, cookie, _) = signed_in(&s, "own@example.com").await;
    let id = id_of(&s.propose_refund("120.00").await);
    let html = c
        .page(&format!("/audit?action={id}"), &cookie, StatusCode::OK)
        .await;
    assert!(
        html.contains("action.proposed") || html.contains("time_bomb.armed"),
        "{html}"
    );
    assert!(html.contains(&format!("/v1/audit/export?action={id}&amp;format=csv")));
    let csv = c
        .get(&format!("/v1/audit/export?action={id}&format=csv"), &cookie)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().contains(&id));
    let verified = c.page("/audit/verify", &cookie, StatusCode::OK).await;
    assert!(verified.contains("All chains intact"), "{verified}");
    let bad = c.get("/audit?since=yesterday", &cookie).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn admins_create_teams_and_keys_from_the_console_and_the_token_is_shown_once() {
    let s = TestServer::start().await;
    s.person("ada@example.com", "admin", &[], Some(PASSWORD))
        .await;
    let (c, cookie, token) = signed_in(&s, "ada@example.com").await;
    let r = c
        .post_form(
            "/admin/teams",
            &cookie,
            &[
                ("csrf_token", &token),
                ("slug", "billing"),
                ("name", "Billing"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post_form(
            "/admin/keys",
            &cookie,
            &[
                ("csrf_token", &token),
                ("kind", "agent"),
                ("team", "billing"),
                ("name", "bot"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let at = html.find("id=\"new-token\">").unwrap() + 15;
    let key = html[at..html[at..].find('<').unwrap() + at].to_owned();
    let (status, _) = s.get("/v1/actions?team=billing", &key).await;
    assert_eq!(status, StatusCode::OK, "the new agent key works");
    let again = c.page("/admin", &cookie, StatusCode::OK).await;
    assert!(!again.contains(&key), "the token is not shown twice");
    // Admins manage no people: the people forms are absent and refused.
    assert!(!again.contains("action=\"/admin/people\""));
    let r = c
        .post_form(
            "/admin/people",
            &cookie,
            &[
                ("csrf_token", &token),
                ("email", "x@example.com"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn admins_set_connectors_and_channels_and_send_tests_from_the_console() {
    let s = TestServer::start().await;
    let receiver = crate::common::receiver::Receiver::start().await;
    s.person("ada@example.com", "admin", &[], Some(PASSWORD))
        .await;
    let (c, cookie, token) = signed_in(&s, "ada@example.com").await;
    let form = |pairs: &[(&'static str, String)]| {
        let mut all = vec![
            ("csrf_token", token.clone()),
            ("team", "support".to_owned()),
        ];
        all.extend(pairs.iter().cloned());
        all
    };
    let post = async |pairs: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = c.post_form("/admin/integrations", &cookie, &fields).await;
        (r.status(), r.text().await.unwrap())
    };
    let hook = receiver.url.clone();
    let (status, html) = post(form(&[
        ("do", "set_connector".into()),
        ("category", "REFUND".into()),
        ("kind", "webhook".into()),
        ("url", hook.clone()),
        ("secret", "0123456789abcdef0123".into()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("REFUND now runs through the webhook connector"),
        "{html}"
    );
    assert!(
        !html.contains("0123456789abcdef0123"),
        "the secret is never shown"
    );
    let (_, html) = post(form(&[
        ("do", "test_connector".into()),
        ("category", "REFUND".into()),
    ]))
    .await;
    assert!(
        html.contains("Test of the REFUND connector: delivered"),
        "{html}"
    );
    assert_eq!(receiver.received().len(), 1, "the receiver got the test");

    // A webhook without a secret is refused and nothing changes.
    let (status, html) = post(form(&[
        ("do", "set_connector".into()),
        ("category", "SEND_CHAT".into()),
        ("kind", "webhook".into()),
        ("url", hook.clone()),
    ]))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Not saved"), "{html}");
    let (_, list) = s
        .get("/v1/teams/support/connectors", &s.admin.clone())
        .await;
    let chat = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "SEND_CHAT")
        .unwrap();
    assert_eq!(chat["kind"], "log");

    let (status, html) = post(form(&[
        ("do", "add_channel".into()),
        ("kind", "webhook".into()),
        ("url", hook.clone()),
        ("secret", "0123456789abcdef0123".into()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (_, channels) = s.get("/v1/teams/support/channels", &s.admin.clone()).await;
    let id = channels[0]["id"].as_str().unwrap().to_owned();
    let (_, html) = post(form(&[
        ("do", "test_channel".into()),
        ("channel", id.clone()),
    ]))
    .await;
    assert!(
        html.contains(&format!("Test of channel {id}: delivered")),
        "{html}"
    );
    assert_eq!(receiver.received().len(), 2);
    let (_, html) = post(form(&[
        ("do", "remove_channel".into()),
        ("channel", id.clone()),
    ]))
    .await;
    assert!(html.contains("removed"), "{html}");
    let (_, channels) = s.get("/v1/teams/support/channels", &s.admin.clone()).await;
    assert_eq!(channels, serde_json::json!([]));
    s.stop().await;
}
