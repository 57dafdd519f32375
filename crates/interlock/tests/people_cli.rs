//! `interlock user …` and personal keys, run as the real binary against a SQLite file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_interlock"))
        .args(args)
        .arg("--database")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn people_are_added_listed_promoted_given_keys_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    assert!(
        run(
            &db,
            &["team", "create", "support", "--name", "Support"],
            None
        )
        .status
        .success()
    );

    let added = run(
        &db,
        &[
            "user",
            "add",
            "Ana@Example.com",
            "--role",
            "owner",
            "--password-stdin",
        ],
        Some("a long passphrase\n"),
    );
    assert!(added.status.success(), "{}", err(&added));
    assert_eq!(out(&added).trim(), "added ana@example.com as owner");
    let mia = run(
        &db,
        &[
            "user",
            "add",
            "mia@example.com",
            "--role",
            "viewer",
            "--team",
            "support",
            "--no-password",
        ],
        None,
    );
    assert!(mia.status.success(), "{}", err(&mia));

    let list = out(&run(&db, &["user", "list"], None));
    assert!(list.contains("ana@example.com\towner\t-"), "{list}");
    assert!(list.contains("mia@example.com\tviewer\tsupport"), "{list}");

    let promoted = run(
        &db,
        &[
            "user",
            "set-role",
            "mia@example.com",
            "--role",
            "manager",
            "--team",
            "support",
        ],
        None,
    );
    assert!(promoted.status.success(), "{}", err(&promoted));
    assert!(out(&run(&db, &["user", "list"], None)).contains("mia@example.com\tmanager\tsupport"));

    let key = run(&db, &["key", "create", "--user", "mia@example.com"], None);
    assert!(key.status.success(), "{}", err(&key));
    let token = out(&key);
    let token = token.trim();
    assert_eq!(out(&key).lines().count(), 1);
    assert!(
        token.starts_with("key_") && token.len() == 20 + 1 + 64,
        "{token}"
    );

    let removed = run(&db, &["user", "remove", "mia@example.com"], None);
    assert!(removed.status.success(), "{}", err(&removed));
    let keys = out(&run(&db, &["key", "list"], None));
    assert!(
        keys.contains(&format!("{}\tuser\t-\trevoked", &token[..20])),
        "{keys}"
    );
    assert!(!keys.contains(&token[21..]), "a secret is listed");
}

#[test]
fn bad_input_is_refused_with_a_code_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    let cases: [(&[&str], Option<&str>, &str); 5] = [
        (
            &[
                "user",
                "add",
                "bo@example.com",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            Some("short\n"),
            "weak_password",
        ),
        (
            &[
                "user",
                "add",
                "not-an-email",
                "--role",
                "viewer",
                "--no-password",
            ],
            None,
            "invalid_email",
        ),
        (
            &[
                "user",
                "add",
                "bo@example.com",
                "--role",
                "boss",
                "--no-password",
            ],
            None,
            "invalid_role",
        ),
        (
            &[
                "user",
                "add",
                "bo@example.com",
                "--role",
                "viewer",
                "--team",
                "nope",
                "--no-password",
            ],
            None,
            "unknown_team",
        ),
        (&["user", "remove", "nobody@example.com"], None, "not_found"),
    ];
    for (args, stdin, code) in cases {
        let o = run(&db, args, stdin);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            err(&o).contains(&format!("error[{code}]")),
            "{args:?}: {}",
            err(&o)
        );
    }
    assert_eq!(out(&run(&db, &["user", "list"], None)), "");
    // There is no way to put a password on the command line.
    let o = run(
        &db,
        &[
            "user",
            "add",
            "bo@example.com",
            "--role",
            "viewer",
            "--password",
            "x",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_last_owner_cannot_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    run(
        &db,
        &[
            "user",
            "add",
            "ana@example.com",
            "--role",
            "owner",
            "--no-password",
        ],
        None,
    );
    let o = run(&db, &["user", "remove", "ana@example.com"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("error[last_owner]"), "{}", err(&o));
}
