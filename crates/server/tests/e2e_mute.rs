//! "Mute all but the host" with real phones: three callers in room 800, the host's call
//! is spared by `konferenz mute --room 800 --all-but HOST`; afterwards the others hear the
//! host but not each other, and the host hears nobody. `unmute --room 800 --all` undoes it.
//!
//! Tones 790/1190/1780 Hz as in e2e_three_phones (no intermodulation product lands near
//! another tone).

mod support;

use std::time::Duration;

use support::audio::{fraction_between, read_wav};
use support::{Phone, PhoneConfig, Server, poll_until};

const SETUP: Duration = Duration::from_secs(10);

/// The call id `participants` lists for the phone named `name`.
fn call_of(server: &Server, name: &str) -> String {
    let mut last = String::new();
    poll_until(SETUP, || {
        last = server.cli(&["participants", "--room", "800"]);
        last.lines()
            .find(|l| l.contains(&format!("  {name}  connected")))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned)
    })
    .unwrap_or_else(|| panic!("{name} not listed as connected: {last}"))
}

#[test]
fn muting_all_but_the_host_leaves_only_the_host_audible() {
    let server = Server::start();
    let tones = [("host", 790.0), ("anna", 1190.0), ("bert", 1780.0)];
    let mut phones: Vec<Phone> = tones
        .iter()
        .map(|(name, hz)| Phone::start(PhoneConfig::new(name, *hz)))
        .collect();
    for p in &mut phones {
        p.dial(&server.uri("800"));
    }
    for p in &mut phones {
        p.wait_established(SETUP);
    }
    let host = call_of(&server, "host");
    call_of(&server, "anna");
    call_of(&server, "bert");

    let out = server.cli(&["mute", "--room", "800", "--all-but", &host]);
    assert!(out.starts_with("room 800: muted calls "), "{out}");
    assert!(!out.contains(&host), "the host stays unmuted: {out}");
    let list = server.cli(&["participants", "--room", "800"]);
    assert_eq!(list.matches("(muted)").count(), 2, "{list}");
    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation
    for p in &mut phones {
        p.hangup();
    }

    // The last three seconds before the hang-up are all after the mute.
    let heard: Vec<(u32, Vec<i16>)> = phones
        .iter()
        .map(|p| read_wav(&p.heard_wav()).expect("recording"))
        .collect();
    let window = |i: usize, hz: f64| {
        let (rate, samples) = &heard[i];
        let end = samples.len() as f64 / f64::from(*rate);
        fraction_between(samples, *rate, hz, end - 3.2, end - 0.2)
    };
    assert!(
        window(0, 1190.0) < 0.05 && window(0, 1780.0) < 0.05,
        "the host hears nobody"
    );
    assert!(
        window(1, 790.0) > 0.5,
        "anna hears the host: {}",
        window(1, 790.0)
    );
    assert!(window(1, 1780.0) < 0.05, "anna does not hear muted bert");
    assert!(
        window(2, 790.0) > 0.5,
        "bert hears the host: {}",
        window(2, 790.0)
    );
    assert!(window(2, 1190.0) < 0.05, "bert does not hear muted anna");
    for mut p in phones {
        p.quit();
    }
}

#[test]
fn unmute_all_restores_everyone() {
    let server = Server::start();
    let mut a = Phone::start(PhoneConfig::new("anna", 1190.0));
    let mut b = Phone::start(PhoneConfig::new("bert", 790.0));
    a.dial(&server.uri("800"));
    b.dial(&server.uri("800"));
    a.wait_established(SETUP);
    b.wait_established(SETUP);
    call_of(&server, "anna");
    call_of(&server, "bert");
    let out = server.cli(&["mute", "--room", "800", "--all"]);
    assert!(out.starts_with("room 800: muted calls "), "{out}");
    let out = server.cli(&["unmute", "--room", "800", "--all"]);
    assert!(out.starts_with("room 800: unmuted calls "), "{out}");
    let list = server.cli(&["participants", "--room", "800"]);
    assert!(!list.contains("(muted)"), "{list}");
    std::thread::sleep(Duration::from_secs(3)); // talk time, not synchronisation
    a.hangup();
    b.hangup();
    let (rate, heard) = read_wav(&a.heard_wav()).unwrap();
    let end = heard.len() as f64 / f64::from(rate);
    assert!(fraction_between(&heard, rate, 790.0, end - 2.2, end - 0.2) > 0.5);
    a.quit();
    b.quit();
}
