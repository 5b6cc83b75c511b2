//! Per-stream codec state between RTP payloads and 16 kHz mixer frames: [`Decoder`]
//! (G.711 + upsampling, G.722 by audio-codec, Opus by opus-pure, with concealment for lost
//! packets) and [`Encoder`] (the reverse). Both are made once per leg; a frame allocates
//! nothing except inside opus-pure: 3 small buffers per encoded frame and about 4 per
//! concealed (lost) frame (`tests/no_alloc.rs` counts them).

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::{Decoder as _, Encoder as _};
use opus_pure::{Application, OpusDecoder, OpusEncoder};

use crate::conceal::Concealer;
use crate::resample::{Downsampler, Upsampler};
use crate::{Codec, FRAME_SAMPLES, Frame, FrameKind, NARROW_SAMPLES, SAMPLE_RATE, g711};

/// Largest payload of one 20 ms packet we accept or write (Opus at up to 256 kbit/s).
pub const MAX_PAYLOAD: usize = 640;

impl Codec {
    /// The largest 20 ms payload a leg of this codec keeps: G.711 and G.722 160 bytes,
    /// Opus 400 (160 kbit/s; voice uses 16–64).
    pub fn max_payload(self) -> usize {
        match self {
            Codec::Pcmu | Codec::Pcma | Codec::G722 => 160,
            Codec::Opus => 400,
        }
    }
}
/// Opus target bitrate: wideband speech is transparent well below this.
const OPUS_BITRATE: i32 = 24_000;
/// Opus encoder effort (0–10): 3 keeps a talker's encoding under 0.5 % of a core (see
/// `benches/codecs.rs`); speech at 24 kbit/s stays clean.
const OPUS_COMPLEXITY: i32 = 3;
/// Mean absolute sample value below which a decoded frame counts as silence and is not
/// mixed (about −57 dBFS: line and comfort noise, not speech). In a large conference the
/// noise of many idle lines would otherwise add up; and a G.711 frame below it is never
/// converted to 16 kHz, so idle phones cost the mixer almost nothing.
pub const NOISE_GATE: u32 = 48;
/// Frames Opus's own concealment fills before the leg goes silent (as [`Concealer`]).
const OPUS_PLC_FRAMES: u32 = crate::conceal::FADE_FRAMES;

enum DecoderKind {
    G711 {
        alaw: bool,
        up: Box<Upsampler>,
        /// The last frame was gated: the upsampler's history is stale.
        gated: bool,
    },
    G722(Box<G722Decoder>),
    Opus {
        dec: Box<OpusDecoder>,
        lost: Option<u32>,
    },
}

/// Turns received payloads of one codec into 16 kHz frames.
pub struct Decoder {
    codec: Codec,
    kind: DecoderKind,
    concealer: Concealer,
}

