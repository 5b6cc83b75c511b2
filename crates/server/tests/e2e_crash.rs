//! Crash safety: `kill -9` in the middle of a conference, with a scheduled conference whose
//! invitation mails wait in the outbox (nothing listens on the SMTP port). After the restart
//! the rooms, the users, the browser session, the scheduled conference with its invitees and
//! the outbox are all there, the database passes `PRAGMA integrity_check`, the queued mails
//! go out once an SMTP server appears (each once), and both phones dial back in and hear
//! each other.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::api::{Auth, Client};
use support::audio::{fraction_between, read_wav};
use support::smtp::SmtpSink;
use support::{Phone, PhoneConfig, Server, ServerOptions, free_tcp_port, poll_until};

const SETUP: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse 1";

/// Waits until the participants list shows `name` connected in room 800.
fn wait_connected(server: &Server, name: &str) {
    let mut last = String::new();
    poll_until(SETUP, || {
        last = server.cli(&["participants", "--room", "800"]);
        last.contains(&format!("  {name}  connected")).then_some(())
    })
    .unwrap_or_else(|| panic!("{name} not listed as connected: {last}"));
}

/// (recipient, state) of every mail in the outbox, by id.
fn outbox(admin: &Client) -> Vec<(i64, String, String)> {
    let answer = admin.get("/api/v1/outbox");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let mut mails: Vec<(i64, String, String)> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["recipient"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    mails.sort();
    mails
}

fn numbers(list: &Value, key: &str) -> Vec<String> {
    let mut found: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    found
}

/// Both phones talk for a while; each must hear the other's tone at the end of the call.
fn talk_and_check(a: &mut Phone, b: &mut Phone) {
    std::thread::sleep(Duration::from_secs(3)); // talk time, not synchronisation
    a.hangup();
    b.hangup();
    for (phone, other_hz) in [(&*a, 1190.0), (&*b, 790.0)] {
        let (rate, heard) = read_wav(&phone.heard_wav()).unwrap();
        let end = heard.len() as f64 / f64::from(rate);
        let fraction = fraction_between(&heard, rate, other_hz, end - 2.2, end - 0.2);
        assert!(
            fraction > 0.5,
            "{} hears the other phone ({other_hz} Hz) in {fraction:.2} of the last 2 s",
            phone.cfg.name
        );
    }
}

#[test]
fn kill_9_during_a_conference_loses_nothing_and_phones_dial_back_in() {
    let smtp_port = free_tcp_port(); // nothing listens here until the sink starts
    let config = format!(
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n\
         from = \"konferenz <konferenz@example.org>\"\nretry_secs = 1\n\
         [dialin]\nshared_numbers = [\"8000\"]\nexternal_number = \"+41 44 123 45 67\"\n"
    );
    let mut server = Server::start_with(&ServerOptions::default().room("800").config(&config));
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
    server.cli(&[
        "user",
        "add",
        "--number",
        "202",
        "--name",
        "Bert",
        "--password",
        "long enough 2",
    ]);
    let anna = Client::login(&server.http_base(), "201", PASSWORD);
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    let start = jiff::Timestamp::from_second(start.as_second() / 60 * 60).unwrap();
    let created = anna.post(
        "/api/v1/conferences",
        json!({
            "title": "Budget", "description": "Dial <number>, PIN <pin>.", "location": "Phone",
            "start": start.to_string(), "time_zone": "Europe/Zurich",
            "duration_minutes": 45, "dial_in_minutes_before": 10,
            "participants": ["bert@example.org", {"email": "carla@example.org", "phone": "555"}],
            "language": "en",
        }),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let conference_before = anna.get(&format!("/api/v1/conferences/{id}")).body;
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    let queued = outbox(&admin);
    assert_eq!(queued.len(), 2, "one invitation per invitee: {queued:?}");
    assert!(queued.iter().all(|(_, _, state)| state == "queued"));

    // A busy conference: two phones talking in room 800.
    let mut a = Phone::start(PhoneConfig::new("anna", 790.0));
    let mut b = Phone::start(PhoneConfig::new("bert", 1190.0));
    a.dial(&server.uri("800"));
    b.dial(&server.uri("800"));
    a.wait_established(SETUP);
    b.wait_established(SETUP);
    wait_connected(&server, "anna");
    wait_connected(&server, "bert");

    server.crash_and_restart();

    // Everything persisted is there. Anna's browser session is in the database too.
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    let rooms = admin.get("/api/v1/rooms");
    assert_eq!(rooms.status, 200, "{:?}", rooms.body);
    assert!(
        numbers(&rooms.body, "number").contains(&"800".to_owned()),
        "{:?}",
        rooms.body
    );
    let users = admin.get("/api/v1/users");
    assert_eq!(numbers(&users.body, "number"), ["201", "202"]);
    let conference = anna.get(&format!("/api/v1/conferences/{id}"));
    assert_eq!(conference.status, 200, "{:?}", conference.body);
    for key in ["title", "pin", "start", "status", "sequence"] {
        assert_eq!(
            conference.body[key], conference_before[key],
            "{key} after the crash"
        );
    }
    assert_eq!(
        numbers(&conference.body["participants"], "email"),
        ["bert@example.org", "carla@example.org"]
    );
    let after = outbox(&admin);
    assert_eq!(
        after.iter().map(|(id, to, _)| (id, to)).collect::<Vec<_>>(),
        queued
            .iter()
            .map(|(id, to, _)| (id, to))
            .collect::<Vec<_>>(),
        "the same mails in the outbox"
    );
    assert!(
        after.iter().all(|(_, _, state)| state == "queued"),
        "{after:?}"
    );
    let summary = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(konferenz_store::check_database(&server.database()))
        .expect("integrity_check ok after kill -9");
    assert_eq!(summary.conferences, Some(1), "{summary:?}");

    // The outbox resumes once an SMTP server listens: every mail once.
    let mail_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(smtp_port, mail_dir.path());
    let mails = smtp.wait_for(2, Duration::from_secs(60));
    for to in ["bert@example.org", "carla@example.org"] {
        assert!(
            mails
                .iter()
                .any(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(to))),
            "a mail to {to}"
        );
    }
    let sent = poll_until(Duration::from_secs(10), || {
        let mails = outbox(&admin);
        mails
            .iter()
            .all(|(_, _, state)| state == "sent")
            .then_some(mails)
    })
    .expect("the outbox marks both sent");
    assert_eq!(sent.len(), 2);
    assert_eq!(smtp.mails().len(), 2, "nothing sent twice");

    // The phones' calls died with the server; they hang up and dial back in.
    a.hangup();
    b.hangup();
    a.dial(&server.uri("800"));
    b.dial(&server.uri("800"));
    a.wait_established(SETUP);
    b.wait_established(SETUP);
    wait_connected(&server, "anna");
    wait_connected(&server, "bert");
    talk_and_check(&mut a, &mut b);
    a.quit();
    b.quit();
}
