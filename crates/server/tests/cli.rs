//! Black-box tests of the `konferenz` command line: the real binary, a temp config file
//! and a temp SQLite database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A temp directory with `konferenz.toml` pointing at `data/konferenz.db` inside it.
struct Setup {
    dir: TempDir,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        Setup::with_config("")
    }

    /// `extra` is appended to a config whose `[database]` section is already written.
    fn with_config(extra: &str) -> Setup {
        let dir = TempDir::new().unwrap();
        let config = dir.path().join("konferenz.toml");
        let db = dir.path().join("data/konferenz.db");
        let text = format!("[database]\nurl = \"sqlite://{}\"\n{extra}", db.display());
        std::fs::write(&config, text).unwrap();
        Setup { dir, config }
    }

    fn command(&self) -> Command {
        konferenz(&self.config)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs and insists on success, returning stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

/// The binary with `--config` and an environment free of the caller's KONFERENZ_* and RUST_LOG.
fn konferenz(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_konferenz"));
    for (key, _) in std::env::vars() {
        if key.starts_with("KONFERENZ_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command.arg("--config").arg(config);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rooms_are_added_listed_and_removed() {
    let setup = Setup::new();
    assert_eq!(setup.ok(&["room", "list"]), "no rooms\n");
    assert_eq!(setup.ok(&["room", "list", "--json"]).trim(), "[]");

    assert_eq!(
        setup.ok(&["room", "add", "--number", "800", "--name", "Weekly sync"]),
        "room 800 added\n"
    );
    assert_eq!(
        setup.ok(&["room", "add", "--number", "801"]),
        "room 801 added\n"
    );

    let table = setup.ok(&["room", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("NUMBER"), "{table}");
    assert!(
        lines[1].starts_with("800 ") && lines[1].contains("Weekly sync"),
        "{table}"
    );
    assert!(lines[2].starts_with("801 "), "{table}");

    let json: serde_json::Value =
        serde_json::from_str(&setup.ok(&["room", "list", "--json"])).unwrap();
    assert_eq!(json[0]["number"], "800");
    assert_eq!(json[0]["name"], "Weekly sync");
    assert!(json[0]["created_at"].as_i64().unwrap() > 1_600_000_000);
    assert_eq!(json[1]["name"], serde_json::Value::Null);

    assert_eq!(
        setup.ok(&["room", "remove", "--number", "800"]),
        "room 800 removed\n"
    );
    assert_eq!(
        setup.ok(&["room", "rm", "--number", "801"]),
        "room 801 removed\n"
    );
    assert_eq!(setup.ok(&["room", "list"]), "no rooms\n");
}

#[test]
fn duplicate_room_is_refused_and_original_kept() {
    let setup = Setup::new();
    setup.ok(&["room", "add", "--number", "800", "--name", "Original"]);
    let out = setup.run(&["room", "add", "--number", "800", "--name", "Impostor"]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr), "konferenz: room 800 already exists\n");
    assert!(setup.ok(&["room", "list"]).contains("Original"));
}

#[test]
fn removing_unknown_room_fails() {
    let setup = Setup::new();
    let out = setup.run(&["room", "remove", "--number", "999"]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr), "konferenz: no room 999\n");
}

#[test]
fn invalid_room_number_is_a_usage_error() {
    let setup = Setup::new();
    let out = setup.run(&["room", "add", "--number", "8 00"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("room number contains ' '"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_config_value_exits_2_naming_the_key() {
    let setup = Setup::with_config("[rtp]\nports = \"20000-1\"\n");
    let out = setup.run(&["room", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "konferenz: config error: rtp.ports: \"20000-1\" is not a port range LOW-HIGH\n"
    );
}

#[test]
fn unknown_config_key_exits_2_naming_the_key() {
    let setup = Setup::with_config("[sip]\nlisen = \"127.0.0.1:5060\"\n");
    let out = setup.run(&["room", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("konferenz: config error: sip.lisen: unknown key"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn missing_config_file_exits_2_naming_it() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("absent.toml");
    let out = konferenz(&missing).args(["room", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("absent.toml"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn environment_overrides_database_url() {
    let setup = Setup::new();
    let other_db = setup.dir.path().join("other/other.db");
    let other_url = format!("sqlite://{}", other_db.display());
    let out = setup
        .command()
        .env("KONFERENZ_DATABASE__URL", &other_url)
        .args(["room", "add", "--number", "700"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(other_db.exists());
    assert_eq!(
        setup.ok(&["room", "list"]),
        "no rooms\n",
        "the file's database is untouched"
    );
}

#[test]
fn config_file_can_come_from_the_environment() {
    let setup = Setup::new();
    setup.ok(&["room", "add", "--number", "800"]);
    let out = Command::new(env!("CARGO_BIN_EXE_konferenz"))
        .env("KONFERENZ_CONFIG", &setup.config)
        .env_remove("KONFERENZ_DATABASE__URL")
        .args(["room", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"800\""));
}

#[test]
fn config_show_prints_effective_toml() {
    let setup = Setup::with_config("[sip]\nrtp_timeout_secs = 5\n");
    let shown = setup.ok(&["config"]);
    assert!(shown.contains("rtp_timeout_secs = 5"), "{shown}");
    assert!(shown.contains("ports = \"20000-20999\""), "{shown}");
    assert_eq!(setup.ok(&["config", "show"]), shown);
}

#[test]
fn long_help_lists_every_config_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_konferenz"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for var in [
        "KONFERENZ_SIP__LISTEN",
        "KONFERENZ_SIP__PUBLIC_ADDRESS",
        "KONFERENZ_SIP__USER_AGENT",
        "KONFERENZ_SIP__RTP_TIMEOUT_SECS",
        "KONFERENZ_RTP__PORTS",
        "KONFERENZ_RTP__JITTER_MIN_MS",
        "KONFERENZ_RTP__JITTER_MAX_MS",
        "KONFERENZ_HTTP__LISTEN",
        "KONFERENZ_DATABASE__URL",
        "KONFERENZ_LOG__LEVEL",
        "KONFERENZ_CONFIG",
    ] {
        assert!(help.contains(var), "--help lacks {var}");
    }
}

#[test]
fn room_pins_are_unique_never_listed_and_can_be_changed() {
    let s = Setup::new();
    assert_eq!(
        s.ok(&["room", "add", "--number", "800", "--pin", "4711"]),
        "room 800 added with a PIN\n"
    );
    let dup = s.run(&["room", "add", "--number", "801", "--pin", "4711"]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(
        text(&dup.stderr).contains("another room already has this PIN"),
        "{}",
        text(&dup.stderr)
    );
    assert!(!text(&dup.stderr).contains("4711"), "the PIN is not echoed");
    let list = s.ok(&["room", "list"]);
    assert!(
        list.contains("800") && list.contains("yes") && !list.contains("4711"),
        "{list}"
    );
    assert!(!s.ok(&["room", "list", "--json"]).contains("4711"));
    assert_eq!(
        s.ok(&["room", "pin", "--number", "800", "--clear"]),
        "PIN of room 800 cleared\n"
    );
    assert_eq!(
        s.ok(&[
            "room",
            "add",
            "--number",
            "801",
            "--pin",
            "4711",
            "--language",
            "de"
        ]),
        "room 801 added with a PIN\n"
    );
    let bad = s.run(&["room", "add", "--number", "802", "--pin", "12"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a malformed PIN is a usage error"
    );
    let json = s.ok(&["room", "list", "--json"]);
    assert!(
        json.contains("\"language\": \"de\"") && json.contains("\"has_pin\": true"),
        "{json}"
    );
}

#[test]
fn room_music_must_be_a_readable_wav() {
    let s = Setup::new();
    let bad = s.dir.path().join("bad.wav");
    std::fs::write(&bad, b"not audio").unwrap();
    let out = s.run(&[
        "room",
        "add",
        "--number",
        "800",
        "--music",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--music"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.ok(&["room", "list"]), "no rooms\n", "nothing stored");
    let good = s.dir.path().join("music.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&good, spec).unwrap();
    for n in 0..16_000 {
        w.write_sample(((n % 40) * 100) as i16).unwrap();
    }
    w.finalize().unwrap();
    let args = [
        "room",
        "add",
        "--number",
        "800",
        "--music",
        good.to_str().unwrap(),
        "--no-language-switch",
    ];
    assert_eq!(s.ok(&args), "room 800 added\n");
}
