//! The bridge-delay marker: a short sine burst far from the server's own tones, and its
//! onset detection in what a listener receives (Goertzel for presence, an energy envelope
//! for the sample where it starts).

use crate::audio::{FRAME_SAMPLES, Frame, SAMPLE_RATE};

/// Burst frequency: an exact Goertzel bin at 160 samples (50 Hz bins), above the join and
/// leave tones (392/523 Hz) and outside the DTMF grid.
pub const BURST_HZ: f64 = 1800.0;
/// Burst amplitude: about −12 dBFS.
pub const BURST_AMPLITUDE: f64 = 8000.0;
/// Burst length in frames (60 ms).
pub const BURST_FRAMES: usize = 3;

/// Presence needs at least this mean power (RMS ≈ 300: well above low noise).
const MIN_POWER: f64 = 300.0 * 300.0;
/// … and at least this share of the frame's energy at [`BURST_HZ`].
const MIN_TONE_SHARE: f64 = 0.5;
/// Envelope window for the onset, in samples.
const ENVELOPE: usize = 16;

/// The burst's frames as linear samples, continuous phase, starting at full level (a sharp
/// onset is the point).
pub fn burst_frames() -> Vec<Frame> {
    let mut frames = vec![[0i16; FRAME_SAMPLES]; BURST_FRAMES];
    for (n, s) in frames.iter_mut().flatten().enumerate() {
        let t = n as f64 / f64::from(SAMPLE_RATE);
        *s = (BURST_AMPLITUDE * (2.0 * std::f64::consts::PI * BURST_HZ * t).sin()) as i16;
    }
    frames
}

