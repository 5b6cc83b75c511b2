//! [`MediaLeg`]: one participant's media. Receive side: RTP/RTCP demux, source tracking,
//! jitter buffer, decoding with concealment, and DTMF. Send side: encoding into RTP (or
//! sending a payload encoded once for several listeners), and the RTCP
//! report schedule (RFC 3550 §6.2, 5 s randomised by 0.5–1.5).

use std::time::{Duration, Instant};

use crate::codec::{Decoder, Encoder};
use crate::dtmf::DtmfDecoder;
use crate::jitter::{Insert, JitterBuffer};
use crate::rtcp::{self, SenderInfo};
use crate::rtp::{self, RTP_HEADER_LEN, RtpPacket};
use crate::source::{Source, Verdict};
use crate::{
    DtmfDigit, FRAME_DURATION, Frame, FrameKind, LegConfig, LegStats, MAX_PACKET, MediaError,
};

/// Comfort noise (RFC 3389) has this static payload type; it stands for silence.
const PT_COMFORT_NOISE: u8 = 13;
/// Mean RTCP interval for a two-party session at our bandwidth (RFC 3550 §6.2 minimum).
const RTCP_INTERVAL: Duration = Duration::from_secs(5);
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// One participant's media: receive side (RTP parse, SSRC/sequence tracking, jitter buffer,
/// decoding and concealment, DTMF) and send side (encoding, RTP header, RTCP reports).
pub struct MediaLeg {
    config: LegConfig,
    epoch: Instant,
    /// Time since the Unix epoch at an instant, if the driver told us (for SR timestamps).
    wallclock: Option<(Instant, Duration)>,
    source: Source,
    jitter: JitterBuffer,
    decoder: Decoder,
    encoder: Encoder,
    dtmf: DtmfDecoder,
    stats: LegStats,
    last_received: Option<Instant>,
    last_tick: Option<Instant>,
    send_sequence: u16,
    send_timestamp: u32,
    sent_octets: u32,
    rng: u64,
    next_rtcp: Instant,
    /// Middle 32 bits of the last SR's NTP timestamp and when it arrived (for LSR/DLSR).
    last_sr: Option<(u32, Instant)>,
    cname: [u8; 11],
}

impl MediaLeg {
    /// A new leg; `now` starts its RTCP schedule.
    pub fn new(config: LegConfig, now: Instant) -> Self {
        // The SSRC is chosen at random by the caller; it seeds our other random choices.
        let mut rng = (config.ssrc as u64) << 32 ^ 0x9E37_79B9_7F4A_7C15;
        let send_sequence = next_random(&mut rng) as u16;
        let send_timestamp = next_random(&mut rng) as u32;
        let mut leg = MediaLeg {
            config,
            epoch: now,
            wallclock: None,
            source: Source::default(),
            jitter: JitterBuffer::with_capacity(config.codec.max_payload()),
            decoder: Decoder::new(config.codec),
            encoder: Encoder::new(config.codec),
            dtmf: DtmfDecoder::default(),
            stats: LegStats::default(),
            last_received: None,
            last_tick: None,
            send_sequence,
            send_timestamp,
            sent_octets: 0,
            rng,
            next_rtcp: now,
            last_sr: None,
            cname: *b"kz-00000000",
        };
        leg.set_cname();
        // The first report goes out after half an interval (RFC 3550 §6.2).
        leg.next_rtcp = now + leg.rtcp_interval() / 2;
        leg
    }

    /// Applies a renegotiated codec/payload types (keeps SSRC, sequence and buffers sane).
    pub fn reconfigure(&mut self, config: LegConfig) {
        if config.ssrc != self.config.ssrc {
            // A new SSRC is a new stream of ours: its counters start over (RFC 3550 §6.4.1).
            self.stats.packets_sent = 0;
            self.sent_octets = 0;
        }
        if config.codec != self.config.codec {
            self.decoder = Decoder::new(config.codec);
            self.encoder = Encoder::new(config.codec);
            let (min, max) = self.jitter.bounds();
            self.jitter = JitterBuffer::with_capacity(config.codec.max_payload());
            self.jitter.set_bounds(min, max);
        }
        self.config = config;
        self.set_cname();
    }

    /// Tells the leg the wall-clock time (since the Unix epoch) at `now`, so that sender
    /// reports carry real NTP timestamps; without it they count from the leg's creation.
    pub fn set_wallclock(&mut self, now: Instant, since_unix_epoch: Duration) {
        self.wallclock = Some((now, since_unix_epoch));
    }

