//! Helpers for the PIN dial-in tests (`tests/e2e_pin*.rs`): entering a PIN, waiting for the
//! server to say a caller joined, and reading recordings with timing in mind.

use super::audio::{describe, fraction_between, read_wav, tone_onset};
use super::{Phone, Server};
use std::time::Duration;

/// How long a call may take to be established.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may take to log that a caller joined after the last key.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Time to let the "enter PIN" prompt start before typing (typing interrupts it anyway).
pub const PROMPT_TIME: Duration = Duration::from_millis(1500);

/// Dials `uri` and waits until the call is answered (the voice menu answers at once).
pub fn dial_established(phone: &mut Phone, uri: &str) {
    phone.dial(uri);
    phone.wait_established(SETUP_TIMEOUT);
}

/// Dials `uri`, waits for the answer and the prompt, then sends `keys` as RFC 4733 events.
pub fn dial_and_enter(phone: &mut Phone, uri: &str, keys: &str) {
    dial_established(phone, uri);
    std::thread::sleep(PROMPT_TIME); // listen to the prompt, as a caller would
    phone.send_dtmf(keys);
}

/// Waits for a server log line `joined … participants=<n>` (in `room`, if given); panics
/// with the log tail after [`JOIN_TIMEOUT`].
pub fn wait_joined(server: &Server, room: Option<&str>, n: usize) {
    let count = format!("participants={n}");
    let room_field = room.map(|r| format!("room={r}"));
    let mut needles = vec!["joined", count.as_str()];
    if let Some(r) = &room_field {
        needles.push(r.as_str());
    }
    assert!(
        server.wait_log_line(&needles, JOIN_TIMEOUT),
        "no server log line with {needles:?} within {JOIN_TIMEOUT:?}\n{}",
        server.log_tail(60)
    );
}

/// A recording: rate and samples, with its label for messages.
pub struct Heard {
    pub label: String,
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Heard {
    pub fn read(label: &str, path: &std::path::Path) -> Heard {
        let (rate, samples) = read_wav(path).unwrap_or_else(|e| panic!("{label}: {e}"));
        Heard {
            label: label.into(),
            rate,
            samples,
        }
    }

    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate.max(1))
    }

    /// One line for the test log: energy fractions at `freqs` over the whole recording.
    pub fn describe(&self, freqs: &[f64]) -> String {
        describe(&self.label, &self.samples, self.rate, freqs)
    }

    /// When a tone at `freq` starts and stays (≥ 30 % of the energy for 0.5 s).
    pub fn onset(&self, freq: f64) -> Option<f64> {
        tone_onset(&self.samples, self.rate, freq, 0.3, 5)
    }

    /// Fraction of the energy at `freq` between two times (s).
    pub fn fraction(&self, freq: f64, from_s: f64, to_s: f64) -> f64 {
        fraction_between(&self.samples, self.rate, freq, from_s, to_s)
    }

    /// Checks that `freq` starts in this recording and then makes up at least `min` of the
    /// energy from 0.5 s after its onset to 0.5 s before the end; a failure message if not.
    pub fn expect_tone(&self, freq: f64, min: f64) -> Result<f64, String> {
        let Some(t) = self.onset(freq) else {
            return Err(format!(
                "{}: no {freq} Hz tone anywhere ({:.1} s recorded)",
                self.label,
                self.seconds()
            ));
        };
        let end = self.seconds() - 0.5;
        let frac = self.fraction(freq, t + 0.5, end);
        eprintln!(
            "{}: {freq} Hz from {t:.1} s; {:.2} of the energy in {:.1}..{end:.1} s",
            self.label,
            frac,
            t + 0.5
        );
        if frac < min {
            return Err(format!(
                "{}: {freq} Hz only {frac:.3} of the energy after its onset at {t:.1} s (want ≥ {min})",
                self.label
            ));
        }
        Ok(t)
    }

    /// Checks that `freq` is never there for long: no run of 0.5 s (five 100 ms blocks) in
    /// which it makes up at least `max` of the energy. (A leaked phone tone is steady; a
    /// prompt's speech may touch the frequency for a block or two.)
    pub fn expect_no_tone(&self, freq: f64, max: f64) -> Result<(), String> {
        match tone_onset(&self.samples, self.rate, freq, max, 5) {
            None => Ok(()),
            Some(t) => Err(format!(
                "{}: {freq} Hz is ≥ {max} of the energy for 0.5 s from {t:.1} s (want never)",
                self.label
            )),
        }
    }
}
