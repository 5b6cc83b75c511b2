//! Synthesised tones: the join tone (rising two-note chime) and the leave tone (falling),
//! plus the fallback beep. Each is generated once as a [`Prompt`] at about −12 dBFS, with
//! raised-cosine fades on every note so nothing clicks.
//!
//! The pitches (392 Hz and 523 Hz: G4 and C5, and 425 Hz for the beep) keep well below the
//! lowest DTMF frequency (697 Hz), so a tone echoed back by a phone is never taken for a digit.

use crate::{Prompt, SAMPLE_RATE};
use std::f64::consts::PI;

/// Peak level of the tones: −12 dBFS.
const LEVEL: f64 = 32767.0 * 0.251_188_643; // 10^(−12/20)
/// Fade in and out of every note, in seconds.
const FADE: f64 = 0.012;

/// One note: frequency in Hz and length in seconds.
type Note = (f64, f64);

/// Rising two-note chime (G4 then C5, 0.15 s each) announcing a newcomer to the room.
pub fn join_tone() -> Prompt {
    notes(&[(392.0, 0.15), (523.25, 0.15)], 1.0)
}

/// Falling two-note chime (C5 then G4, 0.15 s each) when someone leaves the room.
pub fn leave_tone() -> Prompt {
    notes(&[(523.25, 0.15), (392.0, 0.15)], 1.0)
}

/// Short 425 Hz beep and 0.3 s of silence; see [`Prompt::tone_fallback`].
pub(crate) fn fallback_beep() -> Prompt {
    let mut samples = render(&[(425.0, 0.2)], 0.6);
    samples.resize(samples.len() + (0.3 * f64::from(SAMPLE_RATE)) as usize, 0);
    Prompt::from_samples(samples)
}

/// Plays `notes` one after the other at `gain` × [`LEVEL`].
fn notes(notes: &[Note], gain: f64) -> Prompt {
    Prompt::from_samples(render(notes, gain))
}

fn render(notes: &[Note], gain: f64) -> Vec<i16> {
    let rate = f64::from(SAMPLE_RATE);
    let mut out = Vec::new();
    for &(freq, seconds) in notes {
        let n = (seconds * rate) as usize;
        let fade = (FADE * rate) as usize;
        out.extend((0..n).map(|i| {
            let edge = i.min(n - 1 - i);
            let env = if edge < fade {
                0.5 - 0.5 * (PI * edge as f64 / fade as f64).cos()
            } else {
                1.0
            };
            let s = (2.0 * PI * freq * i as f64 / rate).sin();
            (s * env * gain * LEVEL).round() as i16
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;
    use std::time::Duration;

    /// |DFT|/(N/2) at `freq`: the amplitude of a sine at that frequency.
    fn goertzel_amplitude(samples: &[i16], freq: f64) -> f64 {
        let w = 2.0 * PI * freq / f64::from(crate::SAMPLE_RATE);
        let (re, im) = samples
            .iter()
            .enumerate()
            .fold((0.0, 0.0), |(re, im), (n, &x)| {
                let x = f64::from(x);
                (re + x * (w * n as f64).cos(), im - x * (w * n as f64).sin())
            });
        (re * re + im * im).sqrt() / (samples.len() as f64 / 2.0)
    }

    #[test]
    fn join_and_leave_tones_are_short_soft_and_click_free() {
        for (name, tone) in [("join", join_tone()), ("leave", leave_tone())] {
            let d = tone.duration();
            assert!(
                d >= Duration::from_millis(200) && d <= Duration::from_millis(500),
                "{name} {d:?}"
            );
            // About −12 dBFS peak.
            let peak = f64::from(tone.peak());
            assert!((7000.0..=9000.0).contains(&peak), "{name} peak {peak}");
            // Faded: it starts and ends near zero, and no sample jumps like a click.
            let s = tone.samples();
            assert!(s[0].abs() < 100 && s[s.len() - 1].abs() < 100, "{name}");
            let max_step = s.windows(2).map(|w| (w[1] - w[0]).abs()).max().unwrap();
            assert!(max_step < 4000, "{name} step {max_step}");
        }
        // Rising versus falling: the join tone ends higher than it starts.
        let pitch = |s: &[i16]| {
            let f = |hz| goertzel_amplitude(s, hz);
            if f(523.25) > f(392.0) { 523 } else { 392 }
        };
        let (join, leave) = (join_tone(), leave_tone());
        let half = join.len() / 2;
        assert_eq!(
            (
                pitch(&join.samples()[..half]),
                pitch(&join.samples()[half..])
            ),
            (392, 523)
        );
        assert_eq!(
            (
                pitch(&leave.samples()[..half]),
                pitch(&leave.samples()[half..])
            ),
            (523, 392)
        );
    }

    #[test]
    fn fallback_is_a_short_audible_beep() {
        let beep = Prompt::tone_fallback();
        assert!(beep.duration() <= Duration::from_secs(1));
        assert!(beep.peak() > 1000);
        assert_eq!(
            Prompt::silence(Duration::from_millis(20)).len(),
            FRAME_SAMPLES
        );
    }
}
