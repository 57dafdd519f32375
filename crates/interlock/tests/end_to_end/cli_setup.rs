//! SPEC §13, §16: set-up from the command line, against a database a server may or may
//! not be using: teams, keys, rule files, the config file, audit exports.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::api::Api;
use crate::common::cli::interlock;
use crate::common::db::TestDb;
use crate::common::server::Server;
use crate::common::{refund, worked_example_path};

/// `key_<16 hex>.<64 hex>`.
fn is_key_shaped(token: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match token.split_once('.') {
        Some((id, secret)) => id
            .strip_prefix("key_")
            .is_some_and(|id| hex(id, 16) && hex(secret, 64)),
        None => false,
    }
}

/// Creates a key and checks that stdout is that one token on one line.
fn create_key(db: &TestDb, args: &[&str]) -> String {
    let ran = db.cli(&[&["key", "create"], args].concat()).ok();
    let token = ran.stdout.trim_end_matches('\n');
    assert_eq!(ran.stdout, format!("{token}\n"), "exactly one line");
    assert!(is_key_shaped(token), "not key-shaped: {token:?}");
    token.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_teams_created_from_the_cli_while_the_server_runs_work_at_once() {
    let db = TestDb::new();
    db.cli(&["team", "create", "support", "--name", "Support"])
        .ok();
    let (mut server, url) = Server::start(&db, &["--listen", "127.0.0.1:0"], &[]);
    let api = Api::new(&url);

    let agent = create_key(&db, &["--kind", "agent", "--team", "support"]);
    let (status, body) = api.post("/v1/actions", &agent, &refund("20.00")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["level"], "human_approval",
        "a new team is conservative: {body:#}"
    );

    db.cli(&["team", "create", "ops", "--name", "Operations"])
        .ok();
    let admin = create_key(&db, &["--kind", "admin"]);
    let (status, teams) = api.get("/v1/teams", &admin).await;
    assert_eq!(status, StatusCode::OK, "{teams}");
    assert!(teams.to_string().contains("\"ops\""), "{teams:#}");
    let ops_agent = create_key(&db, &["--kind", "agent", "--team", "ops"]);
    let (status, body) = api.post("/v1/actions", &ops_agent, &refund("20.00")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["team"], "ops", "{body:#}");

    let (id, _) = agent.split_once('.').unwrap();
    db.cli(&["key", "revoke", id]).ok();
    let (status, body) = api.get("/v1/actions", &agent).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a key revoked from the CLI stops working at once: {body}"
    );
    let listed = db.cli(&["key", "list"]).ok().stdout;
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(id) && l.contains("revoked")),
        "{listed}"
    );
    assert!(
        !listed.contains(agent.split_once('.').unwrap().1),
        "{listed}"
    );

    let (exit, took) = server.sigterm(Duration::from_secs(20));
    assert!(exit.success(), "{exit} after {took:?}");
}

#[test]
fn team_create_refuses_a_bad_slug_with_a_clear_message_and_a_taken_one() {
    let db = TestDb::new();
    let bad = db
        .cli(&["team", "create", "Customer Care!", "--name", "Care"])
        .refused();
    assert!(
        bad.stderr.starts_with("error[invalid_slug]: "),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("`Customer Care!`"), "{}", bad.stderr);

    db.cli(&["team", "create", "support", "--name", "Support"])
        .ok();
    let again = db
        .cli(&["team", "create", "support", "--name", "Support again"])
        .refused();
    assert!(again.stderr.starts_with("error["), "{}", again.stderr);
    assert!(again.stderr.contains("support"), "{}", again.stderr);

    let teams = db.cli(&["team", "list"]).ok().stdout;
    assert_eq!(teams.lines().count(), 1, "{teams}");
    assert!(teams.starts_with("support\tSupport\t"), "{teams}");
}

