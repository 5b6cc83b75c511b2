//! Invitations with real phones: `konferenz invite` makes the server call a baresip phone
//! through the trunk; it answers and is in the room with a dial-in caller, both hear each
//! other, and `konferenz participants` shows the live state. A phone that never answers
//! ends as "no-answer" after the ring time.

mod support;

use std::time::Duration;

use support::audio::{read_wav, tone_absent, tone_present};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(10);

fn server_calling(phone: &Phone, ring_secs: u32) -> Server {
    let trunk = format!(
        "[trunk]\nuri = \"sip:{{number}}@127.0.0.1:{}\"\nring_timeout_secs = {ring_secs}\n",
        phone.sip_port
    );
    Server::start_with(&ServerOptions::default().room("800").config(&trunk))
}

/// Waits until `konferenz participants` shows `line`.
fn wait_state(server: &Server, line: &str) -> String {
    let mut last = String::new();
    let found = poll_until(SETUP, || {
        last = server.cli(&["participants", "--room", "800"]);
        last.contains(line).then_some(())
    });
    assert!(
        found.is_some(),
        "participants never showed {line:?}; last: {last}"
    );
    last
}

#[test]
fn an_invited_phone_is_called_into_the_room_and_hears_the_caller() {
    let mut invited = Phone::start(PhoneConfig::new("inv", 1190.0).auto_answer());
    let server = server_calling(&invited, 30);
    let mut caller = Phone::start(PhoneConfig::new("dial", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);

    let out = server.cli(&["invite", "--room", "800", "inv"]);
    assert!(out.starts_with("calling inv into room 800"), "{out}");
    invited.wait_established(SETUP);
    wait_state(&server, "inv  connected");
    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation
    let call = out
        .split("(call ")
        .nth(1)
        .unwrap()
        .trim_end_matches(")\n")
        .to_owned();
    assert_eq!(
        server.cli(&["mute", &call]),
        format!("call {call}: muted\n")
    );
    assert_eq!(
        server.cli(&["hangup", &call]),
        format!("call {call}: hung up\n")
    );
    invited.wait_closed(SETUP);
    wait_state(&server, "inv  left");
    caller.hangup();

    let (rate, heard_by_caller) = read_wav(&caller.heard_wav()).unwrap();
    let (_, heard_by_invited) = read_wav(&invited.heard_wav()).unwrap();
    assert!(
        tone_present(&heard_by_caller, rate, 1190.0),
        "the caller hears the invited phone"
    );
    assert!(
        tone_present(&heard_by_invited, rate, 790.0),
        "the invited phone hears the caller"
    );
    assert!(
        tone_absent(&heard_by_invited, rate, 1190.0),
        "and not itself"
    );
    caller.quit();
    invited.quit();
}

#[test]
fn a_phone_that_never_answers_ends_as_no_answer() {
    let mut silent = Phone::start(PhoneConfig::new("nobody", 1190.0));
    let server = server_calling(&silent, 2);
    server.cli(&["invite", "--room", "800", "nobody"]);
    silent
        .wait_event(&["CALL_INCOMING"], SETUP)
        .expect("the phone rings");
    wait_state(&server, "nobody  ringing");
    wait_state(&server, "nobody  no-answer");
    silent.wait_closed(SETUP);
    silent.quit();
}

#[test]
fn inviting_without_a_trunk_or_into_an_unknown_room_is_refused() {
    let server = Server::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_konferenz"))
        .args([
            "--config",
            server.config.to_str().unwrap(),
            "invite",
            "--room",
            "800",
            "4711",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no trunk configured"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_konferenz"))
        .args([
            "--config",
            server.config.to_str().unwrap(),
            "invite",
            "--room",
            "999",
            "4711",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no room 999"));
}

#[test]
fn a_caller_hung_up_with_block_cannot_dial_back_in() {
    let server = Server::start();
    let mut pest = Phone::start(PhoneConfig::new("pest", 790.0));
    pest.dial(&server.uri("800"));
    pest.wait_established(SETUP);
    let list = wait_state(&server, "pest  connected");
    let call = list
        .lines()
        .find(|l| l.contains("pest"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_eq!(
        server.cli(&["hangup", &call, "--block"]),
        format!("call {call}: hung up and blocked\n")
    );
    pest.wait_closed(SETUP);
    pest.dial(&server.uri("800"));
    let closed = pest.wait_closed(SETUP);
    assert!(closed.to_string().contains("403"), "CALL_CLOSED: {closed}");
    pest.quit();
}

#[test]
fn inviting_a_ringing_phone_again_re_dials_it() {
    let mut phone = Phone::start(PhoneConfig::new("again", 1190.0));
    let server = server_calling(&phone, 30);
    let first = server.cli(&["invite", "--room", "800", "again"]);
    phone
        .wait_event(&["CALL_INCOMING"], SETUP)
        .expect("the phone rings");
    wait_state(&server, "again  ringing");
    let second = server.cli(&["invite", "--room", "800", "again"]);
    assert_ne!(first, second, "a new call: {first} / {second}");
    phone
        .wait_event(&["CALL_CLOSED"], SETUP)
        .expect("the first attempt is cancelled");
    phone
        .wait_event(&["CALL_INCOMING"], SETUP)
        .expect("and the phone rings again");
    let list = wait_state(&server, "again  left");
    assert!(list.contains("again  ringing"), "{list}");
    phone.quit();
}
