//! What the tool sends: pre-encoded G.711 frames (silence, low noise, the marker burst) and
//! RFC 4733 telephone-event payloads for PIN entry. Everything is encoded once up front.

use konferenz_media::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};

/// The load generator is a G.711 phone: 8 kHz audio, 160 samples per 20 ms frame.
pub const SAMPLE_RATE: u32 = 8000;
/// Samples (and G.711 bytes) in one 20 ms frame.
pub const FRAME_SAMPLES: usize = konferenz_media::NARROW_SAMPLES;
/// One 20 ms frame of 8 kHz audio.
pub type Frame = [i16; FRAME_SAMPLES];

use crate::marker::burst_frames;

/// The G.711 law of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    Ulaw,
    Alaw,
}

impl Law {
    /// Static payload type of the codec name from SDP (`PCMU`/`PCMA`).
    pub fn from_name(name: &str) -> Option<Law> {
        match name.to_ascii_uppercase().as_str() {
            "PCMU" => Some(Law::Ulaw),
            "PCMA" => Some(Law::Alaw),
            _ => None,
        }
    }

    pub fn encode(self, frame: &Frame) -> [u8; FRAME_SAMPLES] {
        let mut out = [0u8; FRAME_SAMPLES];
        for (o, &s) in out.iter_mut().zip(frame) {
            *o = match self {
                Law::Ulaw => linear_to_ulaw(s),
                Law::Alaw => linear_to_alaw(s),
            };
        }
        out
    }

    /// Decodes a payload into `frame` (zero-filled if short, truncated if long).
    pub fn decode(self, payload: &[u8], frame: &mut Frame) {
        frame.fill(0);
        for (s, &b) in frame.iter_mut().zip(payload) {
            *s = match self {
                Law::Ulaw => ulaw_to_linear(b),
                Law::Alaw => alaw_to_linear(b),
            };
        }
    }
}

/// Frames to send, encoded for one law.
#[derive(Clone, Debug)]
pub struct EncodedFrames {
    /// Background: silence, or a cycle of low-noise frames.
    pub background: Vec<[u8; FRAME_SAMPLES]>,
    pub burst: Vec<[u8; FRAME_SAMPLES]>,
}

/// Frames of background noise in the cycle.
const NOISE_FRAMES: usize = 50;

impl EncodedFrames {
    /// `noise_amplitude` 0 sends digital silence; otherwise uniform noise of that peak.
    pub fn new(law: Law, noise_amplitude: i16) -> EncodedFrames {
        let background = if noise_amplitude <= 0 {
            vec![law.encode(&[0; FRAME_SAMPLES])]
        } else {
            let mut rng = 0x2545_F491u32;
            (0..NOISE_FRAMES)
                .map(|_| {
                    let mut f = [0i16; FRAME_SAMPLES];
                    for s in &mut f {
                        rng ^= rng << 13;
                        rng ^= rng >> 17;
                        rng ^= rng << 5;
                        *s = (rng >> 16) as i16 % noise_amplitude;
                    }
                    law.encode(&f)
                })
                .collect()
        };
        let burst = burst_frames().iter().map(|f| law.encode(f)).collect();
        EncodedFrames { background, burst }
    }

    /// Background frame for tick `k`.
    pub fn background(&self, k: u64) -> &[u8; FRAME_SAMPLES] {
        &self.background[(k % self.background.len() as u64) as usize]
    }
}

/// Packets per digit: 5 updates (100 ms of tone, the last with the end bit), the end packet
/// twice more (3 in all, RFC 4733 §2.5.1.4), then 3 frames of pause.
const DIGIT_UPDATES: u32 = 5;
const EVENT_TICKS: u32 = DIGIT_UPDATES + 2;
const DIGIT_PAUSE: u32 = 3;
/// Ticks one digit takes.
pub const DIGIT_TICKS: u32 = EVENT_TICKS + DIGIT_PAUSE;

/// The RFC 4733 event code of a key.
pub fn event_code(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(key as u8 - b'A' + 12),
        _ => None,
    }
}

/// What tick `tick` (0-based) of sending `key` carries: `Some((payload, first))` for a
/// telephone-event packet (`first` → marker bit and a new event timestamp), `None` for an
/// ordinary audio frame (the pause after the digit).
pub fn digit_packet(key: u8, tick: u32) -> Option<([u8; 4], bool)> {
    if tick >= EVENT_TICKS {
        return None;
    }
    let end = tick >= DIGIT_UPDATES - 1;
    let duration = (tick.min(DIGIT_UPDATES - 1) + 1) * FRAME_SAMPLES as u32;
    let volume = 10u8;
    let flags = if end { 0x80 } else { 0 } | volume;
    let d = (duration as u16).to_be_bytes();
    Some(([key, flags, d[0], d[1]], tick == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_both_laws() {
        for law in [Law::Ulaw, Law::Alaw] {
            let e = EncodedFrames::new(law, 0);
            let mut f = [1i16; FRAME_SAMPLES];
            law.decode(e.background(0), &mut f);
            assert!(f.iter().all(|&s| s.abs() <= 8), "{law:?} silence");
            law.decode(&e.burst[1], &mut f);
            assert!(crate::marker::tone_present(&f));
            let noisy = EncodedFrames::new(law, 200);
            assert_eq!(noisy.background.len(), NOISE_FRAMES);
        }
        assert_eq!(Law::from_name("pcma"), Some(Law::Alaw));
    }

    #[test]
    fn digits_follow_rfc_4733() {
        assert_eq!(event_code('#'), Some(11));
        assert_eq!(event_code('4'), Some(4));
        assert_eq!(event_code('x'), None);
        let first = digit_packet(4, 0).unwrap();
        assert_eq!(first, ([4, 10, 0, 160], true));
        let last_update = digit_packet(4, DIGIT_UPDATES - 1).unwrap();
        assert_eq!(last_update.0, [4, 0x80 | 10, 3, 32]); // 800 samples, end bit
        let resend = digit_packet(4, DIGIT_UPDATES + 1).unwrap();
        assert_eq!(resend, ([4, 0x80 | 10, 3, 32], false));
        assert_eq!(digit_packet(4, EVENT_TICKS), None);
        assert_eq!(DIGIT_TICKS, 10);
    }
}
