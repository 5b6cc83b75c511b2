//! konferenz-media: RTP/RTCP, the codecs (G.711, G.722, Opus), jitter buffer with
//! concealment, RFC 4733 DTMF and the 16 kHz mixer — everything a conference does with
//! audio, without sockets and without a clock.
//!
//! The public API below is the contract the server's room task is written against.
//! Time always arrives as a parameter (`now: Instant`).

use std::time::{Duration, Instant};

mod codec;
mod conceal;
mod dtmf;
mod g711;
pub mod inband;
mod jitter;
mod leg;
mod mixer;
mod player;
mod prompt;
mod resample;
pub mod rtcp;
pub mod rtp;
mod source;
pub mod srtp;
mod tones;
mod wav;

pub use codec::{Decoder, Encoder, MAX_PAYLOAD};
pub use g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
pub use inband::InbandDetector;
pub use leg::MediaLeg;
pub use mixer::Mixer;
pub use player::{LoopPlayer, PROMPT_QUEUE, PromptPlayer};
pub use prompt::Prompt;
pub use resample::{Downsampler, Upsampler};
pub use rtp::is_rtcp;
pub use tones::{join_tone, leave_tone};
pub use wav::{AudioFileError, MAX_SECONDS, decode_wav};

/// Samples per second of the mixer (wideband: what G.722 carries and HD Opus is heard at).
pub const SAMPLE_RATE: u32 = 16000;
/// Samples in one 20 ms frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 320;
/// Samples in one 20 ms frame of narrowband (8 kHz) audio: G.711, in-band DTMF.
pub const NARROW_SAMPLES: usize = 160;
/// The mixer's frame interval.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);
/// One 20 ms frame of linear 16-bit PCM at 16 kHz.
pub type Frame = [i16; FRAME_SAMPLES];
/// Largest RTP packet [`MediaLeg::encode_frame`] writes (12-byte header + at most [`MAX_PAYLOAD`]).
pub const MAX_PACKET: usize = 1500;

/// An audio codec the server can decode and encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// G.722 (wideband ADPCM, 64 kbit/s), static payload type 9; its RTP clock says 8000.
    G722,
    /// Opus (RFC 7587), dynamic payload type, RTP clock 48000; coded here at 16 kHz mono.
    Opus,
}

/// What a leg is told at creation and on every re-negotiation (re-INVITE/UPDATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegConfig {
    /// Codec used in both directions.
    pub codec: Codec,
    /// Payload type negotiated for `codec` (usually its static one).
    pub payload_type: u8,
    /// Payload type negotiated for telephone-event (RFC 4733), if any.
    pub dtmf_payload_type: Option<u8>,
    /// SSRC of the stream we send.
    pub ssrc: u32,
}

/// What one 20 ms frame pulled from a leg is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Decoded from a received packet.
    Audio,
    /// Made up for a missing packet (repeat, then fade).
    Concealed,
    /// Nothing to play: no stream yet, or concealment has run out.
    Silence,
}

/// A DTMF digit received as RFC 4733 telephone-event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfDigit {
    /// '0'..='9', '*', '#', 'A'..='D'.
    pub digit: char,
    /// Duration signalled by the sender.
    pub duration: Duration,
}

/// Counters for one leg, for logs, RTCP and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LegStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    /// Packets that arrived too late to be played or were duplicates.
    pub packets_discarded: u64,
    /// Frames made up by concealment.
    pub frames_concealed: u64,
    /// Datagrams that were not valid RTP/RTCP.
    pub malformed: u64,
    /// Datagrams from an address other than the stream's latched source, dropped (filled
    /// in by the room, which owns the latch).
    pub foreign: u64,
    /// Interarrival jitter (RFC 3550 §6.4.1) in RTP timestamp units.
    pub jitter: u32,
}

/// Why a datagram was not accepted. Never a panic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    /// The datagram is not a well-formed RTP or RTCP packet.
    #[error("malformed RTP/RTCP packet")]
    Malformed,
    /// RTP with a payload type that was not negotiated.
    #[error("unexpected payload type {0}")]
    UnexpectedPayloadType(u8),
}

/// Drives a leg (telephone-event on payload type 101) with arbitrary bytes, for the fuzz
/// target. The first byte picks the codec (PCMU, PCMA, G.722, Opus on PT 111: payloads
/// reach each decoder); the rest is a sequence of records `[ticks, len, len bytes…]`: each
/// datagram is received, then `ticks & 3` mixer ticks pass (pull, encode, RTCP, DTMF), so
/// bursts occur. `t0` is the virtual start time (the caller reads the clock; this crate
/// never does).
#[doc(hidden)]
pub fn fuzz_receive(data: &[u8], t0: Instant) {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let (codec, payload_type) = match pick & 3 {
        0 => (Codec::Pcmu, 0),
        1 => (Codec::Pcma, 8),
        2 => (Codec::G722, 9),
        _ => (Codec::Opus, 111),
    };
    let config = LegConfig {
        codec,
        payload_type,
        dtmf_payload_type: Some(101),
        ssrc: 0x4B5A_0001,
    };
    let mut leg = MediaLeg::new(config, t0);
    let mut now = t0;
    let mut frame = [0i16; FRAME_SAMPLES];
    let mut buf = [0u8; MAX_PACKET];
    let mut rest = data;
    while let [ticks, len, tail @ ..] = rest {
        let (datagram, tail) = tail.split_at((*len as usize).min(tail.len()));
        let _ = leg.receive(now, datagram);
        for _ in 0..ticks & 3 {
            now += FRAME_DURATION;
            leg.pull_frame(now, &mut frame);
            leg.encode_frame(&frame, &mut buf);
            leg.poll_rtcp(now, &mut buf);
            while leg.poll_dtmf().is_some() {}
        }
        rest = tail;
    }
    let _ = (leg.stats(), leg.last_received());
}
