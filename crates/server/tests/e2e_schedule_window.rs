//! Scheduling in the window, in headless Chromium (Debian's `chromium`, driven by npm
//! `playwright-core` from `tests/browser/schedule.mjs`): this harness starts the real server
//! with `[mail]` pointing at a loopback SMTP server (Debian python3-aiosmtpd, our
//! `support/smtp_sink.py`) that is down at first, and users; the browser script logs in,
//! opens the scheduling form from the window, checks the defaults, is refused an invalid
//! address, sends, sees number and PIN, watches the invitees go from Queued to Sent once the
//! harness starts the SMTP server (the script asks for it), adds a participant the SMTP
//! server refuses, changes the duration, finds reply-to and participants remembered,
//! cancels, and looks at it all in German, at phone size and in Administration › Outbox;
//! on a second server without a dial-in number the form says scheduling is not set up.
//! The harness then checks the mails that arrived (`support/check_mail.py`). Screenshots
//! are kept in `target/browser-artifacts/` (names starting with "s").

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Server, ServerOptions, browser, free_tcp_port, poll_until};

const PASSWORD: &str = "correct horse 1";
/// Debian's interpreter (its python3-aiosmtpd and python3-icalendar).
const PYTHON: &str = "/usr/bin/python3";

fn support_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// The SMTP sink: every accepted message is stored as DIR/<n>.eml; recipients starting
/// with "reject" are refused with a permanent 550.
struct Smtp {
    child: Child,
}

impl Smtp {
    fn start(port: u16, dir: &Path) -> Smtp {
        let mut child = Command::new(PYTHON)
            .arg(support_file("smtp_sink.py"))
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 smtp_sink.py (Debian python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Smtp { child }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mails(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

/// A stored mail as `check_mail.py` (Python's email package and python3-icalendar) reads it.
fn parse(file: &Path) -> Value {
    let out = Command::new(PYTHON)
        .arg(support_file("check_mail.py"))
        .arg(file)
        .output()
        .expect("check_mail.py");
    assert!(
        out.status.success(),
        "check_mail.py {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from check_mail.py")
}

#[test]
fn scheduling_in_chromium() {
    browser::require();
    // The SMTP server is not running yet: the invitations wait in the outbox (Queued) until
    // the browser script has seen that and asks for it.
    let smtp_port = free_tcp_port();
    let mail_dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n\
         from = \"konferenz <konferenz@example.org>\"\nretry_secs = 1\n\
         [dialin]\nshared_numbers = [\"8000\"]\nexternal_number = \"+41 44 123 45 67\"\n"
    );
    let server = Server::start_with(&ServerOptions::default().room("201").config(&config));
    // A second server without a number to dial: the form must say scheduling is not set up.
    let unconfigured = Server::start_with(&ServerOptions::default().room("201"));
    unconfigured.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna Müller",
        "--email",
        "anna@example.org",
        "--password",
        PASSWORD,
        "--organiser",
    ]);
    for (number, name, email, flags) in [
        (
            "100",
            "Ada Admin",
            "ada@example.org",
            vec!["--admin", "--organiser"],
        ),
        (
            "201",
            "Anna Müller",
            "anna@example.org",
            vec!["--organiser"],
        ),
    ] {
        let mut args = vec![
            "user",
            "add",
            "--number",
            number,
            "--name",
            name,
            "--email",
            email,
            "--password",
            PASSWORD,
        ];
        args.extend(flags);
        server.cli(&args);
    }

    let mut node = Command::new("node")
        .arg(browser::dir().join("schedule.mjs"))
        .current_dir(browser::dir())
        .env("BASE_URL", server.http_base())
        .env("PASSWORD", PASSWORD)
        .env("SHOTS", browser::artifacts())
        .env("UNCONFIGURED_URL", unconfigured.http_base())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let mut smtp = None;
    let mut pin = None;
    let mut steps = Vec::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap_or_default();
        eprintln!("browser: {line}");
        if line.trim() == "SMTP START" && smtp.is_none() {
            assert!(
                mails(mail_dir.path()).is_empty(),
                "mail arrived while the SMTP server was down"
            );
            smtp = Some(Smtp::start(smtp_port, mail_dir.path()));
            eprintln!("harness: the SMTP server is up on port {smtp_port}");
        }
        if let Some(p) = line.trim().strip_prefix("PIN ") {
            pin = Some(p.to_owned());
        }
        steps.push(line);
    }
    let status = node.wait().expect("node");
    assert!(
        status.success(),
        "the browser script failed ({status}); steps: {steps:#?}\n{}",
        server.log_tail(40)
    );
    assert!(steps.iter().any(|s| s.starts_with("DONE")), "{steps:#?}");
    assert!(smtp.is_some(), "the script never asked for the SMTP server");
    let pin = pin.expect("the script reports the PIN it saw");

