//! Calling through a PBX: Kamailio (support/kamailio.cfg) stands in for it as registrar and
//! record-routing proxy with digest authentication. A baresip phone registers there as 201;
//! `konferenz invite 201` goes to the trunk `sip:{number}@pbx.test` through the outbound proxy
//! (Kamailio), is challenged (407), authenticates as `konferenz`, and Kamailio forwards the
//! call to the registered phone. Both hear each other through the room; the BYE goes back
//! through Kamailio (Record-Route). With a wrong trunk password the invitation fails. With
//! `trunk.register` the server registers itself there with the trunk credentials.

mod support;

use std::time::Duration;

use support::audio::{read_wav, tone_absent, tone_present};
use support::kamailio::{DOMAIN, Kamailio};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

/// Generous: two cores shared by parallel tests.
const SETUP: Duration = Duration::from_secs(20);

const PHONE_USER: (&str, &str) = ("201", "secret201");
const TRUNK_USER: (&str, &str) = ("konferenz", "trunkpass");

fn server_via(kamailio: &Kamailio, password: &str) -> Server {
    server_via_with(kamailio, password, "")
}

/// The trunk through Kamailio, with `extra` lines in `[trunk]`.
fn server_via_with(kamailio: &Kamailio, password: &str, extra: &str) -> Server {
    let trunk = format!(
        "[trunk]\nuri = \"sip:{{number}}@{DOMAIN}\"\noutbound_proxy = \"{}\"\n\
         username = \"{}\"\npassword = \"{password}\"\nring_timeout_secs = 30\n{extra}",
        kamailio.addr(),
        TRUNK_USER.0,
    );
    Server::start_with(&ServerOptions::default().room("800").config(&trunk))
}

/// Waits until `konferenz participants --room 800` shows `line`.
fn wait_state(server: &Server, kamailio: &Kamailio, line: &str) -> String {
    let mut last = String::new();
    let found = poll_until(SETUP, || {
        last = server.cli(&["participants", "--room", "800"]);
        last.contains(line).then_some(())
    });
    assert!(
        found.is_some(),
        "participants never showed {line:?}; last: {last}\n{}",
        kamailio.log_tail(40)
    );
    last
}

/// Waits for a Kamailio log line with all of `needles`; panics with the log tail if none.
fn expect_log(kamailio: &Kamailio, needles: &[&str], what: &str) -> String {
    kamailio
        .wait_log_line(needles, SETUP)
        .unwrap_or_else(|| panic!("{what}: no kamailio log line with {needles:?}"))
}

/// The call id from `calling 201 into room 800 (call 3)`.
fn call_id(invite_output: &str) -> String {
    invite_output
        .split("(call ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no call id in {invite_output:?}"))
        .to_owned()
}