    /// Takes one datagram from the network: RTP or RTCP (told apart as in RFC 5761).
    /// Never panics, whatever the bytes.
    pub fn receive(&mut self, now: Instant, datagram: &[u8]) -> Result<(), MediaError> {
        let result = if rtp::is_rtcp(datagram) {
            self.receive_rtcp(now, datagram)
        } else {
            self.receive_rtp(now, datagram)
        };
        if result == Err(MediaError::Malformed) {
            self.stats.malformed += 1;
        }
        result
    }

    fn receive_rtcp(&mut self, now: Instant, datagram: &[u8]) -> Result<(), MediaError> {
        let report = rtcp::parse_compound(datagram, self.config.ssrc)?;
        if let Some(info) = report
            .sender_info
            .filter(|_| Some(report.sender_ssrc) == self.source.ssrc())
        {
            self.last_sr = Some(((info.ntp >> 16) as u32, now));
        }
        self.last_received = Some(now);
        Ok(())
    }

    fn receive_rtp(&mut self, now: Instant, datagram: &[u8]) -> Result<(), MediaError> {
        let packet = RtpPacket::parse(datagram)?;
        let pt = packet.payload_type;
        let audio = pt == self.config.payload_type;
        let dtmf = Some(pt) == self.config.dtmf_payload_type;
        if !audio && !dtmf && pt != PT_COMFORT_NOISE {
            return Err(MediaError::UnexpectedPayloadType(pt));
        }
        self.last_received = Some(now);
        self.stats.packets_received += 1;
        let ext = match self.source.on_packet(packet.ssrc, packet.sequence) {
            Verdict::Packet(ext) => ext,
            Verdict::Restart(ext) => {
                self.jitter.reset();
                ext
            }
            Verdict::Ignore => return Ok(()),
        };
        if audio {
            self.source
                .on_timing(packet.timestamp, self.arrival_timestamp(now));
        }
        if dtmf && !self.dtmf.on_payload(packet.timestamp, packet.payload) {
            self.stats.malformed += 1;
        }
        // Telephone-events and comfort noise hold their place in the sequence but play as silence.
        match self
            .jitter
            .insert(ext, packet.marker, audio, packet.payload)
        {
            Insert::Stored => {}
            Insert::Duplicate | Insert::Late => self.stats.packets_discarded += 1,
        }
        Ok(())
    }

    /// Writes the next 20 ms of received audio into `out` (called once per mixer tick).
    pub fn pull_frame(&mut self, now: Instant, out: &mut Frame) -> FrameKind {
        self.last_tick = Some(now);
        let kind = self.jitter.pull(out, &mut self.decoder);
        if kind == FrameKind::Concealed {
            self.stats.frames_concealed += 1;
        }
        kind
    }

    /// The codec this leg sends and receives.
    pub fn codec(&self) -> crate::Codec {
        self.config.codec
    }

    /// Encodes `frame` as the next RTP packet of our stream into `buf`; returns its length
    /// (0: the codec failed and nothing is to be sent).
    pub fn encode_frame(&mut self, frame: &Frame, buf: &mut [u8; MAX_PACKET]) -> usize {
        let n = self.encoder.encode(frame, &mut buf[RTP_HEADER_LEN..]);
        if n == 0 {
            return 0;
        }
        self.write_header(buf, n)
    }

    /// Sends `payload` — encoded once for every listener who hears the same mix in this
    /// codec — as the next RTP packet of our stream; returns the packet's length.
    pub fn packetize(&mut self, payload: &[u8], buf: &mut [u8; MAX_PACKET]) -> usize {
        let n = payload.len().min(MAX_PACKET - RTP_HEADER_LEN);
        buf[RTP_HEADER_LEN..RTP_HEADER_LEN + n].copy_from_slice(&payload[..n]);
        self.write_header(buf, n)
    }

    fn write_header(&mut self, buf: &mut [u8; MAX_PACKET], payload: usize) -> usize {
        let first = self.stats.packets_sent == 0;
        rtp::write_header(
            buf,
            first,
            self.config.payload_type,
            self.send_sequence,
            self.send_timestamp,
            self.config.ssrc,
        );
        self.send_sequence = self.send_sequence.wrapping_add(1);
        self.send_timestamp = self
            .send_timestamp
            .wrapping_add(self.config.codec.frame_ticks());
        self.stats.packets_sent += 1;
        self.sent_octets = self.sent_octets.wrapping_add(payload as u32);
        RTP_HEADER_LEN + payload
    }

