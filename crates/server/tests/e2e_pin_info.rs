//! A pjsua2 phone enters the PIN as SIP INFO (`application/dtmf-relay`, one INFO per key) and
//! joins a baresip phone that entered it by RFC 4733: they hear each other.

mod support;

use std::time::Duration;
use support::pin::{Heard, PROMPT_TIME, SETUP_TIMEOUT, dial_and_enter, wait_joined};
use support::pjsua::{self, PjsuaPhone};
use support::{Phone, PhoneConfig, Server, ServerOptions};

const A_HZ: f64 = 790.0;
const P_HZ: f64 = 1190.0;

#[test]
fn pjsua2_enters_the_pin_by_sip_info_and_joins() {
    assert!(
        pjsua::available(),
        "python3 cannot import pjsua2: install it with `python3 -m pip install pjsua2-python` \
         (scripts/test does)"
    );
    let server = Server::start_with(&ServerOptions::default().room_with_pin("800", "4711"));
    let mut a = Phone::start(PhoneConfig::new("a", A_HZ));
    let mut p = PjsuaPhone::start("info", P_HZ);
    let room = server.uri("800");

    dial_and_enter(&mut a, &room, "4711#");
    wait_joined(&server, Some("800"), 1);
    p.dial(&room);
    p.wait_established(SETUP_TIMEOUT);
    std::thread::sleep(PROMPT_TIME); // the "enter PIN" prompt starts
    p.send_info_dtmf("4711#");
    wait_joined(&server, Some("800"), 2);
    std::thread::sleep(Duration::from_secs(4)); // talk time
    a.hangup();
    p.hangup();
    p.quit();

    // pjsua2 really sent INFO requests with DTMF bodies (and no RFC 4733 events).
    let log = std::fs::read_to_string(p.dir().join("pjsua.log")).unwrap_or_default();
    let infos = log.matches("INFO sip:").count();
    assert!(
        infos >= 5 && log.contains("application/dtmf-relay"),
        "pjsua2 log shows {infos} INFO requests (want 5 with application/dtmf-relay)"
    );

    let ha = Heard::read("phone a (790 Hz) heard", &a.heard_wav());
    let hp = Heard::read("pjsua phone (1190 Hz) heard", &p.heard_wav());
    eprintln!("{}", ha.describe(&[A_HZ, P_HZ]));
    eprintln!("{}", hp.describe(&[A_HZ, P_HZ]));
    let mut failures = Vec::new();
    if let Err(e) = ha.expect_tone(P_HZ, 0.5) {
        failures.push(e);
    }
    if let Err(e) = hp.expect_tone(A_HZ, 0.2) {
        failures.push(e);
    }
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(60));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    a.quit();
}
