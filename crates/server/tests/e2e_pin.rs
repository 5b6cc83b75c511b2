//! PIN dial-in with RFC 4733 digits (baresip `sndcode`): two phones enter room 800's PIN and
//! hear each other; the first hears the on-hold music while alone, then the join tone when
//! the second arrives, and the music stops.
//!
//! Music: chords of sines below 600 Hz (the first three chords all hold C4 = 261.63 Hz).
//! Join tone: 150 ms G4 (392 Hz) then 150 ms C5 (523.25 Hz).

mod support;

use std::time::Duration;
use support::audio::{band_fraction, fraction_track};
use support::pin::{Heard, dial_and_enter, wait_joined};
use support::{Phone, PhoneConfig, Server, ServerOptions};

const A_HZ: f64 = 790.0;
const B_HZ: f64 = 1190.0;

#[test]
fn two_phones_enter_the_pin_by_rfc4733_and_hear_each_other_music_and_join_tone() {
    let server = Server::start_with(&ServerOptions::default().room_with_pin("800", "4711"));
    let mut a = Phone::start(PhoneConfig::new("a", A_HZ));
    let mut b = Phone::start(PhoneConfig::new("b", B_HZ));
    let room = server.uri("800");

    dial_and_enter(&mut a, &room, "4711#");
    wait_joined(&server, Some("800"), 1);
    // A is alone: the welcome prompt (~4 s), then the on-hold music.
    std::thread::sleep(Duration::from_secs(8)); // listening time, not synchronisation
    dial_and_enter(&mut b, &room, "4711#");
    wait_joined(&server, Some("800"), 2);
    std::thread::sleep(Duration::from_secs(4)); // talk time
    a.hangup();
    b.hangup();

    let ha = Heard::read("phone a (790 Hz) heard", &a.heard_wav());
    let hb = Heard::read("phone b (1190 Hz) heard", &b.heard_wav());
    eprintln!("{}", ha.describe(&[A_HZ, B_HZ, 261.63, 392.0, 523.25]));
    eprintln!("{}", hb.describe(&[A_HZ, B_HZ]));

    let mut failures = Vec::new();
    // Both got in: each hears the other after its onset, and never itself.
    let t_b = match ha.expect_tone(B_HZ, 0.5) {
        Ok(t) => Some(t),
        Err(e) => {
            failures.push(e);
            None
        }
    };
    if let Err(e) = hb.expect_tone(A_HZ, 0.2) {
        failures.push(e);
    }
    for (h, own) in [(&ha, A_HZ), (&hb, B_HZ)] {
        if let Err(e) = h.expect_no_tone(own, 0.05) {
            failures.push(format!("own tone: {e}"));
        }
    }

    if let Some(t_b) = t_b {
        let rate = ha.rate;
        let s = &ha.samples;
        // Alone: music (all below 600 Hz, C4 in it) in the two seconds before B's onset.
        let (m0, m1) = (t_b - 2.5, t_b - 0.5);
        let low_before = band_fraction(s, rate, 50.0, 600.0, m0, m1);
        let c4_before = ha.fraction(261.63, m0, m1);
        let b_before = ha.fraction(B_HZ, m0, m1);
        // Together: B's tone, no music.
        let (n0, n1) = (t_b + 0.5, (t_b + 3.0).min(ha.seconds() - 0.5));
        let low_after = band_fraction(s, rate, 50.0, 600.0, n0, n1);
        let c4_after = ha.fraction(261.63, n0, n1);
        eprintln!(
            "a: B's tone from {t_b:.2} s; {m0:.1}..{m1:.1} s: below 600 Hz {low_before:.2}, \
             C4 {c4_before:.3}, 1190 Hz {b_before:.3}; {n0:.1}..{n1:.1} s: below 600 Hz \
             {low_after:.3}, C4 {c4_after:.4}"
        );
        if low_before < 0.7 || c4_before < 0.05 || b_before > 0.01 {
            failures.push(format!(
                "a: no on-hold music while alone ({m0:.1}..{m1:.1} s: below 600 Hz \
                 {low_before:.2} (want ≥ 0.7), C4 {c4_before:.3} (want ≥ 0.05), 1190 Hz \
                 {b_before:.3})"
            ));
        }
        if low_after > 0.1 || c4_after > 0.005 {
            failures.push(format!(
                "a: music still playing after b joined ({n0:.1}..{n1:.1} s: below 600 Hz \
                 {low_after:.3} (want ≤ 0.1), C4 {c4_after:.4})"
            ));
        }
        // The join tone around B's arrival: G4 then C5, each in at least one 50 ms block.
        let g4 = fraction_track(s, rate, 392.0, t_b - 1.0, t_b + 1.0);
        let c5 = fraction_track(s, rate, 523.25, t_b - 1.0, t_b + 1.0);
        let peak = |track: &[(f64, f64)]| {
            track
                .iter()
                .copied()
                .fold((0.0, 0.0), |best, x| if x.1 > best.1 { x } else { best })
        };
        let (tg, pg) = peak(&g4);
        let (tc, pc) = peak(&c5);
        eprintln!("a: join tone G4 peak {pg:.2} at {tg:.2} s, C5 peak {pc:.2} at {tc:.2} s");
        if pg < 0.1 || pc < 0.1 {
            failures.push(format!(
                "a: no join tone within 1 s of b's arrival at {t_b:.2} s (392 Hz peak {pg:.2} \
                 at {tg:.2} s, 523 Hz peak {pc:.2} at {tc:.2} s; want ≥ 0.1 each)"
            ));
        } else if !(tc > tg && tc - tg < 0.4) {
            failures.push(format!(
                "a: join tone not rising G4 → C5 (G4 at {tg:.2} s, C5 at {tc:.2} s)"
            ));
        }
    }
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(60));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    a.quit();
    b.quit();
}