    // The mails: invitations to the three participants, updates after the change, the
    // cancellations; none to the refused address.
    let files = poll_until(Duration::from_secs(20), || {
        let files = mails(mail_dir.path());
        (files.len() >= 9).then_some(files)
    })
    .unwrap_or_else(|| panic!("9 mails expected, {} arrived", mails(mail_dir.path()).len()));
    let parsed: Vec<Value> = files.iter().map(|f| parse(f)).collect();
    assert_eq!(parsed.len(), 9, "{parsed:#?}");
    let count = |method: &str, sequence: i64| {
        parsed
            .iter()
            .filter(|m| m["method"] == method && m["sequence"] == sequence)
            .count()
    };
    assert_eq!(count("REQUEST", 0), 3, "invitations: {parsed:#?}");
    assert_eq!(count("REQUEST", 1), 3, "updates: {parsed:#?}");
    assert_eq!(count("CANCEL", 2), 3, "cancellations: {parsed:#?}");
    for who in ["anna@example.org", "bert@example.org", "carla@example.org"] {
        let theirs: Vec<&Value> = parsed
            .iter()
            .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(who)))
            .collect();
        assert_eq!(theirs.len(), 3, "mails to {who}: {theirs:#?}");
    }
    assert!(
        parsed
            .iter()
            .all(|m| !m["to"].as_str().unwrap_or("").contains("reject")),
        "a mail to the refused address was stored"
    );
    for m in parsed.iter().filter(|m| m["method"] == "REQUEST") {
        assert_eq!(m["summary"], "Budget review", "{m}");
        assert_eq!(m["dtstart_tzid"], "Europe/London", "{m}");
        assert!(
            m["reply_to"]
                .as_str()
                .is_some_and(|r| r.contains("team@example.org")),
            "{m}"
        );
        let plain = m["plain"].as_str().unwrap_or_default();
        assert!(
            plain.contains(&pin) && plain.contains("+41 44 123 45 67"),
            "the PIN the window showed ({pin}) is not in the mail: {plain}"
        );
        let start: jiff::Timestamp = m["dtstart_utc"].as_str().unwrap().parse().unwrap();
        let end: jiff::Timestamp = m["dtend_utc"].as_str().unwrap().parse().unwrap();
        let minutes = (end - start).as_secs() / 60;
        let expected = if m["sequence"] == 0 { 45 } else { 90 };
        assert_eq!(minutes, expected, "{m}");
        let london = start.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/London").unwrap());
        assert_eq!(
            london.strftime("%H:%M").to_string(),
            "09:30",
            "the start typed for Europe/London: {m}"
        );
    }
    eprintln!(
        "harness: {} mails arrived ({} invitations, {} updates, {} cancellations), PIN {pin} in each",
        parsed.len(),
        count("REQUEST", 0),
        count("REQUEST", 1),
        count("CANCEL", 2)
    );

    // An invitee's personal link page (the link from the mail).
    let plain = parsed
        .iter()
        .find(|m| m["method"] == "REQUEST" && m["to"].as_str().unwrap_or("").contains("bert@"))
        .and_then(|m| m["plain"].as_str())
        .expect("an invitation to bert")
        .to_owned();
    let link = plain
        .split_whitespace()
        .find(|w| w.contains("/j/"))
        .unwrap_or_else(|| panic!("no personal link in {plain}"))
        .to_owned();
    let out = Command::new("node")
        .arg(browser::dir().join("link.mjs"))
        .current_dir(browser::dir())
        .env("LINK_URL", &link)
        .env("SHOTS", browser::artifacts())
        .output()
        .expect("node link.mjs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("link page: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && text.contains("DONE"),
        "the link page script failed"
    );
}
