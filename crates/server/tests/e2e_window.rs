//! The conference window in headless Chromium (Debian's `chromium`, driven by npm
//! `playwright-core` from `tests/browser/window.mjs`): this harness starts the real server
//! and three baresip phones — one that answers, one that rejects as busy, one for "Call
//! me" — and users, then runs the browser script, which logs in, invites, watches states
//! change without reload, hangs up, closes and reopens, copies a personal link and uses
//! Call me in a second browser context, and has an administrator withdraw a user's
//! organiser flag. Screenshots are kept in `target/browser-artifacts/`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::api::{Auth, Client, add_users};
use support::{Phone, PhoneConfig, Server, ServerOptions, browser};

const PASSWORD: &str = "correct horse 1";

#[test]
fn the_window_in_chromium() {
    browser::require();
    // Every phone is the SIP user `guest` on its own port; the invited "number" is the port.
    // The answering phone rings for a moment before it is picked up, as a person's would:
    // the window must show it calling/ringing before it shows it connected.
    let mut answering = Phone::start(PhoneConfig::new("guest", 790.0));
    let mut busy = Phone::start(PhoneConfig::new("guest", 600.0));
    let mut call_me = Phone::start(PhoneConfig::new("guest", 1190.0).auto_answer());
    let trunk = "[trunk]\nuri = \"sip:guest@127.0.0.1:{number}\"\nring_timeout_secs = 20\n\
                 [dialin]\nexternal_number = \"+41 44 123 45 67\"\n";
    let server = Server::start_with(
        &ServerOptions::default()
            .room_with_pin("800", "4711")
            .room("201")
            .config(trunk),
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
    assert_eq!(
        admin
            .send("PUT", "/api/v1/rooms/800/shares/202", None)
            .status,
        204
    );
    let contact = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Erika Mustermann", "number": "+49 30 1234567"}),
    );
    assert_eq!(contact.status, 201);

    // The busy phone rejects (486) when it rings.
    let busy_port = busy.sip_port.to_string();
    let rejecting = std::thread::spawn(move || {
        let rang = busy.wait_event(&["CALL_INCOMING"], Duration::from_secs(120));
        if rang.is_ok() {
            busy.command("hangup", "");
        }
        busy
    });

    // The answering phone picks up after ringing for a second and a half.
    let answering_port = answering.sip_port.to_string();
    let picking_up = std::thread::spawn(move || {
        if answering
            .wait_event(&["CALL_INCOMING"], Duration::from_secs(120))
            .is_ok()
        {
            std::thread::sleep(Duration::from_millis(1500));
            answering.command("accept", "");
        }
        answering
    });

    let mut node = Command::new("node")
        .arg(browser::dir().join("window.mjs"))
        .current_dir(browser::dir())
        .env("BASE_URL", server.http_base())
        .env("PASSWORD", PASSWORD)
        .env("ANSWERING", &answering_port)
        .env("BUSY", &busy_port)
        .env("CALL_ME", call_me.sip_port.to_string())
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
    assert!(
        status.success(),
        "the browser script failed ({status}); steps: {steps:#?}\n{}",
        server.log_tail(40)
    );
    assert!(steps.iter().any(|s| s.starts_with("DONE")), "{steps:#?}");
    call_me.quit();
    picking_up.join().expect("answering phone thread").quit();
    rejecting.join().expect("busy phone thread").quit();
}