    /// If an RTCP report (SR, or RR when we have sent nothing) is due, writes it into `buf`.
    pub fn poll_rtcp(&mut self, now: Instant, buf: &mut [u8; MAX_PACKET]) -> Option<usize> {
        if now < self.next_rtcp {
            return None;
        }
        self.next_rtcp = now + self.rtcp_interval();
        let sender = (self.stats.packets_sent > 0).then(|| SenderInfo {
            ntp: self.ntp(now),
            rtp_timestamp: self.sender_rtp_timestamp(now),
            packet_count: self.stats.packets_sent as u32,
            octet_count: self.sent_octets,
        });
        let block = self.source.report_block().map(|mut b| {
            if let Some((lsr, at)) = self.last_sr {
                b.last_sr = lsr;
                let delay = now.saturating_duration_since(at);
                b.delay_since_last_sr =
                    (delay.as_micros() * 65536 / 1_000_000).min(u32::MAX as u128) as u32;
            }
            b
        });
        Some(rtcp::write_report(
            buf,
            self.config.ssrc,
            sender,
            block,
            &self.cname,
        ))
    }

    /// The next completed DTMF digit, if any.
    pub fn poll_dtmf(&mut self) -> Option<DtmfDigit> {
        self.dtmf.poll()
    }

    /// When the last valid RTP or RTCP packet arrived (for dead-call detection).
    pub fn last_received(&self) -> Option<Instant> {
        self.last_received
    }

    /// Counters.
    pub fn stats(&self) -> LegStats {
        LegStats {
            jitter: self.source.jitter(),
            ..self.stats
        }
    }

    /// Bounds for the adaptive jitter-buffer delay (config `rtp.jitter_min_ms`/`jitter_max_ms`),
    /// rounded to whole 20 ms frames and clamped to 20–320 ms.
    pub fn set_jitter_bounds(&mut self, min: Duration, max: Duration) {
        let frames = |d: Duration| ((d.as_millis() + 10) / FRAME_DURATION.as_millis()) as u32;
        self.jitter.set_bounds(frames(min), frames(max));
    }

    /// The delay the jitter buffer currently aims for.
    pub fn jitter_target(&self) -> Duration {
        FRAME_DURATION * self.jitter.target()
    }

    /// Audio buffered ahead of playout (gaps included).
    pub fn buffered(&self) -> Duration {
        FRAME_DURATION * self.jitter.depth()
    }

    /// RFC 3550 §6.2: the interval times a random factor in [0.5, 1.5) so that reports of
    /// many legs do not synchronise.
    fn rtcp_interval(&mut self) -> Duration {
        let factor = 0.5 + (next_random(&mut self.rng) >> 11) as f64 / (1u64 << 53) as f64;
        RTCP_INTERVAL.mul_f64(factor)
    }

    /// Arrival time in RTP timestamp units, for the jitter estimate.
    fn arrival_timestamp(&self, now: Instant) -> u32 {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        (micros * self.config.codec.clock_rate() as u128 / 1_000_000) as u32
    }

    /// Our stream's RTP timestamp at `now`: the last packet was sent at the last tick.
    fn sender_rtp_timestamp(&self, now: Instant) -> u32 {
        let last = self
            .send_timestamp
            .wrapping_sub(self.config.codec.frame_ticks());
        let since = self
            .last_tick
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        let rate = self.config.codec.clock_rate() as u128;
        last.wrapping_add((since.as_micros() * rate / 1_000_000) as u32)
    }

    fn ntp(&self, now: Instant) -> u64 {
        let unix = match self.wallclock {
            Some((at, wall)) if now >= at => wall + (now - at),
            Some((at, wall)) => wall.saturating_sub(at - now),
            None => now.saturating_duration_since(self.epoch),
        };
        let secs = unix.as_secs() + NTP_UNIX_OFFSET;
        let frac = ((unix.subsec_nanos() as u64) << 32) / 1_000_000_000;
        secs << 32 | frac
    }

    fn set_cname(&mut self) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for i in 0..8 {
            self.cname[3 + i] = HEX[(self.config.ssrc >> (28 - 4 * i)) as usize & 0xF];
        }
    }
}

/// SplitMix64: statistically fine for start values and report jitter, no dependency.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
