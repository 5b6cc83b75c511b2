//! Shared scenario: N phones dial room 800, talk, hang up; check who heard which tone.

use super::audio::{describe, dropouts, read_wav, tone_absent, tone_present};
use super::{Codec, Phone, PhoneConfig, Server};
use std::time::Duration;

/// How long each call may take to be established.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Each phone `(tone_hz, codec)` dials `room 800`; all talk ~6 s, then hang up. Every phone
/// must hear every other phone's tone and not its own (the server mixes sum − own).
pub fn talk_and_check(server: &Server, phones: &[(f64, Codec)]) {
    talk_and_check_for(server, phones, Duration::from_secs(6));
}

/// [`talk_and_check`] with a chosen talk time (a soak test talks for minutes).
pub fn talk_and_check_for(server: &Server, phones: &[(f64, Codec)], talk: Duration) {
    talk_and_check_during(server, phones, talk, || {});
}

/// [`talk_and_check_for`], running `during` while everyone is connected (inside the talk time).
pub fn talk_and_check_during(
    server: &Server,
    phones: &[(f64, Codec)],
    talk: Duration,
    during: impl FnOnce(),
) {
    let mut ps: Vec<Phone> = phones
        .iter()
        .enumerate()
        .map(|(i, &(hz, codec))| {
            let mut cfg = PhoneConfig::new(&format!("p{i}"), hz).codec(codec);
            cfg.tone_seconds = cfg.tone_seconds.max(talk.as_secs_f64() + 30.0);
            Phone::start(cfg)
        })
        .collect();
    let room = server.uri("800");
    for p in &mut ps {
        p.dial(&room);
    }
    for p in &mut ps {
        p.wait_established(SETUP_TIMEOUT);
    }
    for p in &ps {
        let enc = p.encoder();
        assert_eq!(
            enc.as_deref(),
            Some(p.cfg.codec.name()),
            "phone {} codec",
            p.cfg.name
        );
    }
    let talk_start = std::time::Instant::now();
    during();
    std::thread::sleep(talk.saturating_sub(talk_start.elapsed())); // talk time, not synchronisation
    for p in &mut ps {
        p.hangup();
    }
    let all: Vec<f64> = phones.iter().map(|&(hz, _)| hz).collect();
    let mut failures = Vec::new();
    for p in &ps {
        let (rate, heard) = read_wav(&p.heard_wav()).expect("read heard wav");
        let label = format!(
            "phone {} ({:.0} Hz, {:?}) heard",
            p.cfg.name, p.cfg.tone_hz, p.cfg.codec
        );
        eprintln!("{}", describe(&label, &heard, rate, &all));
        // The others talk the whole time: no 20 ms window may drop out (skip the first
        // second of setup and the last of hang-up).
        let seconds = heard.len() as f64 / f64::from(rate);
        let gaps = dropouts(&heard, rate, 20, 1.0, seconds - 1.0);
        eprintln!(
            "{label}: {gaps} silent 20 ms windows in {:.1} s",
            seconds - 2.0
        );
        if gaps > 0 {
            failures.push(format!("{label} {gaps} drop-outs"));
        }
        for &hz in &all {
            if hz == p.cfg.tone_hz {
                if !tone_absent(&heard, rate, hz) {
                    failures.push(format!("{label} its own {hz} Hz"));
                }
            } else if !tone_present(&heard, rate, hz) {
                failures.push(format!("{label} no {hz} Hz"));
            }
        }
    }
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(60));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for p in &mut ps {
        p.quit();
    }
}
