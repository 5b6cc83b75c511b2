//! Scheduling with a real SMTP server on loopback (Debian python3-aiosmtpd, our
//! `support/smtp_sink.py`): the invitation mails arrive and an independent parser (Python's
//! email package and Debian python3-icalendar, `support/check_mail.py`) finds every field;
//! the SMTP server stopped while mails are queued, they arrive after it returns; updates
//! (higher SEQUENCE) and cancellations (METHOD:CANCEL); a permanent 550 is kept with the
//! answer next to the invitee; `kill -9` with mails queued loses none.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::api::{Auth, Client};
use support::{Server, ServerOptions, free_tcp_port, poll_until};

const PASSWORD: &str = "correct horse 1";
/// Debian's interpreter (its python3-aiosmtpd and python3-icalendar).
const PYTHON: &str = "/usr/bin/python3";

fn support_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

struct Smtp {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Smtp {
    fn start(port: u16, dir: &Path) -> Smtp {
        let mut smtp = Smtp {
            port,
            dir: dir.to_owned(),
            child: None,
        };
        smtp.resume();
        smtp
    }

    fn resume(&mut self) {
        let mut child = Command::new(PYTHON)
            .arg(support_file("smtp_sink.py"))
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 smtp_sink.py (Debian python3-aiosmtpd)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The stored mails, in arrival order.
    fn mails(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
    }

    /// Waits until `n` mails have arrived in all; returns the new ones parsed.
    fn wait_for(&self, n: usize, seen: &mut usize) -> Vec<Value> {
        let files = poll_until(Duration::from_secs(20), || {
            let files = self.mails();
            (files.len() >= n).then_some(files)
        })
        .unwrap_or_else(|| panic!("{n} mails expected, {} arrived", self.mails().len()));
        let fresh: Vec<Value> = files[*seen..].iter().map(|f| parse(f)).collect();
        *seen = files.len();
        fresh
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

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

fn by_recipient<'a>(mails: &'a [Value], to: &str) -> &'a Value {
    mails
        .iter()
        .find(|m| m["to"].as_str().is_some_and(|t| t.contains(to)))
        .unwrap_or_else(|| panic!("no mail to {to}: {mails:#?}"))
}

fn mail_state(conference: &Value, email: &str) -> (String, Option<String>) {
    let p = conference["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == email)
        .unwrap_or_else(|| panic!("{email} not among {conference}"));
    (
        p["mail"].as_str().unwrap_or("none").to_owned(),
        p["mail_error"].as_str().map(str::to_owned),
    )
}

#[test]
fn invitations_are_mailed_updated_cancelled_and_survive_smtp_outages_and_kill_9() {
    let smtp_port = free_tcp_port();
    let mail_dir = tempfile::tempdir().unwrap();
    let mut smtp = Smtp::start(smtp_port, mail_dir.path());
    let config = format!(
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n\
         from = \"konferenz <konferenz@example.org>\"\nretry_secs = 1\n\
         [dialin]\nshared_numbers = [\"8000\"]\nexternal_number = \"+41 44 123 45 67\"\n"
    );
    let mut server = Server::start_with(&ServerOptions::default().config(&config));
    server.cli(&[
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
    let anna = Client::login(&server.http_base(), "201", PASSWORD);

    let defaults = anna.get("/api/v1/conferences/defaults?lang=de");
    assert_eq!(defaults.status, 200, "{:?}", defaults.body);
    assert_eq!(defaults.body["title"], "Telefonkonferenz");
    assert_eq!(defaults.body["participants"], json!(["anna@example.org"]));
    // The administrator's texts replace the configured ones.
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    let texts = json!({
        "en": {"title": "Call", "location": "Phone", "description": "Dial <number>, PIN <pin>."},
        "de": {"title": "Anruf", "location": "Telefon", "description": "Wählen Sie <number>, PIN <pin>."},
    });
    assert_eq!(
        admin
            .send("PUT", "/api/v1/settings/schedule", Some(texts.clone()))
            .status,
        200
    );
    assert_eq!(admin.get("/api/v1/settings/schedule").body, texts);
    let mut bad = texts.clone();
    bad["en"]["title"] = json!("");
    let refused = admin.send("PUT", "/api/v1/settings/schedule", Some(bad));
    assert_eq!(
        (refused.status, refused.body["error"]["field"].as_str()),
        (422, Some("title"))
    );
    let defaults = anna.get("/api/v1/conferences/defaults?lang=de");
    assert_eq!(defaults.body["title"], "Anruf");
    assert_eq!(defaults.body["location"], "Telefon");

    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 3);
    let start_local = start
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Zurich").unwrap())
        .strftime("%Y-%m-%dT%H:%M:00%:z")
        .to_string();
    let form = json!({
        "title": "Budget <Q1> & \"more\"",
        "description": "Hello,\nplease dial <number>, PIN <pin>.",
        "location": "Telefon",
        "start": start_local,
        "time_zone": "Europe/Zurich",
        "duration_minutes": 45,
        "dial_in_minutes_before": 10,
        "reply_to": "anna@example.org",
        "participants": ["bert@example.org", {"email": "carla@example.org", "phone": "555", "call_at_start": true}, "reject-me@example.org"],
        "language": "en",
    });
    for (field, value) in [
        ("start", json!("tomorrow")),
        ("time_zone", json!("Mars/Olympus")),
        ("duration_minutes", json!(0)),
        ("participants", json!(["not an address"])),
        ("reply_to", json!("nope")),
        ("title", json!("")),
    ] {
        let mut bad = form.clone();
        bad[field] = value;
        let answer = anna.post("/api/v1/conferences", bad);
        assert_eq!(answer.status, 422, "{field}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{:?}", answer.body);
    }
    assert!(
        smtp.mails().is_empty(),
        "nothing is mailed for a refused form"
    );

    let created = anna.post("/api/v1/conferences", form.clone());
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let pin = created.body["pin"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 6);
    assert!(pin.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(created.body["number"], "+41 44 123 45 67");
    assert_eq!(created.body["status"], "upcoming");

    let mut seen = 0;
    let mails = smtp.wait_for(2, &mut seen);
    let bert = by_recipient(&mails, "bert@example.org");
    by_recipient(&mails, "carla@example.org");
    assert_eq!(bert["subject"], "Budget <Q1> & \"more\"");
    assert!(
        bert["from"]
            .as_str()
            .unwrap()
            .contains("konferenz@example.org")
    );
    assert!(
        bert["reply_to"]
            .as_str()
            .unwrap()
            .contains("anna@example.org")
    );
    assert_eq!(bert["content_type"], "multipart/mixed");
    for part in [
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ] {
        assert!(
            bert["parts"].as_array().unwrap().iter().any(|p| p == part),
            "{part}: {bert}"
        );
    }
    assert_eq!(bert["attachments"][0]["filename"], "invite.ics");
    assert_eq!(bert["calendars_identical"], true);
    assert_eq!(bert["calendar_method_param"], "REQUEST");
    for body in ["plain", "html"] {
        let text = bert[body].as_str().unwrap();
        assert!(
            text.contains(&pin) && text.contains("+41 44 123 45 67"),
            "{body}: {text}"
        );
        assert!(
            text.contains("please dial +41 44 123 45 67, PIN"),
            "template filled: {text}"
        );
    }
    assert!(
        bert["html"]
            .as_str()
            .unwrap()
            .contains("Budget &lt;Q1&gt; &amp;")
    );
    assert_eq!(bert["method"], "REQUEST");
    assert_eq!(bert["sequence"], 0);
    assert_eq!(bert["summary"], "Budget <Q1> & \"more\"");
    assert_eq!(bert["location"], "Telefon");
    assert_eq!(bert["status"], "CONFIRMED");
    assert_eq!(bert["vtimezone"], json!(["Europe/Zurich"]));
    assert_eq!(bert["dtstart_tzid"], "Europe/Zurich");
    let start_utc = jiff::Timestamp::from_second(start.as_second() / 60 * 60).unwrap();
    let parsed_start: jiff::Timestamp = bert["dtstart_utc"].as_str().unwrap().parse().unwrap();
    assert_eq!(parsed_start, start_utc);
    let parsed_end: jiff::Timestamp = bert["dtend_utc"].as_str().unwrap().parse().unwrap();
    assert_eq!((parsed_end - parsed_start).as_secs() / 60, 45);
    assert!(
        bert["organizer"]
            .as_str()
            .unwrap()
            .contains("anna@example.org")
    );
    let attendees = bert["attendees"].as_array().unwrap();
    assert_eq!(attendees.len(), 3);
    assert!(attendees.iter().all(|a| a["rsvp"] == "TRUE"));
    let description = bert["description"].as_str().unwrap();
    assert!(
        description.contains(&pin) && description.contains(&format!("tel:+41441234567,,{pin}%23")),
        "{description}"
    );
    let uid = bert["uid"].as_str().unwrap().to_owned();

    // Each invitee's personal link: in the mail, with the conference's details, its
    // calendar file, and "Call me" refused before the dial-in window.
    let plain = bert["plain"].as_str().unwrap();
    let link = plain
        .split_whitespace()
        .find(|w| w.contains("/j/"))
        .unwrap_or_else(|| panic!("no personal link in {plain}"));
    let token = link
        .rsplit("/j/")
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_owned();
    let guest = Client::new(&server.http_base(), Auth::None);
    let page = guest.get(&format!("/api/v1/links/{token}"));
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["conference"]["title"], "Budget <Q1> & \"more\"");
    assert_eq!(page.body["conference"]["status"], "upcoming");
    assert_eq!(page.body["pin"], pin.as_str());
    assert_eq!(page.body["dial_in_number"], "+41 44 123 45 67");
    let ics = guest.raw(
        "GET",
        &format!("/api/v1/links/{token}/invite.ics"),
        None,
        "",
    );
    assert_eq!(ics.status, 200);
    let early = guest.post(
        &format!("/api/v1/links/{token}/call"),
        json!({"number": "555"}),
    );
    assert_eq!(early.status, 409, "{:?}", early.body);
    let carla = by_recipient(&mails, "carla@example.org")["plain"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !carla.contains(&token),
        "each invitee has a link of their own"
    );

    // The refused recipient: failed for good, with the server's answer.
    let failed = poll_until(Duration::from_secs(10), || {
        let c = anna.get(&format!("/api/v1/conferences/{id}")).body;
        (mail_state(&c, "reject-me@example.org").0 == "failed").then_some(c)
    })
    .expect("the 550 is recorded");
    let (_, error) = mail_state(&failed, "reject-me@example.org");
    assert!(error.unwrap().contains("550"), "{failed}");
    assert_eq!(mail_state(&failed, "bert@example.org").0, "sent");

    // SMTP down: the update mails wait, then arrive.
    smtp.stop();
    let patched = anna.send(
        "PATCH",
        &format!("/api/v1/conferences/{id}"),
        Some(json!({"duration_minutes": 90})),
    );
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["sequence"], 1);
    let retried = poll_until(Duration::from_secs(10), || {
        let c = anna.get(&format!("/api/v1/conferences/{id}")).body;
        let (state, error) = mail_state(&c, "bert@example.org");
        (state == "queued" && error.is_some()).then_some(error)
    })
    .expect("a failed attempt is recorded");
    eprintln!("while the SMTP server is down: {retried:?}");
    smtp.resume();
    let updates = smtp.wait_for(4, &mut seen);
    let update = by_recipient(&updates, "bert@example.org");
    assert_eq!(update["sequence"], 1);
    assert_eq!(update["uid"], uid.as_str());
    assert!(
        update["subject"].as_str().unwrap().starts_with("Updated: "),
        "{update}"
    );
    let end: jiff::Timestamp = update["dtend_utc"].as_str().unwrap().parse().unwrap();
    assert_eq!((end - start_utc).as_secs() / 60, 90);

    // kill -9 with mails queued: none is lost.
    smtp.stop();
    let added = anna.post(
        &format!("/api/v1/conferences/{id}/participants"),
        json!({"participants": ["dora@example.org"]}),
    );
    assert_eq!(added.status, 200, "{:?}", added.body);
    assert_eq!(mail_state(&added.body, "dora@example.org").0, "queued");
    server.crash_and_restart();
    smtp.resume();
    let late = smtp.wait_for(5, &mut seen);
    let dora = by_recipient(&late, "dora@example.org");
    assert_eq!(dora["sequence"], 1);
    assert_eq!(dora["attendees"].as_array().unwrap().len(), 4);

    // Cancel: METHOD:CANCEL to everyone, the PIN is gone.
    let anna = Client::new(
        &server.http_base(),
        Auth::Bearer(
            server
                .cli(&["token", "create", "--user", "201"])
                .trim()
                .to_owned(),
        ),
    );
    assert_eq!(
        anna.send("DELETE", &format!("/api/v1/conferences/{id}"), None)
            .status,
        204
    );
    let cancels = smtp.wait_for(8, &mut seen);
    for c in &cancels {
        assert_eq!(c["method"], "CANCEL");
        assert_eq!(c["status"], "CANCELLED");
        assert_eq!(c["sequence"], 2);
        assert_eq!(c["calendar_method_param"], "CANCEL");
    }
    let listed = anna.get("/api/v1/conferences");
    assert_eq!(listed.body[0]["status"], "cancelled");
    assert_eq!(
        anna.send("DELETE", &format!("/api/v1/conferences/{id}"), None)
            .status,
        409
    );
    // Nothing was sent twice to the same recipient for the same SEQUENCE.
    let mut keys: Vec<(String, i64, String)> = Vec::new();
    for file in smtp.mails() {
        let m = parse(&file);
        keys.push((
            m["to"].as_str().unwrap().to_owned(),
            m["sequence"].as_i64().unwrap(),
            m["method"].as_str().unwrap().to_owned(),
        ));
    }
    let total = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "duplicates: {keys:?}");
}
