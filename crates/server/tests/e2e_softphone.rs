//! The browser as a phone, for real: headless Chromium (Debian's `chromium`, npm
//! `playwright-core`, `tests/browser/softphone.mjs`) with a fake microphone playing an
//! 880 Hz WAV logs in as an organiser and joins room 800 "In this browser", where a
//! baresip phone plays 1190 Hz. The page's Web Audio analyser must find the phone's tone;
//! the phone's recording must contain the browser's tone; the participant is listed under
//! the user's number while connected; after the page closes its peer connection while the
//! signalling is cut off for 5 s, the same call comes back; Leave takes it out of the room.
//! Then a guest opens a personal link (from an invitation) in a second browser context,
//! uses "Join in browser" without a PIN, is listed under the invited number, and leaves the
//! conference by closing the tab.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::api::{Auth, Client};
use support::audio::{describe, fraction_between, read_wav, tone_present, write_wav_at};
use support::conference::SETUP_TIMEOUT;
use support::{Phone, PhoneConfig, Server, ServerOptions, browser};

const PASSWORD: &str = "correct horse 1";
const PHONE_HZ: f64 = 1190.0;
const BROWSER_HZ: f64 = 880.0;

/// The participants of room 800 as `(call, number, state)`.
fn participants(api: &Client) -> Vec<(u64, String, String)> {
    let r = api.get("/api/v1/rooms/800/participants");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["call"].as_u64().unwrap_or_default(),
                p["number"].as_str().unwrap_or_default().to_owned(),
                p["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_browser_joins_hears_and_is_heard_reconnects_and_leaves() {
    browser::require();
    // Invitations go to 127.0.0.1:<number>: nothing answers at port 9, but the invitation
    // gives the guest's personal link.
    let trunk = "[trunk]\nuri = \"sip:guest@127.0.0.1:{number}\"\nring_timeout_secs = 20\n";
    let server = Server::start_with(&ServerOptions::default().room("800").config(trunk));
    server.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna Müller",
        "--password",
        PASSWORD,
        "--organiser",
    ]);
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    assert_eq!(
        admin
            .send("PUT", "/api/v1/rooms/800/shares/201", None)
            .status,
        204
    );

    let mut phone = Phone::start(PhoneConfig::new("phone", PHONE_HZ));
    phone.dial(&server.uri("800"));
    phone.wait_established(SETUP_TIMEOUT);

    let work = tempfile::tempdir().expect("temp dir");
    let tone = work.path().join("browser-tone.wav");
    let samples: Vec<i16> = (0..48_000 * 60)
        .map(|i| {
            (12_000.0 * (2.0 * std::f64::consts::PI * BROWSER_HZ * i as f64 / 48_000.0).sin())
                as i16
        })
        .collect();
    write_wav_at(&tone, &samples, 48_000, 1);
    let hold = work.path().join("hold-done");
    let anna = Client::new(
        &server.http_base(),
        Auth::Bearer(
            server
                .cli(&["token", "create", "--user", "201"])
                .trim()
                .to_owned(),
        ),
    );
    let invited = anna.post(
        "/api/v1/rooms/800/invitations",
        serde_json::json!({"numbers": ["9"]}),
    );
    assert_eq!(invited.status, 202, "{:?}", invited.body);
    let link = invited.body["invitations"][0]["link"]
        .as_str()
        .expect("a personal link")
        .to_owned();

    let mut node = Command::new("node")
        .arg(browser::dir().join("softphone.mjs"))
        .current_dir(browser::dir())
        .env("BASE_URL", server.http_base())
        .env("LOGIN", "201")
        .env("PASSWORD", PASSWORD)
        .env("ROOM", "800")
        .env("SHOTS", browser::artifacts())
        .env("TONE_WAV", &tone)
        .env("EXPECT_HZ", PHONE_HZ.to_string())
        .env("HOLD_FILE", &hold)
        .env("GUEST_LINK", &link)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let mut steps = Vec::new();
    let mut call = None;
    let mut connected_at = None;
    let mut listed = Vec::new();
    let mut guest = Vec::new();
    let mut guest_call = None;
    for line in BufReader::new(node.stdout.take().unwrap()).lines() {
        let line = line.unwrap_or_default();
        eprintln!("browser: {line}");
        if let Some(id) = line.strip_prefix("CONNECTED call=") {
            call = id.trim().parse::<u64>().ok();
            connected_at = Some(Instant::now());
            // While the browser talks: it is listed under the user's number, and the
            // phone hears it for a few seconds (recorded), then the page goes on.
            listed = participants(&admin);
            std::thread::sleep(Duration::from_secs(4));
            std::fs::write(&hold, b"go").expect("hold file");
        }
        if let Some(rest) = line.strip_prefix("GUEST CONNECTED call=") {
            guest_call = rest
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u64>().ok());
            guest = participants(&admin);
        }
        steps.push(line);
    }
    let status = node.wait().expect("node");
    let after = participants(&admin);
    phone.hangup();
    assert!(
        status.success(),
        "the browser script failed ({status}); steps: {steps:#?}\n{}",
        server.log_tail(60)
    );
    let call = call.expect("the page reported its call");
    assert!(connected_at.is_some());
    assert!(
        listed
            .iter()
            .any(|(c, number, state)| *c == call && number == "201" && state == "connected"),
        "the browser is listed as 201, connected: {listed:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with(&format!("reconnected call={call}"))),
        "the same call came back: {steps:#?}"
    );
    assert!(
        !after
            .iter()
            .any(|(c, _, state)| *c == call && state == "connected"),
        "Leave took the browser out: {after:?}"
    );
    let guest_call = guest_call.expect("the guest joined from the link");
    assert!(
        guest
            .iter()
            .any(|(c, number, state)| *c == guest_call && number == "9" && state == "connected"),
        "the guest is listed under the invited number: {guest:?}"
    );
    assert!(
        steps.iter().any(|s| s == "guest closed the tab"),
        "{steps:#?}"
    );
    // Closing the tab leaves the conference (not only when the media times out later).
    let left = (0..50).any(|_| {
        let now = participants(&admin);
        if !now
            .iter()
            .any(|(c, _, state)| *c == guest_call && state == "connected")
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
        false
    });
    assert!(left, "the guest is still listed after closing the tab");
    let (rate, heard) = read_wav(&phone.heard_wav()).expect("the phone's recording");
    eprintln!(
        "{}",
        describe("phone heard", &heard, rate, &[BROWSER_HZ, PHONE_HZ])
    );
    assert!(
        tone_present(&heard, rate, BROWSER_HZ),
        "the phone heard no {BROWSER_HZ} Hz from the browser"
    );
    let seconds = heard.len() as f64 / f64::from(rate);
    eprintln!(
        "browser tone in the phone's recording: {:.2} of the energy over {seconds:.1} s",
        fraction_between(&heard, rate, BROWSER_HZ, 0.0, seconds)
    );
    assert!(
        server.log_tail(400).contains("browser connected"),
        "{}",
        server.log_tail(60)
    );
    phone.quit();
}
