//! A phone that sends its PIN in-band: its audio is 1.5 s of silence, the DTMF tones of
//! `4711#` (100 ms each, 100 ms apart, −10 dBFS per sine), then its 1190 Hz tone. baresip
//! just sends that audio (no RFC 4733 events: no `sndcode`); the server's Goertzel detector
//! must hear the keys, and the phone joins a phone already in the room.

mod support;

use std::time::Duration;
use support::audio::{dtmf_samples, silence};
use support::pin::{Heard, dial_and_enter, dial_established, wait_joined};
use support::{Phone, PhoneConfig, Server, ServerOptions};

const A_HZ: f64 = 790.0;
const X_HZ: f64 = 1190.0;

#[test]
fn in_band_dtmf_tones_in_the_audio_enter_the_pin() {
    let server = Server::start_with(&ServerOptions::default().room_with_pin("800", "4711"));
    let mut a = Phone::start(PhoneConfig::new("a", A_HZ));
    let mut lead_in = silence(1.5);
    lead_in.extend(dtmf_samples("4711#", 100, 100, -10.0));
    lead_in.extend(silence(0.3));
    let mut x = Phone::start(PhoneConfig::new("inband", X_HZ).lead_in(lead_in));
    let room = server.uri("800");

    dial_and_enter(&mut a, &room, "4711#");
    wait_joined(&server, Some("800"), 1);
    dial_established(&mut x, &room); // and nothing else: the keys are in its audio
    wait_joined(&server, Some("800"), 2);
    std::thread::sleep(Duration::from_secs(4)); // talk time
    a.hangup();
    x.hangup();
    assert!(
        !x.seen_events().contains("CALL_DTMF"),
        "unexpected DTMF events at the in-band phone"
    );

    let ha = Heard::read("phone a (790 Hz) heard", &a.heard_wav());
    let hx = Heard::read("in-band phone (1190 Hz) heard", &x.heard_wav());
    eprintln!("{}", ha.describe(&[A_HZ, X_HZ]));
    eprintln!("{}", hx.describe(&[A_HZ, X_HZ]));
    let mut failures = Vec::new();
    if let Err(e) = ha.expect_tone(X_HZ, 0.5) {
        failures.push(e);
    }
    if let Err(e) = hx.expect_tone(A_HZ, 0.2) {
        failures.push(e);
    }
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(60));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    a.quit();
    x.quit();
}