#[test]
fn a_phone_registered_at_kamailio_is_invited_through_it_with_digest_auth() {
    let kamailio = Kamailio::start(&[PHONE_USER, TRUNK_USER]);
    let mut invited = Phone::start(
        PhoneConfig::new(PHONE_USER.0, 1190.0)
            .auto_answer()
            .register_at(kamailio.port, PHONE_USER.1),
    );
    // The phone's first REGISTER is challenged (401); the second one is saved.
    expect_log(
        &kamailio,
        &["REGISTER of 201: challenge"],
        "the registrar challenges",
    );
    let registered = kamailio
        .wait_registered(PHONE_USER.0, SETUP)
        .unwrap_or_else(|| panic!("phone 201 never registered\n{}", invited.log_tail(30)));
    assert!(
        registered.contains(&format!("@127.0.0.1:{}", invited.sip_port)),
        "{registered}"
    );
    let reginfo = invited.command("reginfo", "");
    assert!(
        reginfo.contains("OK ") && !reginfo.contains("ERR"),
        "baresip reginfo: {reginfo}"
    );

    let server = server_via(&kamailio, TRUNK_USER.1);
    let mut caller = Phone::start(PhoneConfig::new("dial", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);

    let out = server.cli(&["invite", "--room", "800", PHONE_USER.0]);
    assert!(out.starts_with("calling 201 into room 800"), "{out}");
    let call = call_id(&out);
    expect_log(
        &kamailio,
        &["INVITE from konferenz to 201: challenge"],
        "the proxy challenges the first INVITE (407)",
    );
    expect_log(
        &kamailio,
        &["INVITE from konferenz: authenticated as konferenz"],
        "the INVITE with credentials",
    );
    expect_log(
        &kamailio,
        &[
            "INVITE from konferenz to 201 forwarded to ",
            &format!("127.0.0.1:{}", invited.sip_port),
        ],
        "forwarded to the registered contact",
    );
    invited.wait_established(SETUP);
    wait_state(&server, &kamailio, "201  connected");
    // The ACK for the 2xx follows the Record-Route through Kamailio.
    expect_log(&kamailio, &["in-dialog ACK from "], "the ACK");
    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation

    assert_eq!(
        server.cli(&["hangup", &call]),
        format!("call {call}: hung up\n")
    );
    invited.wait_closed(SETUP);
    wait_state(&server, &kamailio, "201  left");
    expect_log(
        &kamailio,
        &[
            "in-dialog BYE from ",
            &format!("127.0.0.1:{}", invited.sip_port),
        ],
        "Kamailio relays the BYE to the phone",
    );
    caller.hangup();

    let (rate, heard_by_caller) = read_wav(&caller.heard_wav()).unwrap();
    let (_, heard_by_invited) = read_wav(&invited.heard_wav()).unwrap();
    assert!(
        tone_present(&heard_by_caller, rate, 1190.0),
        "the caller hears the phone called through Kamailio"
    );
    assert!(
        tone_present(&heard_by_invited, rate, 790.0),
        "the phone called through Kamailio hears the caller"
    );
    assert!(
        tone_absent(&heard_by_invited, rate, 1190.0),
        "and not itself"
    );
    caller.quit();
    invited.quit();
}

#[test]
fn a_wrong_trunk_password_ends_the_invitation_as_failed() {
    let kamailio = Kamailio::start(&[PHONE_USER, TRUNK_USER]);
    let server = server_via(&kamailio, "not-the-password");
    let out = server.cli(&["invite", "--room", "800", PHONE_USER.0]);
    assert!(out.starts_with("calling 201 into room 800"), "{out}");
    // Challenged, answered with the wrong password, challenged again: the endpoint answers
    // a challenge only once and ends the call with the second 407.
    let list = wait_state(&server, &kamailio, "201  failed (407");
    assert!(list.contains("authentication failed"), "{list}");
    let challenges = kamailio
        .log_text()
        .lines()
        .filter(|l| l.contains("INVITE from konferenz to 201: challenge"))
        .count();
    assert_eq!(challenges, 2, "{}", kamailio.log_tail(40));
    assert!(
        !kamailio.log_text().contains("authenticated as konferenz"),
        "{}",
        kamailio.log_tail(40)
    );
}

#[test]
fn konferenz_registers_itself_at_kamailio_with_the_trunk_credentials() {
    let kamailio = Kamailio::start(&[PHONE_USER, TRUNK_USER]);
    let server = server_via_with(
        &kamailio,
        TRUNK_USER.1,
        "register = true\nregister_expires_secs = 120\n",
    );
    // Registrar sip:pbx.test (the host of trunk.uri), sent through the outbound proxy;
    // challenged (401) first, then saved with the server's own contact.
    expect_log(
        &kamailio,
        &["REGISTER of konferenz: challenge"],
        "the registrar challenges the server",
    );
    let registered = kamailio
        .wait_registered(TRUNK_USER.0, SETUP)
        .unwrap_or_else(|| panic!("konferenz never registered\n{}", server.log_tail(40)));
    assert!(
        registered.contains(&format!(":{}", server.sip_port)),
        "the contact is the server's SIP address: {registered}"
    );
    assert!(
        server.wait_log("registration at the trunk confirmed", SETUP),
        "{}",
        server.log_tail(40)
    );
}