impl Decoder {
    pub fn new(codec: Codec) -> Self {
        let kind = match codec {
            Codec::Pcmu | Codec::Pcma => DecoderKind::G711 {
                alaw: codec == Codec::Pcma,
                up: Box::new(Upsampler::new()),
                gated: false,
            },
            Codec::G722 => DecoderKind::G722(Box::new(G722Decoder::new())),
            Codec::Opus => DecoderKind::Opus {
                dec: Box::new(
                    OpusDecoder::new(SAMPLE_RATE as i32, 1)
                        .expect("16 kHz mono is a valid Opus decoder"),
                ),
                lost: None,
            },
        };
        Decoder {
            codec,
            kind,
            concealer: Concealer::default(),
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Decodes one packet's payload into `out`. A payload the codec rejects plays as a
    /// lost packet (concealed).
    pub fn decode(&mut self, payload: &[u8], out: &mut Frame) -> FrameKind {
        let ok = match &mut self.kind {
            DecoderKind::G711 { alaw, up, gated } => {
                let mut narrow = [0i16; NARROW_SAMPLES];
                g711::decode(*alaw, payload, &mut narrow);
                if mean_level(&narrow) < NOISE_GATE {
                    *gated = true;
                    return self.silence(out);
                }
                if std::mem::take(gated) {
                    up.reset();
                }
                up.run(&narrow, out);
                true
            }
            DecoderKind::G722(dec) => {
                let n = payload.len().min(FRAME_SAMPLES / 2);
                match dec.decode_into(&payload[..n], out) {
                    Ok(written) => {
                        out[written.min(FRAME_SAMPLES)..].fill(0);
                        true
                    }
                    Err(_) => false,
                }
            }
            DecoderKind::Opus { dec, lost } => match dec.decode_s16(payload, FRAME_SAMPLES, out) {
                Ok(n) => {
                    out[n.min(FRAME_SAMPLES)..].fill(0);
                    *lost = Some(0);
                    true
                }
                Err(_) => false,
            },
        };
        if !ok {
            return self.conceal(out);
        }
        if mean_level(out) < NOISE_GATE {
            return self.silence(out);
        }
        self.concealer.on_audio(out);
        FrameKind::Audio
    }

    /// A frame below the gate: silence, and nothing to conceal after it.
    fn silence(&mut self, out: &mut Frame) -> FrameKind {
        out.fill(0);
        self.concealer.reset();
        FrameKind::Silence
    }

    /// Fills `out` for a packet that is missing: Opus's own concealment, otherwise the
    /// last frame repeated and faded; silence once that has run out.
    pub fn conceal(&mut self, out: &mut Frame) -> FrameKind {
        match &mut self.kind {
            DecoderKind::Opus { dec, lost } => match *lost {
                Some(n) if n < OPUS_PLC_FRAMES => {
                    *lost = Some(n + 1);
                    match dec.decode_s16(&[], FRAME_SAMPLES, out) {
                        Ok(_) => FrameKind::Concealed,
                        Err(_) => {
                            out.fill(0);
                            FrameKind::Silence
                        }
                    }
                }
                _ => {
                    *lost = None;
                    out.fill(0);
                    FrameKind::Silence
                }
            },
            _ => self.concealer.conceal(out),
        }
    }

    /// Non-audio was played (a DTMF event, comfort noise): nothing to conceal after it.
    pub fn reset_concealment(&mut self) {
        self.concealer.reset();
        if let DecoderKind::Opus { lost, .. } = &mut self.kind {
            *lost = None;
        }
    }
}

/// Mean absolute sample value.
fn mean_level(samples: &[i16]) -> u32 {
    let sum: u32 = samples.iter().map(|s| u32::from(s.unsigned_abs())).sum();
    sum / samples.len().max(1) as u32
}

enum EncoderKind {
    G711 { alaw: bool, down: Box<Downsampler> },
    G722(Box<G722Encoder>),
    Opus(Box<OpusEncoder>),
}

/// Turns 16 kHz frames into payloads of one codec.
pub struct Encoder {
    codec: Codec,
    kind: EncoderKind,
}

impl Encoder {
    pub fn new(codec: Codec) -> Self {
        let kind = match codec {
            Codec::Pcmu | Codec::Pcma => EncoderKind::G711 {
                alaw: codec == Codec::Pcma,
                down: Box::new(Downsampler::new()),
            },
            Codec::G722 => EncoderKind::G722(Box::new(G722Encoder::new())),
            Codec::Opus => {
                let mut enc = OpusEncoder::new(SAMPLE_RATE as i32, 1, Application::Voip)
                    .expect("16 kHz mono is a valid Opus encoder");
                enc.bitrate_bps = OPUS_BITRATE;
                enc.complexity = OPUS_COMPLEXITY;
                EncoderKind::Opus(Box::new(enc))
            }
        };
        Encoder { codec, kind }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Encodes one frame into `out` (at least [`MAX_PAYLOAD`] long); returns the payload
    /// length (0 if the codec failed, which sends nothing).
    pub fn encode(&mut self, frame: &Frame, out: &mut [u8]) -> usize {
        let out = &mut out[..MAX_PAYLOAD];
        match &mut self.kind {
            EncoderKind::G711 { alaw, down } => {
                let mut narrow = [0i16; NARROW_SAMPLES];
                down.run(frame, &mut narrow);
                g711::encode(*alaw, &narrow, out);
                NARROW_SAMPLES
            }
            EncoderKind::G722(enc) => enc.encode_into(frame, out).unwrap_or(0),
            EncoderKind::Opus(enc) => enc.encode_s16(frame, FRAME_SAMPLES, out).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, k: usize) -> Frame {
        std::array::from_fn(|i| {
            let t = (k * FRAME_SAMPLES + i) as f64 / SAMPLE_RATE as f64;
            (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        })
    }

    fn amplitude(x: &[i16], hz: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * hz * i as f64 / SAMPLE_RATE as f64;
            re += s as f64 * w.cos();
            im += s as f64 * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    /// A tone through encoder and decoder: its amplitude at the end of 30 frames.
    fn round_trip(codec: Codec, hz: f64) -> f64 {
        let mut enc = Encoder::new(codec);
        let mut dec = Decoder::new(codec);
        let mut heard = vec![];
        let mut payload = [0u8; MAX_PAYLOAD];
        for k in 0..30 {
            let n = enc.encode(&tone(hz, k), &mut payload);
            assert!(n > 0 && n <= MAX_PAYLOAD);
            let mut out = [0; FRAME_SAMPLES];
            // Audio, or silence where the codec cannot carry the tone at all.
            assert_ne!(dec.decode(&payload[..n], &mut out), FrameKind::Concealed);
            heard.extend_from_slice(&out);
        }
        amplitude(&heard[heard.len() - 5 * FRAME_SAMPLES..], hz)
    }

    #[test]
    fn every_codec_carries_speech_frequencies() {
        for codec in [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus] {
            let a = round_trip(codec, 1000.0);
            assert!((6500.0..9500.0).contains(&a), "{codec:?}: 1 kHz at {a}");
        }
    }

    #[test]
    fn only_wideband_codecs_carry_6_khz() {
        for codec in [Codec::G722, Codec::Opus] {
            let a = round_trip(codec, 6000.0);
            assert!(a > 4000.0, "{codec:?}: 6 kHz at {a}");
        }
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let a = round_trip(codec, 6000.0);
            assert!(a < 300.0, "{codec:?}: 6 kHz at {a}");
        }
    }

    #[test]
    fn line_noise_is_silence_and_speech_is_not() {
        for codec in [Codec::Pcmu, Codec::G722, Codec::Opus] {
            let mut enc = Encoder::new(codec);
            let mut dec = Decoder::new(codec);
            let mut payload = [0u8; MAX_PAYLOAD];
            let mut out = [0; FRAME_SAMPLES];
            let mut kinds = vec![];
            for k in 0..10 {
                // −70 dBFS hiss, then a talker.
                let quiet: Frame = std::array::from_fn(|i| if (i + k) % 2 == 0 { 10 } else { -10 });
                let frame = if k < 5 { quiet } else { tone(1000.0, k) };
                let n = enc.encode(&frame, &mut payload);
                kinds.push(dec.decode(&payload[..n], &mut out));
            }
            assert!(
                kinds[1..5].iter().all(|k| *k == FrameKind::Silence),
                "{codec:?}: {kinds:?}"
            );
            assert!(
                kinds[7..].iter().all(|k| *k == FrameKind::Audio),
                "{codec:?}: {kinds:?}"
            );
        }
    }

    #[test]
    fn garbage_is_concealed_not_a_panic() {
        for codec in [Codec::Pcmu, Codec::G722, Codec::Opus] {
            let mut dec = Decoder::new(codec);
            let mut out = [0; FRAME_SAMPLES];
            for junk in [&[][..], &[0xFF; 3], &[0x00; 700], &[0xFC, 0xFF, 0xFE]] {
                let _ = dec.decode(junk, &mut out);
            }
            for _ in 0..5 {
                let _ = dec.conceal(&mut out);
            }
            assert_eq!(dec.conceal(&mut out), FrameKind::Silence);
        }
    }
}
