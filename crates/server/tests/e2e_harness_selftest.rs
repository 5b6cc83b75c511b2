//! Guards the e2e harness without the server: two baresip phones call each other directly.
//!
//! B (1000 Hz) dials A (600 Hz, auto-answer); after ~4 s of talk each recording must hold the
//! other's tone and not its own; DTMF sent by B arrives at A. This proves phones, ctrl_tcp,
//! recording, DTMF and tone detection.

mod support;

use std::time::Duration;
use support::audio::{describe, tone_absent};
use support::{Phone, PhoneConfig, read_wav, tone_present};

#[test]
fn two_phones_hear_each_other() {
    let mut a = Phone::start(PhoneConfig::new("a", 600.0).auto_answer());
    let mut b = Phone::start(PhoneConfig::new("b", 1000.0));

    b.dial(&a.uri());
    b.wait_established(Duration::from_secs(10));
    a.wait_established(Duration::from_secs(10));

    // RFC 4733 digits from B arrive at A as CALL_DTMF_START events, in order.
    b.send_dtmf("12#");
    for digit in ["1", "2", "#"] {
        let ev = a.wait_event(&["CALL_DTMF_START"], Duration::from_secs(5));
        let ev = ev.unwrap_or_else(|e| panic!("phone a, digit {digit}: {e}"));
        assert_eq!(ev["param"], digit, "phone a DTMF event {ev}");
    }

    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation
    b.hangup();
    a.wait_closed(Duration::from_secs(10));

    for (phone, own, other) in [(&a, 600.0, 1000.0), (&b, 1000.0, 600.0)] {
        let (rate, heard) = read_wav(&phone.heard_wav()).expect("read heard wav");
        eprintln!(
            "{}",
            describe(
                &format!("phone {} heard", phone.cfg.name),
                &heard,
                rate,
                &[own, other]
            )
        );
        assert!(
            tone_present(&heard, rate, other),
            "phone {} should hear {other} Hz",
            phone.cfg.name
        );
        assert!(
            tone_absent(&heard, rate, own),
            "phone {} should not hear its own {own} Hz",
            phone.cfg.name
        );
        let (rate, sent) = read_wav(&phone.sent_wav()).expect("read sent wav");
        assert!(
            tone_present(&sent, rate, own),
            "phone {} should send {own} Hz",
            phone.cfg.name
        );
    }
    a.quit();
    b.quit();
}
