//! `konferenz schedule add|list|show|update|cancel` against a temp SQLite file (no server
//! running: the mails wait in the outbox, which `show` reports as queued).

use std::process::{Command, Output};

use tempfile::TempDir;

struct Setup {
    _dir: TempDir,
    config: std::path::PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new().unwrap();
        let config = dir.path().join("konferenz.toml");
        let db = dir.path().join("konferenz.db");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = \"sqlite://{}\"\n[dialin]\nshared_numbers = [\"8000\"]\n\
                 external_number = \"+41 44 123 45 67\"\n[mail]\nfrom = \"konferenz <k@example.org>\"\n",
                db.display()
            ),
        )
        .unwrap();
        Setup { _dir: dir, config }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_konferenz"));
        for (key, _) in std::env::vars() {
            if key.starts_with("KONFERENZ_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

#[test]
fn a_conference_is_scheduled_shown_updated_and_cancelled_from_the_command_line() {
    let s = Setup::new();
    s.ok(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna",
        "--email",
        "anna@example.org",
        "--password",
        "long enough",
        "--organiser",
    ]);
    s.ok(&[
        "user",
        "add",
        "--number",
        "203",
        "--name",
        "Carla",
        "--password",
        "long enough",
    ]);
    let start = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48))
        .strftime("%Y-%m-%dT%H:00:00Z")
        .to_string();
    let args = |user: &'static str, participant: &'static str| {
        vec![
            "schedule".to_owned(),
            "add".into(),
            "--user".into(),
            user.into(),
            "--title".into(),
            "Board".into(),
            "--start".into(),
            start.clone(),
            "--participant".into(),
            participant.into(),
        ]
    };
    let run_ok = |v: Vec<String>| s.ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let run_fail = |v: Vec<String>| s.fails(&v.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run_fail(args("203", "b@example.org")).contains("may not organise"));
    assert!(run_fail(args("201", "no address")).contains("participants"));
    let out = run_ok(args("201", "b@example.org"));
    assert!(
        out.starts_with("conference 1 scheduled: dial +41 44 123 45 67 and enter PIN "),
        "{out}"
    );
    assert!(out.ends_with("1 invitations queued\n"), "{out}");
    let listed = s.ok(&["schedule", "list"]);
    assert!(
        listed.contains("Board") && listed.contains("201"),
        "{listed}"
    );
    let shown = s.ok(&["schedule", "show", "1"]);
    assert!(shown.contains("b@example.org  queued"), "{shown}");
    let updated = s.ok(&["schedule", "update", "1", "--duration", "90"]);
    assert_eq!(
        updated,
        "conference 1 updated (sequence 1); update mails queued\n"
    );
    assert!(
        s.fails(&["schedule", "update", "1", "--time-zone", "Mars/Base"])
            .contains("time_zone")
    );
    assert_eq!(
        s.ok(&["schedule", "cancel", "1"]),
        "conference 1 cancelled; cancellation mails queued\n"
    );
    assert!(s.fails(&["schedule", "cancel", "1"]).contains("cancelled"));
    assert!(
        s.fails(&["schedule", "show", "9"])
            .contains("no scheduled conference 9")
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&["schedule", "list", "--json"])).unwrap();
    assert_eq!(json[0]["cancelled"], true);
}
