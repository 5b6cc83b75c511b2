//! A scripted phone for leg tests: builds RTP datagrams and drives a leg tick by tick on
//! virtual time.
#![allow(dead_code)]

use konferenz_media::*;
use std::time::{Duration, Instant};

pub const PT_DTMF: u8 = 101;
pub const OUR_SSRC: u32 = 0x0BAD_CAFE;

pub fn config() -> LegConfig {
    LegConfig {
        codec: Codec::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(PT_DTMF),
        ssrc: OUR_SSRC,
    }
}

pub fn tick(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(20 * n)
}

pub fn rtp(ssrc: u32, seq: u16, ts: u32, pt: u8, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A frame payload that carries its number `id` as two loud steady levels, one per half
/// (steady levels survive the 8 → 16 kHz conversion exactly away from the edges).
pub fn tagged_payload(id: u32) -> [u8; 160] {
    let mut p = [0u8; 160];
    p[..80].fill(0x80 | (id % 64) as u8);
    p[80..].fill(0x80 | ((id / 64) % 64) as u8);
    p
}

/// Reads back the number written by [`tagged_payload`], if the frame carries one: the
/// middle of each half as it comes out of the 8 → 16 kHz filter (about 3 ms late), where
/// the filter has settled on the level.
pub fn tag_of(frame: &Frame) -> Option<u32> {
    const FIRST: usize = 80 + 48;
    const SECOND: usize = 240 + 48;
    let (a, b) = (linear_to_ulaw(frame[FIRST]), linear_to_ulaw(frame[SECOND]));
    let steady = |i: usize| frame[i - 12..i + 12].iter().all(|&s| s == frame[i]);
    (a & 0xC0 == 0x80 && b & 0xC0 == 0x80 && steady(FIRST) && steady(SECOND))
        .then(|| (a & 0x3F) as u32 + 64 * (b & 0x3F) as u32)
}

/// A phone's outgoing stream.
pub struct Phone {
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub sent: u32,
}

impl Phone {
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> Self {
        Phone {
            ssrc,
            seq,
            ts,
            sent: 0,
        }
    }

    /// The next audio packet, tagged with its frame number.
    pub fn audio(&mut self) -> Vec<u8> {
        let p = rtp(
            self.ssrc,
            self.seq,
            self.ts,
            0,
            self.sent == 0,
            &tagged_payload(self.sent),
        );
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
        self.sent += 1;
        p
    }

    /// A telephone-event packet (RFC 4733) for the event starting at `ts`.
    pub fn dtmf(&mut self, ts: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
        let d = duration.to_be_bytes();
        let payload = [event, if end { 0x8A } else { 0x0A }, d[0], d[1]];
        let p = rtp(self.ssrc, self.seq, ts, PT_DTMF, false, &payload);
        self.seq = self.seq.wrapping_add(1);
        p
    }
}

/// Pulls one frame and returns its kind and tag.
pub fn pull(leg: &mut MediaLeg, now: Instant) -> (FrameKind, Option<u32>) {
    let mut out = [0i16; FRAME_SAMPLES];
    let kind = leg.pull_frame(now, &mut out);
    (
        kind,
        if kind == FrameKind::Audio {
            tag_of(&out)
        } else {
            None
        },
    )
}

/// A small deterministic generator for test data.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}
