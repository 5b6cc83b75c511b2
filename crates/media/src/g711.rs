//! G.711 µ-law and A-law (ITU-T G.711): code↔linear tables built at compile time, and the
//! [`Codec`] descriptions (payload type, rtpmap name, clock rate).

use crate::{Codec, NARROW_SAMPLES};

impl Codec {
    /// Static RTP payload type (RFC 3551); Opus has none (it is negotiated).
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::G722 => Some(9),
            Codec::Opus => None,
        }
    }

    /// Encoding name as used in SDP `a=rtpmap` (e.g. "PCMU").
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::Opus => "opus",
        }
    }

    /// RTP clock rate (G.722 keeps 8000 for historical reasons, RFC 3551 §4.5.2).
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma | Codec::G722 => 8000,
            Codec::Opus => 48000,
        }
    }

    /// RTP timestamp units in one 20 ms frame.
    pub fn frame_ticks(self) -> u32 {
        self.clock_rate() / 50
    }

    /// Whether the codec carries wideband (HD) audio.
    pub fn is_wideband(self) -> bool {
        matches!(self, Codec::G722 | Codec::Opus)
    }

    /// Looks a codec up by its SDP encoding name (case-insensitive) and clock rate.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus]
            .into_iter()
            .find(|c| c.encoding_name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }
}

/// Decodes a G.711 payload into `out` (8 kHz); a short payload leaves the rest of `out`
/// silent and a long one is cut at one frame (the leg negotiates ptime 20).
pub(crate) fn decode(alaw: bool, payload: &[u8], out: &mut [i16; NARROW_SAMPLES]) {
    let table = if alaw {
        &ALAW_TO_LINEAR
    } else {
        &ULAW_TO_LINEAR
    };
    let n = payload.len().min(NARROW_SAMPLES);
    for (o, &c) in out[..n].iter_mut().zip(&payload[..n]) {
        *o = table[c as usize];
    }
    out[n..].fill(0);
}

/// Encodes one 8 kHz frame into `out` (160 bytes).
pub(crate) fn encode(alaw: bool, frame: &[i16; NARROW_SAMPLES], out: &mut [u8]) {
    let out = &mut out[..NARROW_SAMPLES];
    if alaw {
        for (o, &s) in out.iter_mut().zip(frame) {
            *o = linear_to_alaw(s);
        }
    } else {
        for (o, &s) in out.iter_mut().zip(frame) {
            *o = linear_to_ulaw(s);
        }
    }
}

/// µ-law code → 16-bit linear.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TO_LINEAR[code as usize]
}

/// A-law code → 16-bit linear.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TO_LINEAR[code as usize]
}

/// 16-bit linear → µ-law code. µ-law quantises 14 bits, so the table is indexed by `s >> 2`.
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    LINEAR14_TO_ULAW[((sample >> 2) as u16 & 0x3FFF) as usize]
}

/// 16-bit linear → A-law code. A-law quantises 13 bits, so the table is indexed by `s >> 3`.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    LINEAR13_TO_ALAW[((sample >> 3) as u16 & 0x1FFF) as usize]
}

const ULAW_BIAS: i32 = 0x84;

/// The classic reference decoder (Sun/CCITT g711.c, equivalent to G.711 table 2a).
const fn ulaw_decode(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

/// G.711 table 1a/1b decoder.
const fn alaw_decode(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

/// Encodes a 14-bit linear value (−8192..=8191) to µ-law.
const fn ulaw_encode14(v: i32) -> u8 {
    let (mut mag, mask) = if v < 0 { (-v, 0x7Fu8) } else { (v, 0xFFu8) };
    if mag > 8159 {
        mag = 8159;
    }
    mag += ULAW_BIAS >> 2;
    let mut seg = 0;
    while seg < 8 && mag > (0x40 << seg) - 1 {
        seg += 1;
    }
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let u = ((seg << 4) | ((mag >> (seg + 1)) & 0x0F)) as u8;
    u ^ mask
}

/// Encodes a 13-bit linear value (−4096..=4095) to A-law.
const fn alaw_encode13(v: i32) -> u8 {
    let (mag, mask) = if v >= 0 {
        (v, 0xD5u8)
    } else {
        (-v - 1, 0x55u8)
    };
    let mut seg = 0;
    while seg < 8 && mag > (0x20 << seg) - 1 {
        seg += 1;
    }
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let a = ((seg << 4) | ((mag >> shift) & 0x0F)) as u8;
    a ^ mask
}

static ULAW_TO_LINEAR: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode(i as u8);
        i += 1;
    }
    t
};

