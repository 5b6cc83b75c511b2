//! One `konferenz invite` with five numbers: three auto-answering baresip phones are called
//! into room 800 at once and each hears the other two (not itself); a fourth phone rejects
//! the call (baresip's `hangup` on an incoming call answers 486) and ends as "busy"; a fifth
//! never answers and ends as "no-answer" after the trunk's ring time.
//!
//! Routing: baresip takes a call only for its own user name, and the trunk has one URI
//! template, so every phone here is the SIP user `guest` on its own port and the invited
//! "number" is that port: `[trunk] uri = "sip:guest@127.0.0.1:{number}"`.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::audio::{describe, read_wav, tone_absent, tone_present};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(15);
const RING_SECS: u32 = 6;
/// No sum, difference or low-order product of two lands near the third (see e2e_three_phones).
const TONES: [f64; 3] = [790.0, 1190.0, 1780.0];

/// number → state (`connected`, `busy`, …) as `konferenz participants` shows them.
fn states(server: &Server) -> HashMap<String, String> {
    server
        .cli(&["participants", "--room", "800"])
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (_call, number, state) = (words.next()?, words.next()?, words.next()?);
            Some((number.to_owned(), state.to_owned()))
        })
        .collect()
}

/// Waits until every `(number, state)` is shown.
fn wait_states(server: &Server, wanted: &[(&str, &str)], timeout: Duration) {
    let mut last = HashMap::new();
    let reached = poll_until(timeout, || {
        last = states(server);
        wanted
            .iter()
            .all(|(n, s)| last.get(*n).map(String::as_str) == Some(*s))
            .then_some(())
    });
    assert!(
        reached.is_some(),
        "participants never reached {wanted:?}; last: {last:?}"
    );
}

#[test]
fn five_numbers_in_one_invite_three_connect_and_hear_each_other_one_busy_one_no_answer() {
    let mut talkers: Vec<Phone> = TONES
        .iter()
        .map(|&hz| {
            let mut cfg = PhoneConfig::new("guest", hz).auto_answer();
            cfg.tone_seconds = 60.0;
            Phone::start(cfg)
        })
        .collect();
    let mut busy = Phone::start(PhoneConfig::new("guest", 600.0));
    let mut silent = Phone::start(PhoneConfig::new("guest", 600.0));
    let number = |p: &Phone| p.sip_port.to_string();
    let trunk = format!(
        "[trunk]\nuri = \"sip:guest@127.0.0.1:{{number}}\"\nring_timeout_secs = {RING_SECS}\n"
    );
    let server = Server::start_with(&ServerOptions::default().room("800").config(&trunk));

    let numbers: Vec<String> = talkers.iter().chain([&busy, &silent]).map(number).collect();
    let mut args = vec!["invite", "--room", "800"];
    args.extend(numbers.iter().map(String::as_str));
    let out = server.cli(&args);
    assert_eq!(out.lines().count(), 5, "{out}");
    for n in &numbers {
        assert!(out.contains(&format!("calling {n} into room 800")), "{out}");
    }

    // The busy phone rings and rejects: baresip answers an incoming call it hangs up 486.
    busy.wait_event(&["CALL_INCOMING"], SETUP)
        .expect("the busy phone rings");
    busy.command("hangup", "");
    silent
        .wait_event(&["CALL_INCOMING"], SETUP)
        .expect("the silent phone rings");
    for p in &mut talkers {
        p.wait_established(SETUP);
    }
    let connected: Vec<(&str, &str)> = numbers[..3]
        .iter()
        .map(|n| (n.as_str(), "connected"))
        .collect();
    wait_states(&server, &connected, SETUP);
    wait_states(&server, &[(numbers[3].as_str(), "busy")], SETUP);
    // Ringing until the ring time is over, then cancelled.
    assert_eq!(
        states(&server).get(&numbers[4]).map(String::as_str),
        Some("ringing")
    );
    wait_states(
        &server,
        &[(numbers[4].as_str(), "no-answer")],
        Duration::from_secs(u64::from(RING_SECS) + 10),
    );
    silent.wait_closed(SETUP);

    std::thread::sleep(Duration::from_secs(6)); // talk time, not synchronisation
    for p in &mut talkers {
        p.hangup();
    }
    let mut wanted: Vec<(&str, &str)> = numbers[..3].iter().map(|n| (n.as_str(), "left")).collect();
    wanted.push((numbers[3].as_str(), "busy"));
    wanted.push((numbers[4].as_str(), "no-answer"));
    wait_states(&server, &wanted, SETUP);

    let mut failures = Vec::new();
    for p in &talkers {
        let (rate, heard) = read_wav(&p.heard_wav()).expect("read heard wav");
        let label = format!("phone :{} ({:.0} Hz) heard", p.sip_port, p.cfg.tone_hz);
        eprintln!("{}", describe(&label, &heard, rate, &TONES));
        for &hz in &TONES {
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
    for p in talkers.iter_mut().chain([&mut busy, &mut silent]) {
        p.quit();
    }
}
