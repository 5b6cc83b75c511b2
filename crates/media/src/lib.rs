//! konferenz-media: RTP/RTCP, G.711, jitter buffer with concealment, RFC 4733 DTMF and the
//! mixer — everything a conference does with audio, without sockets and without a clock.
//!
//! The public API below is the contract the server's room task is written against.
//! Time always arrives as a parameter (`now: Instant`).

use std::time::{Duration, Instant};

/// Samples per second of the mixer (narrowband).
pub const SAMPLE_RATE: u32 = 8000;
/// Samples in one 20 ms frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 160;
/// The mixer's frame interval.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);
/// One 20 ms frame of linear 16-bit PCM at 8 kHz.
pub type Frame = [i16; FRAME_SAMPLES];
/// Largest RTP packet [`MediaLeg::encode_frame`] writes (12-byte header + 160 bytes payload, with room for G.722/Opus later).
pub const MAX_PACKET: usize = 1500;

/// An audio codec the server can decode and encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// Static RTP payload type (RFC 3551).
    pub fn static_payload_type(self) -> u8 {
        todo!()
    }
    /// Encoding name as used in SDP `a=rtpmap` (e.g. "PCMU").
    pub fn encoding_name(self) -> &'static str {
        todo!()
    }
    /// RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        todo!()
    }
    /// Looks a codec up by its SDP encoding name (case-insensitive) and clock rate.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        todo!()
    }
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

/// One participant's media: receive side (RTP parse, SSRC/sequence tracking, jitter buffer,
/// concealment, DTMF) and send side (G.711 encode, RTP header, RTCP reports).
pub struct MediaLeg {
    _private: (),
}

impl MediaLeg {
    /// A new leg; `now` starts its RTCP schedule.
    pub fn new(config: LegConfig, now: Instant) -> Self {
        let _ = (config, now);
        todo!()
    }

    /// Applies a renegotiated codec/payload types (keeps SSRC, sequence and buffers sane).
    pub fn reconfigure(&mut self, config: LegConfig) {
        let _ = config;
        todo!()
    }

    /// Takes one datagram from the network: RTP or RTCP (told apart as in RFC 5761).
    /// Never panics, whatever the bytes.
    pub fn receive(&mut self, now: Instant, datagram: &[u8]) -> Result<(), MediaError> {
        let _ = (now, datagram);
        todo!()
    }

    /// Writes the next 20 ms of received audio into `out` (called once per mixer tick).
    pub fn pull_frame(&mut self, now: Instant, out: &mut Frame) -> FrameKind {
        let _ = (now, out);
        todo!()
    }

    /// Encodes `frame` as the next RTP packet of our stream into `buf`; returns its length.
    pub fn encode_frame(&mut self, frame: &Frame, buf: &mut [u8; MAX_PACKET]) -> usize {
        let _ = (frame, buf);
        todo!()
    }

    /// If an RTCP report (SR, or RR when we have sent nothing) is due, writes it into `buf`.
    pub fn poll_rtcp(&mut self, now: Instant, buf: &mut [u8; MAX_PACKET]) -> Option<usize> {
        let _ = (now, buf);
        todo!()
    }

    /// The next completed DTMF digit, if any.
    pub fn poll_dtmf(&mut self) -> Option<DtmfDigit> {
        todo!()
    }

    /// When the last valid RTP or RTCP packet arrived (for dead-call detection).
    pub fn last_received(&self) -> Option<Instant> {
        todo!()
    }

    /// Counters.
    pub fn stats(&self) -> LegStats {
        todo!()
    }
}

/// Mixes a room: every participant hears the sum of all others (sum − own), summed in
/// wide integers and clipped once. Holds its scratch space; `mix` never allocates.
pub struct Mixer {
    _private: (),
}

impl Mixer {
    /// A mixer for up to `capacity` participants without reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        let _ = capacity;
        todo!()
    }

    /// `outputs[i]` = clip(Σ inputs[j] for j ≠ i where `talking[j]`). `inputs`, `talking` and
    /// `outputs` have equal lengths; a participant with `talking[j] == false` (muted or
    /// silent) contributes nothing.
    pub fn mix(&mut self, inputs: &[Frame], talking: &[bool], outputs: &mut [Frame]) {
        let _ = (inputs, talking, outputs);
        todo!()
    }
}
