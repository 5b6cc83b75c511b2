//! `konferenz user …` as accounts: e-mail, the admin and organiser flags, `user set`, and
//! the web password stored as argon2id beside the SIP digest hashes, also when read from
//! stdin (`--password-stdin`). Real binary, temp SQLite file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use konferenz_sip::digest::Ha1;

use tempfile::TempDir;

struct Setup {
    _dir: TempDir,
    config: std::path::PathBuf,
    db: std::path::PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new().unwrap();
        let config = dir.path().join("konferenz.toml");
        let db = dir.path().join("konferenz.db");
        std::fs::write(
            &config,
            format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
        )
        .unwrap();
        Setup {
            _dir: dir,
            config,
            db,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_konferenz"));
        for (key, _) in std::env::vars() {
            if key.starts_with("KONFERENZ_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command.arg("--config").arg(&self.config).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `input` piped to its stdin.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The user as stored.
    fn stored_user(&self, number: &str) -> konferenz_store::SipUser {
        let url = format!("sqlite://{}", self.db.display());
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = konferenz_store::Store::open(&url).await.unwrap();
            let user = store.find_sip_user(number).await.unwrap().unwrap();
            store.close().await;
            user
        })
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json_users(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["user", "list", "--json"])).unwrap()
    }
}

#[test]
fn a_user_gets_an_email_flags_and_both_password_hashes() {
    let s = Setup::new();
    let out = s.ok(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna Müller",
        "--email",
        "anna@example.org",
        "--password",
        "secret-201",
        "--admin",
        "--organiser",
    ]);
    assert_eq!(out, "user 201 added (realm konferenz): admin, organiser\n");
    s.ok(&["user", "add", "--number", "202", "--password", "secret-202"]);
    let users = s.json_users();
    assert_eq!(users[0]["email"], "anna@example.org");
    assert_eq!(
        (users[0]["admin"].as_bool(), users[0]["organiser"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        (users[1]["admin"].as_bool(), users[1]["organiser"].as_bool()),
        (Some(false), Some(false))
    );
    let table = s.ok(&["user", "list"]);
    assert!(
        table.starts_with("NUMBER  NAME         EMAIL             ROLES             REGISTERED\n"),
        "{table}"
    );
    assert!(
        table.contains("201     Anna Müller  anna@example.org  admin, organiser  -"),
        "{table}"
    );
    // The password is in the database only as hashes: argon2id for the web, HA1 for SIP.
    let mut bytes = std::fs::read(&s.db).unwrap();
    bytes.extend(std::fs::read(s.db.with_extension("db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("$argon2id$"),
        "web password hashed with argon2id"
    );
    assert!(!text.contains("secret-201"), "never in clear");
}

/// Whether `password` is the one whose argon2id hash is `stored`.
fn web_password_is(stored: &str, password: &str) -> bool {
    let hash = PasswordHash::new(stored).unwrap();
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

#[test]
fn a_password_from_stdin_is_the_first_line_for_the_phone_and_the_web() {
    let s = Setup::new();
    let out = s.run_with_stdin(
        &[
            "user",
            "add",
            "--number",
            "201",
            "--password-stdin",
            "--admin",
        ],
        "stdin-secret-201\nnot part of it\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "user 201 added (realm konferenz): admin\n"
    );
    let user = s.stored_user("201");
    let web = user.web_password.as_deref().expect("a web password");
    assert!(web.starts_with("$argon2id$"), "{web}");
    assert!(web_password_is(web, "stdin-secret-201"), "the first line");
    assert!(
        !web_password_is(web, "stdin-secret-201\n"),
        "without its newline"
    );
    assert!(!web_password_is(web, "not part of it"));
    let ha1 = Ha1::compute("201", "konferenz", "stdin-secret-201");
    assert_eq!(
        (user.ha1_md5.as_str(), user.ha1_sha256.as_str()),
        (ha1.md5.as_str(), ha1.sha256.as_str()),
        "the phone's digest hashes are of the same password"
    );
    let mut bytes = std::fs::read(&s.db).unwrap();
    bytes.extend(std::fs::read(s.db.with_extension("db-wal")).unwrap_or_default());
    assert!(
        !String::from_utf8_lossy(&bytes).contains("stdin-secret-201"),
        "never in clear"
    );

    // `user password` reads it the same way (a CRLF line end too); too short is refused.
    let changed = s.run_with_stdin(
        &["user", "password", "--number", "201", "--password-stdin"],
        "another-secret-201\r\n",
    );
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    let user = s.stored_user("201");
    assert!(web_password_is(
        user.web_password.as_deref().unwrap(),
        "another-secret-201"
    ));
    assert_eq!(
        user.ha1_md5,
        Ha1::compute("201", "konferenz", "another-secret-201").md5
    );
    assert!(user.admin, "the flags stay");
    let short = s.run_with_stdin(
        &["user", "add", "--number", "202", "--password-stdin"],
        "short\n",
    );
    assert_eq!(short.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    let nothing = s.run_with_stdin(&["user", "add", "--number", "202", "--password-stdin"], "");
    assert_eq!(
        nothing.status.code(),
        Some(1),
        "an empty stdin is no password"
    );
    assert_eq!(s.json_users().as_array().unwrap().len(), 1, "202 not added");
}

#[test]
fn set_changes_flags_and_email_and_a_new_password_keeps_them() {
    let s = Setup::new();
    s.ok(&[
        "user",
        "add",
        "--number",
        "201",
        "--email",
        "anna@example.org",
        "--password",
        "secret-201",
    ]);
    assert_eq!(
        s.ok(&[
            "user",
            "set",
            "--number",
            "201",
            "--organiser",
            "true",
            "--name",
            "Anna"
        ]),
        "user 201 changed: organiser\n"
    );
    s.ok(&[
        "user",
        "password",
        "--number",
        "201",
        "--password",
        "another-201",
    ]);
    let users = s.json_users();
    assert_eq!(users[0]["name"], "Anna");
    assert_eq!(users[0]["organiser"], true);
    assert_eq!(
        users[0]["email"], "anna@example.org",
        "kept by `user password`"
    );
    assert_eq!(
        s.ok(&[
            "user",
            "set",
            "--number",
            "201",
            "--organiser",
            "false",
            "--email",
            ""
        ]),
        "user 201 changed\n"
    );
    let users = s.json_users();
    assert_eq!(
        (users[0]["organiser"].as_bool(), users[0]["email"].is_null()),
        (Some(false), true)
    );
}

#[test]
fn bad_or_taken_addresses_are_refused_and_nothing_changes() {
    let s = Setup::new();
    s.ok(&[
        "user",
        "add",
        "--number",
        "201",
        "--email",
        "anna@example.org",
        "--password",
        "secret-201",
    ]);
    let taken = s.run(&[
        "user",
        "add",
        "--number",
        "202",
        "--email",
        "ANNA@example.org",
        "--password",
        "secret-202",
    ]);
    assert_eq!(taken.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&taken.stderr)
            .contains("another user already has the e-mail address")
    );
    assert_eq!(s.json_users().as_array().unwrap().len(), 1, "202 not added");
    let bad = s.run(&[
        "user",
        "add",
        "--number",
        "203",
        "--email",
        "anna at example",
        "--password",
        "secret-203",
    ]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    let unknown = s.run(&["user", "set", "--number", "999", "--admin", "true"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user 999"));
    let flag = s.run(&["user", "set", "--number", "201", "--admin", "maybe"]);
    assert_eq!(flag.status.code(), Some(2));
}

#[test]
fn command_line_changes_to_users_and_tokens_are_in_the_audit_log() {
    let s = Setup::new();
    s.ok(&[
        "user",
        "add",
        "--number",
        "201",
        "--password",
        "pw-201-secret",
        "--admin",
    ]);
    s.ok(&["user", "set", "--number", "201", "--organiser", "true"]);
    s.ok(&[
        "user",
        "password",
        "--number",
        "201",
        "--password",
        "pw-201-secret-b",
    ]);
    s.ok(&["token", "create", "--user", "201", "--name", "script"]);
    s.ok(&["token", "revoke", "1"]);
    s.ok(&["user", "remove", "--number", "201"]);
    let url = format!("sqlite://{}", s.db.display());
    let entries = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = konferenz_store::Store::open(&url).await.unwrap();
        store.audit_log(None, None, 50).await.unwrap()
    });
    let got: Vec<(String, String, String, String)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e.actor.clone(),
                e.action.clone(),
                e.subject.clone(),
                e.detail.clone(),
            )
        })
        .collect();
    let want = [
        ("user.add", "201", "admin"),
        ("user.set", "201", "admin, organiser"),
        ("user.password", "201", ""),
        ("token.create", "token 1 of 201", "script"),
        ("token.revoke", "token 1", ""),
        ("user.remove", "201", ""),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (entry, (action, subject, detail)) in got.iter().zip(want) {
        assert_eq!(
            (
                entry.0.as_str(),
                entry.1.as_str(),
                entry.2.as_str(),
                entry.3.as_str()
            ),
            ("command line", action, subject, detail)
        );
    }
    let text = format!("{got:?}");
    assert!(!text.contains("pw-201"), "no password in the audit log");
}