static ALAW_TO_LINEAR: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode(i as u8);
        i += 1;
    }
    t
};

static LINEAR14_TO_ULAW: [u8; 1 << 14] = {
    let mut t = [0u8; 1 << 14];
    let mut i = 0;
    while i < (1 << 14) {
        // Index is the 14-bit two's complement value.
        let v = if i >= 1 << 13 {
            i as i32 - (1 << 14)
        } else {
            i as i32
        };
        t[i] = ulaw_encode14(v);
        i += 1;
    }
    t
};

static LINEAR13_TO_ALAW: [u8; 1 << 13] = {
    let mut t = [0u8; 1 << 13];
    let mut i = 0;
    while i < (1 << 13) {
        let v = if i >= 1 << 12 {
            i as i32 - (1 << 13)
        } else {
            i as i32
        };
        t[i] = alaw_encode13(v);
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_reference_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0x7E), -8);
        assert_eq!(ulaw_to_linear(0xF0), 120);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_reference_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn every_ulaw_code_survives_a_round_trip() {
        for c in 0..=255u8 {
            let lin = ulaw_to_linear(c);
            assert_eq!(ulaw_to_linear(linear_to_ulaw(lin)), lin, "code {c:#04x}");
            // 0x7F is "negative zero"; it re-encodes as positive zero.
            let expected = if c == 0x7F { 0xFF } else { c };
            assert_eq!(linear_to_ulaw(lin), expected, "code {c:#04x}");
        }
    }

    #[test]
    fn every_alaw_code_survives_a_round_trip() {
        for c in 0..=255u8 {
            let lin = alaw_to_linear(c);
            assert_eq!(alaw_to_linear(linear_to_alaw(lin)), lin, "code {c:#04x}");
            assert_eq!(linear_to_alaw(lin), c, "code {c:#04x}");
        }
    }

    #[test]
    fn encoding_is_monotonic_and_close_to_the_input() {
        let mut prev_u = i16::MIN;
        let mut prev_a = i16::MIN;
        for s in i16::MIN..=i16::MAX {
            let u = ulaw_to_linear(linear_to_ulaw(s));
            let a = alaw_to_linear(linear_to_alaw(s));
            assert!(u >= prev_u && a >= prev_a, "non-monotonic at {s}");
            // The largest G.711 step is 1024 (µ-law) / 1024 (A-law); the error is at most half
            // a step plus the clipping at the ends of the range.
            assert!((u as i32 - s as i32).abs() <= 644, "µ-law {s} -> {u}");
            assert!((a as i32 - s as i32).abs() <= 512, "A-law {s} -> {a}");
            prev_u = u;
            prev_a = a;
        }
    }

    #[test]
    fn codec_names_and_payload_types() {
        assert_eq!(Codec::from_rtpmap("pcmu", 8000), Some(Codec::Pcmu));
        assert_eq!(Codec::from_rtpmap("PCMA", 8000), Some(Codec::Pcma));
        assert_eq!(Codec::from_rtpmap("PCMA", 16000), None);
        assert_eq!(Codec::from_rtpmap("opus", 48000), Some(Codec::Opus));
        assert_eq!(Codec::from_rtpmap("G722", 8000), Some(Codec::G722));
        assert_eq!(Codec::from_rtpmap("G722", 16000), None);
        assert_eq!(Codec::Pcmu.static_payload_type(), Some(0));
        assert_eq!(Codec::Pcma.static_payload_type(), Some(8));
        assert_eq!(Codec::Opus.static_payload_type(), None);
        assert_eq!(Codec::Opus.frame_ticks(), 960);
        assert_eq!(Codec::G722.frame_ticks(), 160);
        assert_eq!(Codec::Pcma.encoding_name(), "PCMA");
        assert_eq!(Codec::Pcmu.clock_rate(), 8000);
    }
}
