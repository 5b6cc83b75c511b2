//! The conference window's controls and the administration pages in headless Chromium
//! (Debian's `chromium`, driven by npm `playwright-core` from `tests/browser/controls.mjs`
//! with helpers from `tests/browser/lib.mjs`): this harness starts one server (ring time
//! 4 s, a trunk password) and baresip phones — the organiser's own phone registered as
//! her number, a silent phone behind the trunk for phone-book numbers, a phone sending a
//! tone, two that ring and are never answered, one that rejects as busy — and
//! users, then runs the browser script: Dial in › Call my phone, invite by name with the
//! keyboard, the talking indicator, mute/unmute, mute all but me, lock/unlock, hang up and
//! block, cancel, re-dial, no answer after the ring time, an API change shown live within
//! 500 ms, Administration › Rooms / Phone book / Settings, German from the browser's
//! language, and the keyboard path through the login and the window. Screenshots
//! (`c01-…png`, …) are kept in `target/browser-artifacts/`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use support::api::{Auth, Client, add_users};
use support::{Phone, PhoneConfig, Server, ServerOptions, browser, poll_until};

/// No spaces: the registered phone puts it into its baresip account line.
const PASSWORD: &str = "correct-horse-1";
/// The trunk's digest password: it must never reach a page or the settings API.
const TRUNK_PASSWORD: &str = "Trunk-Secret-93c1f7";

/// A phone that rejects every call with 486 Busy Here, after ringing for a second (as a
/// line takes a moment to report busy; a re-dial must be seen calling before it is busy
/// again), until `stop` is set; returns the phone and how often it was called.
fn rejecting(mut phone: Phone, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(Phone, u32)> {
    std::thread::spawn(move || {
        let mut calls = 0;
        while !stop.load(Ordering::Relaxed) {
            if phone
                .wait_event(&["CALL_INCOMING"], Duration::from_millis(300))
                .is_ok()
            {
                calls += 1;
                std::thread::sleep(Duration::from_secs(1));
                phone.command("hangup", "");
            }
        }
        (phone, calls)
    })
}

#[test]
fn the_window_controls_in_chromium() {
    browser::require();
    // Phones invited by number are the SIP user `guest` on their own port (the number is the
    // port, an "internal" number); every other number (the phone book's +49…) reaches the
    // silent phone `erika`, which answers, as the trunk.
    let mut erika = Phone::start(PhoneConfig::new("erika", 0.0).auto_answer());
    let mut talker = Phone::start(PhoneConfig::new("guest", 1190.0).auto_answer());
    let ringing = Phone::start(PhoneConfig::new("guest", 700.0));
    let unanswered = Phone::start(PhoneConfig::new("guest", 500.0));
    let busy = Phone::start(PhoneConfig::new("guest", 600.0));
    let config = format!(
        "[trunk]\nuri = \"sip:erika@127.0.0.1:{};dialled={{number}}\"\n\
         internal_numbers = \"[0-9]{{4,5}}\"\n\
         internal_uri = \"sip:guest@127.0.0.1:{{number}}\"\n\
         ring_timeout_secs = 4\n\
         username = \"konferenz\"\npassword = \"{TRUNK_PASSWORD}\"\n\
         [dialin]\nexternal_number = \"+41 44 123 45 67\"\n",
        erika.sip_port
    );
    let server = Server::start_with(
        &ServerOptions::default()
            .room_with_pin("800", "4711")
            .room("201")
            .config(&config),
    );
    add_users(
        &server,
        PASSWORD,
        &[
            ("100", "Ada Admin", &["--admin", "--organiser"]),
            ("201", "Anna Müller", &["--organiser"]),
            ("202", "Bert Brandt", &["--organiser"]),
        ],
    );
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    assert_eq!(
        admin
            .send("PUT", "/api/v1/rooms/800/shares/201", None)
            .status,
        204
    );
    for (name, number) in [
        ("Erika Mustermann", "+49 30 1234567"),
        ("Erich Kästner", "+49 89 7654321"),
    ] {
        let added = admin.post("/api/v1/phonebook", json!({"name": name, "number": number}));
        assert_eq!(added.status, 201, "{:?}", added.body);
    }

    // Anna's own phone, registered at the server's registrar as 201: "Call my phone" rings it.
    let mut own = Phone::start(
        PhoneConfig::new("201", 900.0)
            .auto_answer()
            .register_at(server.sip_port, PASSWORD),
    );
    let registered = poll_until(Duration::from_secs(10), || {
        server.log_text().contains("phone registered").then_some(())
    });
    assert!(registered.is_some(), "{}", server.log_tail(30));

    let stop = Arc::new(AtomicBool::new(false));
    let busy_port = busy.sip_port.to_string();
    let busy = rejecting(busy, stop.clone());

    let mut node = Command::new("node")
        .arg(browser::dir().join("controls.mjs"))
        .current_dir(browser::dir())
        .env("BASE_URL", server.http_base())
        .env("PASSWORD", PASSWORD)
        .env("TOKEN", server.admin_token())
        .env("TRUNK_PASSWORD", TRUNK_PASSWORD)
        .env("TALKER", talker.sip_port.to_string())
        .env("RINGING", ringing.sip_port.to_string())
        .env("UNANSWERED", unanswered.sip_port.to_string())
        .env("BUSY", &busy_port)
        .env("SHOTS", browser::artifacts())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let mut steps = Vec::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap_or_default();
        eprintln!("browser: {line}");
        steps.push(line);
    }
    let status = node.wait().expect("node");
    stop.store(true, Ordering::Relaxed);
    let (mut busy, busy_calls) = busy.join().expect("busy phone thread");
    assert!(
        status.success(),
        "the browser script failed ({status}); steps: {steps:#?}\n{}",
        server.log_tail(40)
    );
    assert!(steps.iter().any(|s| s.starts_with("DONE")), "{steps:#?}");

    // What the phones saw agrees with the window: the registered phone took "Call my phone"
    // (not the trunk), the trunk phone was called once (the invitation by name), the busy
    // phone twice (invited, re-dialled), the tone phone once (then blocked).
    own.wait_event(&["CALL_ESTABLISHED"], Duration::from_secs(2))
        .expect("Anna's registered phone answered Call my phone");
    assert_eq!(
        erika.seen_events().matches("CALL_ESTABLISHED").count(),
        1,
        "the trunk phone: {}",
        erika.seen_events()
    );
    assert_eq!(
        busy_calls, 2,
        "the busy phone was called {busy_calls} times"
    );
    talker
        .wait_event(&["CALL_CLOSED"], Duration::from_secs(2))
        .expect("the blocked phone was hung up");
    for mut phone in [own, erika, talker, ringing, unanswered] {
        phone.quit();
    }
    busy.quit();
}