#[test]
fn rules_set_saves_nothing_from_a_bad_file_and_a_new_version_from_a_good_one() {
    let db = TestDb::new();
    db.cli(&["team", "create", "support", "--name", "Support"])
        .ok();
    let get = || db.cli(&["rules", "get", "--team", "support"]).ok().stdout;
    let first = get();
    let version = |text: &str| serde_json::from_str::<Value>(text).unwrap()["version"].clone();
    assert_eq!(version(&first), 1);

    let overlapping = db.write(
        "overlapping.json",
        r#"{"categories": {"REFUND": {"thresholds": [
            {"below": "60.00", "level": "autonomous"},
            {"from": "50.00", "to": "500.00", "level": "time_bomb"}]}}}"#,
    );
    let ran = db
        .cli(&[
            "rules",
            "set",
            "--team",
            "support",
            overlapping.to_str().unwrap(),
        ])
        .refused();
    assert!(
        ran.stderr.starts_with("error[invalid_rules]"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("overlaps"), "{}", ran.stderr);
    let garbled = db.write("garbled.json", "{\"categories\": ");
    let ran = db
        .cli(&[
            "rules",
            "set",
            "--team",
            "support",
            garbled.to_str().unwrap(),
        ])
        .refused();
    assert!(
        ran.stderr.starts_with("error[malformed_rules]"),
        "{}",
        ran.stderr
    );
    assert_eq!(get(), first, "a refused file changes nothing");

    let worked = worked_example_path();
    let saved = db
        .cli(&[
            "rules",
            "set",
            "--team",
            "support",
            worked.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(saved.stdout.trim(), "team support: saved rules version 2");
    let now = get();
    assert_eq!(version(&now), 2);
    assert!(now.contains("\"below\": \"50.00\""), "{now}");
    let old = db
        .cli(&["rules", "get", "--team", "support", "--version", "1"])
        .ok()
        .stdout;
    assert_eq!(old, first, "the old version stays readable");
}

#[test]
fn rules_get_as_toml_round_trips_through_validate_and_set() {
    let db = TestDb::new();
    db.cli(&["team", "create", "support", "--name", "Support"])
        .ok();
    let worked = worked_example_path();
    db.cli(&[
        "rules",
        "set",
        "--team",
        "support",
        worked.to_str().unwrap(),
    ])
    .ok();
    let toml = db
        .cli(&["rules", "get", "--team", "support", "--format", "toml"])
        .ok()
        .stdout;
    let file = db.write("support.toml", &toml);
    let file = file.to_str().unwrap();

    let valid = interlock(["rules", "validate", file]).ok();
    assert!(valid.stdout.contains("valid"), "{}", valid.stdout);
    let decided = interlock([
        "rules",
        "decide",
        file,
        "--category",
        "REFUND",
        "--amount",
        "120.00",
    ])
    .ok();
    assert!(
        decided.stdout.contains("level:       time_bomb"),
        "{}",
        decided.stdout
    );
    let same = db.cli(&["rules", "set", "--team", "support", file]).ok();
    assert!(
        same.stdout.contains("no change"),
        "the TOML says exactly what was saved: {}",
        same.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_accepts_the_file_that_config_default_prints() {
    let printed = interlock(["config", "default"]).ok().stdout;
    assert!(printed.contains("job_lease_seconds = "), "{printed}");
    let db = TestDb::new();
    let file = db.write("interlock.toml", &printed);
    let (mut server, url) = Server::start(
        &db,
        &[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let (status, body) = Api::new(&url).get("/healthz", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (exit, took) = server.sigterm(Duration::from_secs(20));
    assert!(exit.success(), "{exit} after {took:?}");

    let unknown = db.write("typo.toml", &format!("{printed}\njob_leas_seconds = 5\n"));
    let mut refused = Server::spawn(&db, &["--config", unknown.to_str().unwrap()], &[]);
    let exit = refused.wait_exit(Duration::from_secs(20));
    assert!(!exit.success());
    let log = refused.log_text();
    assert!(log.contains("job_leas_seconds"), "{log}");
}

#[test]
fn audit_export_writes_csv_with_a_header_and_json_lines_one_per_entry() {
    let db = TestDb::new();
    db.cli(&[
        "team",
        "create",
        "support",
        "--name",
        "Support, Inc. \"EU\"",
    ])
    .ok();
    db.key(&["--kind", "agent", "--team", "support"]);
    let worked = worked_example_path();
    db.cli(&[
        "rules",
        "set",
        "--team",
        "support",
        worked.to_str().unwrap(),
    ])
    .ok();
    let verified = db.cli(&["audit", "verify"]).ok().stdout;
    let entries: usize = verified
        .trim()
        .strip_prefix("audit trail intact: ")
        .and_then(|s| s.strip_suffix(" entries verified"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{verified}"));
    assert!(entries >= 3, "{verified}");

    let csv = db.cli(&["audit", "export", "--format", "csv"]).ok().stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,chain,seq,at,team,actor_kind,actor_id,subject,type,data,prev_hash,hash")
    );
    assert_eq!(lines.count(), entries, "{csv}");

    let jsonl = db.cli(&["audit", "export"]).ok().stdout;
    let parsed: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(parsed.len(), entries);
    for entry in &parsed {
        assert!(
            entry["hash"].is_string() && entry["chain"].is_string(),
            "{entry}"
        );
    }
    assert!(
        parsed.iter().any(|e| e["type"] == "rules.changed"),
        "{jsonl}"
    );
}
