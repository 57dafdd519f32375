//! The offline rule commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn interlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_accepts_the_worked_example_in_json_and_toml() {
    for file in ["examples/rules.json", "examples/rules.toml"] {
        let o = interlock(&["rules", "validate", file]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        assert!(stdout(&o).contains("valid"), "{}", stdout(&o));
    }
}

#[test]
fn validate_lists_every_problem_on_stderr_and_fails() {
    let dir = tempdir();
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        r#"{"categories": {"REFUND": {"thresholds": [
            {"below": "60.00", "level": "autonomous"},
            {"from": "50.00", "to": "500.00", "level": "time_bomb"},
            {"above": "-3", "level": "human_approval"}]}}}"#,
    )
    .unwrap();
    let o = interlock(&["rules", "validate", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("invalid_rules"), "{err}");
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("band 2 (50.00–500.00) overlaps band 1 (< 60.00)"),
        "{err}"
    );
    assert!(err.contains("negative"), "{err}");
}

#[test]
fn validate_reports_a_missing_file_clearly() {
    let o = interlock(&["rules", "validate", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no/such/file.json"), "{}", stderr(&o));
}

#[test]
fn validate_reads_json_from_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(["rules", "validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{}").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
}

#[test]
fn decide_prints_the_level_and_explanation_of_each_worked_example_row() {
    for (amount, level) in [
        ("49.99", "autonomous"),
        ("50.00", "time_bomb"),
        ("500.00", "time_bomb"),
        ("500.01", "human_approval"),
    ] {
        let o = interlock(&[
            "rules",
            "decide",
            "examples/rules.json",
            "--category",
            "REFUND",
            "--amount",
            amount,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!("level:       {level}")),
            "{amount}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn decide_as_json_gives_level_rule_explanation_and_reminder_offsets() {
    let o = interlock(&[
        "rules",
        "decide",
        "examples/rules.toml",
        "--category",
        "REFUND",
        "--amount",
        "120",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["level"], "time_bomb");
    assert_eq!(v["rule"], "threshold");
    assert_eq!(
        v["explanation"],
        "REFUND 120.00 USD → time bomb 24 h: band 50.00–500.00, rules v1"
    );
    assert_eq!(v["time_bomb"]["duration"], "24h");
    let kinds: Vec<&str> = v["time_bomb"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["half", "ninety", "final_warning"]);
}

#[test]
fn decide_with_an_advisory_tag_is_advisory() {
    let o = interlock(&[
        "rules",
        "decide",
        "examples/rules.json",
        "--category",
        "REFUND",
        "--amount",
        "10",
        "--tag",
        "legal_notice",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["level"].as_str(), v["rule"].as_str()),
        (Some("advisory"), Some("advisory_tag"))
    );
}

#[test]
fn decide_refusals_print_their_code_and_fail() {
    for (extra, code) in [
        (vec![], "amount_required"),
        (vec!["--amount", "-5"], "negative_amount"),
        (vec!["--amount", "1.005"], "too_many_decimals"),
        (vec!["--amount", "abc"], "invalid_amount"),
        (
            vec!["--amount", "10", "--currency", "EUR"],
            "currency_mismatch",
        ),
        (
            vec!["--amount", "10", "--currency", "ZZZ"],
            "unknown_currency",
        ),
    ] {
        let mut args = vec![
            "rules",
            "decide",
            "examples/rules.json",
            "--category",
            "REFUND",
        ];
        args.extend(extra.iter().copied());
        let o = interlock(&args);
        assert_eq!(o.status.code(), Some(1), "{code}");
        assert!(
            stderr(&o).contains(&format!("error[{code}]")),
            "{code}: {}",
            stderr(&o)
        );

        args.push("--json");
        let o = interlock(&args);
        assert_eq!(o.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["code"], code);
    }
}

#[test]
fn decide_refuses_an_unknown_category() {
    let o = interlock(&[
        "rules",
        "decide",
        "examples/rules.json",
        "--category",
        "refund",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[unknown_category]"),
        "{}",
        stderr(&o)
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("interlock-cli-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
