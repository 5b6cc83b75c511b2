//! A caller who types a wrong PIN three times hears "not valid" each time, then "too many
//! attempts" and goodbye, and the server hangs up on it. PINs never reach the log.

mod support;

use std::time::{Duration, Instant};
use support::pin::{PROMPT_TIME, dial_established};
use support::{Phone, PhoneConfig, Server, ServerOptions};

#[test]
fn three_wrong_pins_get_a_goodbye_and_a_bye_from_the_server() {
    let server = Server::start_with(&ServerOptions::default().room_with_pin("800", "4711"));
    let mut p = Phone::start(PhoneConfig::new("guesser", 790.0));
    dial_established(&mut p, &server.uri("800"));
    std::thread::sleep(PROMPT_TIME); // the "enter PIN" prompt starts
    for attempt in 1..=3 {
        // sndcode fails (and the test with it) if the server has already hung up.
        p.send_dtmf("1111#");
        if attempt < 3 {
            // Listen to "that PIN is not valid, please try again" (3.5 s) as a caller would.
            std::thread::sleep(Duration::from_millis(3500));
        }
    }
    let last_key = Instant::now();
    let closed = p.wait_closed(Duration::from_secs(15));
    let after = last_key.elapsed();
    eprintln!("server hung up {after:.1?} after the third wrong PIN: {closed}");
    // "too many attempts" + "goodbye" are ~2.6 s of speech; the BYE follows them.
    assert!(
        after >= Duration::from_millis(1500),
        "hung up after {after:?}: before the goodbye prompts could play\n{}",
        server.log_tail(40)
    );
    assert!(
        server.wait_log("voice menu ended the call", Duration::from_secs(5)),
        "no \"voice menu ended the call\" in the server log\n{}",
        server.log_tail(40)
    );
    // The phone heard speech (prompts), not silence.
    let (rate, heard) = support::read_wav(&p.heard_wav()).expect("read heard wav");
    let secs = heard.len() as f64 / f64::from(rate);
    let loud = heard.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(
        loud > rate as usize / 10,
        "the phone heard (nearly) nothing but silence in {secs:.1} s"
    );
    // PINs never appear in logs: no line has the typed or the real PIN as a token of its own
    // (timestamps, ports and ids may contain the digits inside longer numbers).
    let log = server.log_text();
    let leaks: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|t| t == "1111" || t == "4711")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "PIN digits in the server log:\n{}",
        leaks.join("\n")
    );
    p.quit();
}