/// Power at `hz` by the Goertzel algorithm, |X(k)|².
pub fn goertzel(samples: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(SAMPLE_RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// True if the burst tone dominates `frame`.
pub fn tone_present(frame: &Frame) -> bool {
    let energy: f64 = frame.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    let n = frame.len() as f64;
    if energy / n < MIN_POWER {
        return false;
    }
    // A pure tone on the bin gives |X|² = (A·N/2)² and energy N·A²/2: share 1.
    goertzel(frame, BURST_HZ) / (energy * n / 2.0) >= MIN_TONE_SHARE
}

/// Finds burst onsets in a listener's frame sequence.
#[derive(Clone, Debug)]
pub struct OnsetDetector {
    prev: Frame,
    /// `prev` is the frame just before the next one (no sequence gap) and valid.
    prev_valid: bool,
    prev_toned: bool,
}

impl Default for OnsetDetector {
    fn default() -> Self {
        OnsetDetector {
            prev: [0; FRAME_SAMPLES],
            prev_valid: false,
            prev_toned: false,
        }
    }
}

impl OnsetDetector {
    /// Feeds the next received frame; `contiguous` says it directly follows the previous
    /// one. On an onset returns how many samples before the end of this frame the burst
    /// started (1..=2·160): the onset happened that long before the frame's arrival.
    pub fn push(&mut self, frame: &Frame, contiguous: bool) -> Option<usize> {
        let toned = tone_present(frame);
        let prev_valid = self.prev_valid && contiguous;
        let onset = if toned && !(prev_valid && self.prev_toned) {
            let mut both = [0i16; 2 * FRAME_SAMPLES];
            both[FRAME_SAMPLES..].copy_from_slice(frame);
            let from = if prev_valid {
                both[..FRAME_SAMPLES].copy_from_slice(&self.prev);
                0
            } else {
                FRAME_SAMPLES
            };
            Some(2 * FRAME_SAMPLES - onset_index(&both, from))
        } else {
            None
        };
        self.prev = *frame;
        self.prev_valid = true;
        self.prev_toned = toned;
        onset
    }

    /// Forget the past (e.g. after a gap in the stream).
    pub fn reset(&mut self) {
        self.prev_valid = false;
        self.prev_toned = false;
    }
}

/// The first sample index ≥ `from` where a window of [`ENVELOPE`] samples holds at least
/// half the power of the loudest window in the second half (the toned frame); the window
/// crosses half power when half of it holds the tone, so the onset is its middle.
fn onset_index(samples: &[i16; 2 * FRAME_SAMPLES], from: usize) -> usize {
    let power = |i: usize| -> f64 {
        samples[i..i + ENVELOPE]
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum()
    };
    let reference = (FRAME_SAMPLES..=2 * FRAME_SAMPLES - ENVELOPE)
        .map(power)
        .fold(0.0, f64::max);
    (from..=2 * FRAME_SAMPLES - ENVELOPE)
        .find(|&i| power(i) >= reference / 2.0)
        // Already loud in the first window: the tone began at (or just before) `from`.
        .map_or(from, |i| if i == from { from } else { i + ENVELOPE / 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of `total` samples: low noise (amplitude `noise`), the burst from sample `at`.
    fn signal(total: usize, at: usize, noise: i16, other: Option<(f64, f64)>) -> Vec<Frame> {
        let burst: Vec<i16> = burst_frames().concat();
        let mut rng = 0x1234_5678u32;
        let mut out = vec![0i16; total];
        for (n, s) in out.iter_mut().enumerate() {
            rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut v = if noise > 0 {
                f64::from((rng >> 16) as i16 % noise)
            } else {
                0.0
            };
            if let Some((hz, amp)) = other {
                v += amp * (2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0).sin();
            }
            if n >= at && n - at < burst.len() {
                v += f64::from(burst[n - at]);
            }
            *s = v.clamp(-32768.0, 32767.0) as i16;
        }
        out.chunks(FRAME_SAMPLES)
            .map(|c| c.try_into().expect("whole frames"))
            .collect()
    }

    /// Feeds frames; returns (frame index, onset sample position in the whole signal).
    fn onsets(frames: &[Frame]) -> Vec<(usize, usize)> {
        let mut d = OnsetDetector::default();
        frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                d.push(f, true)
                    .map(|back| (i, (i + 1) * FRAME_SAMPLES - back))
            })
            .collect()
    }

    #[test]
    fn burst_is_found_at_its_offset() {
        for at in [0, 1, 37, 159, 160, 300, 455, 799] {
            let found = onsets(&signal(12 * FRAME_SAMPLES, at, 0, None));
            assert_eq!(found.len(), 1, "one onset for burst at {at}: {found:?}");
            let pos = found[0].1 as i64;
            assert!((pos - at as i64).abs() <= 4, "burst at {at} found at {pos}");
        }
    }

    #[test]
    fn burst_is_found_in_noise() {
        let found = onsets(&signal(20 * FRAME_SAMPLES, 1234, 400, None));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].1 as i64 - 1234).abs() <= 6, "{found:?}");
        // Noise alone never looks like a burst.
        assert!(onsets(&signal(50 * FRAME_SAMPLES, usize::MAX, 3000, None)).is_empty());
    }

    #[test]
    fn burst_mixed_with_another_talker_is_found() {
        // Another talker: a loud 440 Hz tone plus noise summed with the burst.
        let found = onsets(&signal(
            20 * FRAME_SAMPLES,
            1000,
            300,
            Some((440.0, 2500.0)),
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].1 as i64 - 1000).abs() <= 10, "{found:?}");
        // The join-tone pitches alone are not bursts.
        assert!(
            onsets(&signal(
                20 * FRAME_SAMPLES,
                usize::MAX,
                0,
                Some((523.25, 8000.0))
            ))
            .is_empty()
        );
    }

    #[test]
    fn a_gap_before_the_burst_still_finds_it_in_the_frame() {
        let frames = signal(10 * FRAME_SAMPLES, 5 * FRAME_SAMPLES + 40, 0, None);
        let mut d = OnsetDetector::default();
        for f in &frames[..3] {
            assert_eq!(d.push(f, true), None);
        }
        // Frame 4 lost: frame 5 is not contiguous.
        let back = d.push(&frames[5], false).expect("onset");
        assert!((back as i64 - 120).abs() <= 4, "{back}");
    }

    #[test]
    fn goertzel_peaks_on_its_bin() {
        let f = burst_frames()[1];
        assert!(goertzel(&f, BURST_HZ) > 100.0 * goertzel(&f, 1000.0));
        assert!(tone_present(&f));
        assert!(!tone_present(&[0; FRAME_SAMPLES]));
    }
}
