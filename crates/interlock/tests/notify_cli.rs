//! `interlock channel …` and `interlock connector test`, run as the real binary against a
//! SQLite file and a real HTTP receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .arg("--database")
        .arg(db)
        // Other INTERLOCK_ variables (the demo's env file sets this one) are not settings.
        .env("INTERLOCK_URL", "http://127.0.0.1:8080")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An HTTP receiver answering every request with `status`; keeps each request's head.
fn receiver(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock().unwrap().push(head);
            let answer =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn channels_are_added_tested_listed_and_removed_and_connectors_tested() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    assert!(
        run(&db, &["team", "create", "support", "--name", "Support"])
            .status
            .success()
    );
    let (url, seen) = receiver(200);
    let secret = "0123456789abcdef0123";
    let body = format!(r#"{{"kind": "webhook", "url": "{url}", "secret": "{secret}"}}"#);
    let added = run(&db, &["channel", "add", "--team", "support", &body]);
    assert!(added.status.success(), "{}", text(&added));
    let shown: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let id = shown["id"].as_str().unwrap().to_owned();
    assert!(
        !text(&added).contains(secret),
        "the secret is never printed"
    );

    let tested = run(&db, &["channel", "test", "--team", "support", &id]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(text(&tested).contains("200"), "{}", text(&tested));
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("interlock-signature:"),
        "{}",
        heads[0]
    );

    let listed = run(&db, &["channel", "list", "--team", "support"]);
    assert!(text(&listed).contains(&id) && !text(&listed).contains(secret));
    let removed = run(&db, &["channel", "remove", "--team", "support", &id]);
    assert!(removed.status.success(), "{}", text(&removed));
    let listed = run(&db, &["channel", "list", "--team", "support"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");

    // The default connector of a category answers a test too.
    let logged = run(&db, &["connector", "test", "--team", "support", "REFUND"]);
    assert!(logged.status.success(), "{}", text(&logged));
}

#[test]
fn a_refusing_receiver_and_bad_input_exit_non_zero_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    assert!(
        run(&db, &["team", "create", "support", "--name", "Support"])
            .status
            .success()
    );
    let (url, _) = receiver(500);
    let body =
        format!(r#"{{"kind": "webhook", "url": "{url}", "secret": "0123456789abcdef0123"}}"#);
    let added = run(&db, &["channel", "add", "--team", "support", &body]);
    let id = serde_json::from_slice::<serde_json::Value>(&added.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tested = run(&db, &["channel", "test", "--team", "support", &id]);
    assert!(!tested.status.success());
    assert!(text(&tested).contains("500"), "{}", text(&tested));

    let bad = run(&db, &["channel", "add", "--team", "support", "{not json"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("invalid_body"), "{}", text(&bad));
    let no_secret = format!(r#"{{"kind": "webhook", "url": "{url}"}}"#);
    let refused = run(&db, &["channel", "add", "--team", "support", &no_secret]);
    assert!(!refused.status.success(), "{}", text(&refused));
    let listed = run(&db, &["channel", "list", "--team", "support"]);
    let all: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "the refused channel was not stored"
    );
}
