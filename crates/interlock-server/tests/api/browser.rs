//! The console in a real headless Chromium: sign in, edit the rules, watch a time bomb
//! arrive live and count down, hold it, approve it, see it executed; a viewer sees no
//! decision buttons. Screenshots of the inbox, an action page and the rules page are taken
//! on the way.

use std::time::Duration;

use crate::common::browser::Browser;
use crate::common::console::PASSWORD;
use crate::common::*;

async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.find("nav.main-nav").await;
}

#[tokio::test]
async fn a_manager_and_an_admin_run_a_refund_through_the_console() {
    let s = TestServer::start().await;
    s.person("ada@example.com", "owner", &[], Some(PASSWORD))
        .await;
    let b = Browser::start().await;
    sign_in(&b, &s.base, "ada@example.com").await;
    assert!(
        b.client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/inbox")
    );

    // Team sales starts conservative: give REFUND the worked example's bands.
    b.goto(&format!("{}/settings/hitl-rules?team=sales", s.base))
        .await;
    assert_eq!(b.text("#rules-version").await, "version 1");
    b.select("select[name='REFUND.band.0.kind']", "below").await;
    b.fill("input[name='REFUND.band.0.amount']", "50.00").await;
    b.select("select[name='REFUND.band.0.level']", "autonomous")
        .await;
    b.select("select[name='REFUND.band.1.kind']", "from").await;
    b.fill("input[name='REFUND.band.1.amount']", "50.00").await;
    b.fill("input[name='REFUND.band.1.to']", "500.00").await;
    b.select("select[name='REFUND.band.1.level']", "time_bomb")
        .await;
    b.fill("input[name='REFUND.band.1.duration']", "24h").await;
    b.click("#save-rules").await;
    b.wait_text("#saved-notice", |t| t.contains("Saved as version 2"))
        .await;
    assert_eq!(b.text("#rules-version").await, "version 2");
    b.select("select[name='REFUND.band.2.kind']", "above").await;
    b.fill("input[name='REFUND.band.2.amount']", "500.00").await;
    b.select("select[name='REFUND.band.2.level']", "human_approval")
        .await;
    b.click("#save-rules").await;
    b.wait_text("#saved-notice", |t| t.contains("Saved as version 3"))
        .await;
    b.client
        .execute(
            "document.getElementById('cat-REFUND').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("rules").await;

    // An invalid band: its error shows next to it and nothing is saved.
    b.select("select[name='REFUND.band.3.kind']", "from").await;
    b.fill("input[name='REFUND.band.3.amount']", "900.00").await;
    b.fill("input[name='REFUND.band.3.to']", "100.00").await;
    b.click("#save-rules").await;
    let problems = b.text("#problems").await;
    assert!(problems.contains("Nothing was saved"), "{problems}");
    assert!(b.exists("tr.band-problems .error").await);
    assert_eq!(b.text("#rules-version").await, "version 3");
    let (_, rules) = s.get("/v1/teams/sales/rules", &s.admin.clone()).await;
    assert_eq!(rules["version"], 3);

    // The inbox is open when an agent proposes a $120 refund: it arrives without a reload.
    b.goto(&format!("{}/inbox", s.base)).await;
    b.wait_text("#live-status", |t| t == "Live").await;
    b.client
        .execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    let mut refund = refund("120.00");
    refund["title"] = "Refund 120.00 to Acme".into();
    let (status, proposed) = s.post("/v1/actions", &s.sales_agent.clone(), refund).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{proposed}");
    assert_eq!(proposed["status"], "armed");
    let id = id_of(&proposed);
    let card = format!("#action-{id}");
    let first = b
        .wait_text(&format!("{card} time.remaining"), |t| t.contains("23h 59m"))
        .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = b.text(&format!("{card} time.remaining")).await;
    assert_ne!(first, later, "the countdown runs");
    let still = b
        .client
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        still,
        serde_json::Value::Bool(true),
        "no page reload happened"
    );
    b.screenshot("inbox").await;

    // Hold it: the countdown stops and it waits for approval.
    b.click(&format!("{card} button[value=hold]")).await;
    s.wait_status(&id, "awaiting_approval").await;
    b.wait_text(&format!("{card} .badge"), |t| t == "awaiting approval")
        .await;
    assert!(!b.exists(&format!("{card} time.remaining")).await);

    // Approve it from its page and see it executed, with its timeline.
    b.goto(&format!("{}/actions/{id}", s.base)).await;
    assert!(b.text("#explanation").await.contains("time bomb"));
    b.click(&format!("{card} button[value=approve]")).await;
    s.wait_status(&id, "executed").await;
    b.goto(&format!("{}/actions/{id}", s.base)).await;
    assert_eq!(b.text("#status").await, "executed");
    let timeline = b.text("#timeline").await;
    for event in ["action.held", "action.approved", "action.executed"] {
        assert!(timeline.contains(event), "{event} in {timeline}");
    }
    b.screenshot("action").await;
    b.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn a_viewer_sees_pending_actions_but_no_decision_buttons() {
    let s = TestServer::start().await;
    s.person("vic@example.com", "viewer", &["support"], Some(PASSWORD))
        .await;
    let id = id_of(&s.propose_refund("120.00").await);
    let b = Browser::start().await;
    sign_in(&b, &s.base, "vic@example.com").await;
    let card = format!("#action-{id}");
    b.find(&card).await;
    assert!(b.exists(&format!("{card} time.remaining")).await);
    assert!(
        !b.exists(&format!("{card} button")).await,
        "{}",
        b.source().await
    );
    // Phone-sized: nothing runs off the side of the screen.
    b.client.set_window_size(375, 800).await.unwrap();
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    for path in [
        "/inbox".to_owned(),
        format!("/actions/{id}"),
        "/audit".to_owned(),
    ] {
        b.goto(&format!("{}{path}", s.base)).await;
        let ok = b.client.execute(fits, vec![]).await.unwrap();
        assert_eq!(
            ok,
            serde_json::Value::Bool(true),
            "{path} is wider than a phone"
        );
    }
    b.goto(&format!("{}/actions/{id}", s.base)).await;
    assert!(!b.exists("form.decide").await && !b.exists("#edit").await);
    b.goto(&format!("{}/settings/hitl-rules", s.base)).await;
    assert!(!b.exists("#rules-form").await);
    b.stop().await;
    s.stop().await;
}
