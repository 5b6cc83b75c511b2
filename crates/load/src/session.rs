//! The media side of the calls: per-call streams, rooms with their rotating burst talker,
//! building each 20 ms tick's packets, and accounting what comes back (loss, bridge delay).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::audio::{FRAME_SAMPLES, Frame};
use konferenz_media::rtp::{RTP_HEADER_LEN, RtpPacket, write_header};

use crate::audio::{DIGIT_TICKS, EncodedFrames, Law, digit_packet, event_code};
use crate::marker::{BURST_FRAMES, OnsetDetector};
use crate::net::SendBatch;
use crate::rx::RxStream;

/// A burst not detected by a listener within this long counts as missed.
pub const BURST_TIMEOUT: Duration = Duration::from_secs(1);
/// A received frame below this mean power (RMS 100) is quiet.
const QUIET_POWER: f64 = 100.0 * 100.0;
/// Length of one sample at 8 kHz.
const SAMPLE: Duration = Duration::from_micros(125);

/// A call's RTP stream, once the answer told us where the server wants it.
pub struct Stream {
    pub remote: SocketAddr,
    /// Index of the shared RTP socket this stream uses.
    pub socket: usize,
    pub law: Law,
    pub payload_type: u8,
    pub dtmf_payload_type: Option<u8>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    /// Keys still to enter and the tick the first is sent on.
    dtmf: Option<(Vec<u8>, u64)>,
    dtmf_timestamp: u32,
    pub rx: RxStream,
    detector: OnsetDetector,
    last_seq: Option<u16>,
    /// The burst this listener waits for: (room burst number, its send time).
    pending: Option<(u64, Instant)>,
    decoded: Frame,
    /// When the last loud frame (or the first frame) arrived.
    loud_at: Option<Instant>,
}

impl Stream {
    pub fn new(
        id: usize,
        remote: SocketAddr,
        socket: usize,
        law: Law,
        payload_type: u8,
        dtmf_payload_type: Option<u8>,
        late_after: Duration,
    ) -> Stream {
        Stream {
            remote,
            socket,
            law,
            payload_type,
            dtmf_payload_type,
            ssrc: 0x4B4C_0000 ^ id as u32,
            seq: (id as u16).wrapping_mul(7919),
            timestamp: (id as u32).wrapping_mul(104_729),
            dtmf: None,
            dtmf_timestamp: 0,
            rx: RxStream::new(late_after),
            detector: OnsetDetector::default(),
            last_seq: None,
            pending: None,
            decoded: [0; FRAME_SAMPLES],
            loud_at: None,
        }
    }

    /// Schedules `keys` (e.g. the PIN and `#`) from tick `start`; false if the answer
    /// negotiated no telephone-event or a key is not a DTMF key.
    pub fn enter_keys(&mut self, keys: &str, start: u64) -> bool {
        let codes: Option<Vec<u8>> = keys.chars().map(event_code).collect();
        match (codes, self.dtmf_payload_type) {
            (Some(codes), Some(_)) => {
                self.dtmf = Some((codes, start));
                true
            }
            _ => false,
        }
    }

    /// True while keys are still being sent.
    pub fn entering_keys(&self) -> bool {
        self.dtmf.is_some()
    }

    /// Queues this stream's packet for tick `k`: a telephone-event, the burst frame
    /// `burst` (if this call talks now) or background.
    pub fn build(
        &mut self,
        k: u64,
        frames: &EncodedFrames,
        burst: Option<usize>,
        batch: &mut SendBatch,
    ) {
        let buf = batch.next_buf();
        let mut len = 0;
        if let Some((keys, start)) = &self.dtmf
            && k >= *start
        {
            let n = k - start;
            let (digit, tick) = (
                (n / u64::from(DIGIT_TICKS)) as usize,
                (n % u64::from(DIGIT_TICKS)) as u32,
            );
            if digit >= keys.len() {
                self.dtmf = None;
            } else if let (Some((payload, first)), Some(pt)) =
                (digit_packet(keys[digit], tick), self.dtmf_payload_type)
            {
                if first {
                    self.dtmf_timestamp = self.timestamp;
                }
                write_header(
                    &mut buf[..],
                    first,
                    pt,
                    self.seq,
                    self.dtmf_timestamp,
                    self.ssrc,
                );
                buf[RTP_HEADER_LEN..RTP_HEADER_LEN + 4].copy_from_slice(&payload);
                len = RTP_HEADER_LEN + 4;
            }
        }
        if len == 0 {
            let payload = match burst {
                Some(i) => &frames.burst[i],
                None => frames.background(k),
            };
            write_header(
                &mut buf[..],
                false,
                self.payload_type,
                self.seq,
                self.timestamp,
                self.ssrc,
            );
            buf[RTP_HEADER_LEN..RTP_HEADER_LEN + FRAME_SAMPLES].copy_from_slice(payload);
            len = RTP_HEADER_LEN + FRAME_SAMPLES;
        }
        batch.commit(len, self.remote);
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
    }

    /// Accounts a datagram from the server; returns a bridge delay sample (ms) if it
    /// completes the burst this listener waited for.
    pub fn receive(&mut self, now: Instant, datagram: &[u8]) -> Option<f64> {
        let packet = RtpPacket::parse(datagram).ok()?;
        if !self.rx.on_packet(now, packet.sequence, packet.ssrc)
            || packet.payload_type != self.payload_type
        {
            return None;
        }
        let contiguous = self.last_seq.map(|s| s.wrapping_add(1)) == Some(packet.sequence);
        self.last_seq = Some(packet.sequence);
        self.law.decode(packet.payload, &mut self.decoded);
        let power = self
            .decoded
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum::<f64>()
            / FRAME_SAMPLES as f64;
        if power > QUIET_POWER || self.loud_at.is_none() {
            self.loud_at = Some(now);
        }
        let back = self.detector.push(&self.decoded, contiguous)?;
        let (_, sent) = self.pending.take()?;
        // The onset sounded `back` samples before this frame's end (its arrival); the burst
        // started one frame before its packet was sent.
        let onset = now.checked_sub(SAMPLE * back as u32)?;
        let start = sent.checked_sub(konferenz_media::FRAME_DURATION)?;
        Some(onset.saturating_duration_since(start).as_secs_f64() * 1000.0)
    }

    /// How long this listener has heard only quiet frames (zero before the first frame).
    pub fn quiet_for(&self, now: Instant) -> Duration {
        self.loud_at
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }

    /// Starts waiting for burst `id` sent at `at`; true if the previous one was missed.
    pub fn expect_burst(&mut self, id: u64, at: Instant) -> bool {
        self.pending.replace((id, at)).is_some()
    }

    /// True (once) if the awaited burst is overdue at `now`.
    pub fn burst_overdue(&mut self, now: Instant) -> bool {
        if self
            .pending
            .is_some_and(|(_, at)| now.saturating_duration_since(at) > BURST_TIMEOUT)
        {
            self.pending = None;
            return true;
        }
        false
    }
}

/// One room: its members and the burst rotation.
#[derive(Default)]
pub struct Room {
    pub name: String,
    /// Calls (indices) streaming in this room.
    pub members: Vec<usize>,
    rotation: usize,
    /// The current burst: talker, first tick, number.
    pub burst: Option<(usize, u64, u64)>,
    next_burst: u64,
    pub bursts: u64,
    /// When the first burst went out.
    pub first_burst: Option<Instant>,
    pub missed: u64,
    pub delays_ms: Vec<f64>,
}

impl Room {
    pub fn new(name: String) -> Room {
        Room {
            name,
            ..Room::default()
        }
    }

    /// At tick `k`: starts a new burst if one is due (every `every` ticks) and at least two
    /// members can take part; returns (talker, burst number) when it does.
    pub fn maybe_start_burst(
        &mut self,
        k: u64,
        every: u64,
        eligible: impl Fn(usize) -> bool,
    ) -> Option<(usize, u64)> {
        if k < self.next_burst {
            return None;
        }
        let ready: Vec<usize> = self
            .members
            .iter()
            .copied()
            .filter(|&c| eligible(c))
            .collect();
        if ready.len() < 2 {
            return None;
        }
        let talker = ready[self.rotation % ready.len()];
        self.rotation += 1;
        self.bursts += 1;
        self.burst = Some((talker, k, self.bursts));
        self.next_burst = k + every.max(BURST_FRAMES as u64 + 1);
        Some((talker, self.bursts))
    }

    /// Which burst frame `call` sends at tick `k`, if it is the talker now.
    pub fn burst_frame(&self, call: usize, k: u64) -> Option<usize> {
        let (talker, start, _) = self.burst?;
        (talker == call && k >= start && k - start < BURST_FRAMES as u64)
            .then(|| (k - start) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marker::burst_frames;

    fn packet(seq: u16, law: Law, frame: &Frame) -> Vec<u8> {
        let mut p = vec![0u8; RTP_HEADER_LEN + FRAME_SAMPLES];
        write_header(&mut p, false, 0, seq, u32::from(seq) * 160, 99);
        p[RTP_HEADER_LEN..].copy_from_slice(&law.encode(frame));
        p
    }

    #[test]
    fn a_listener_measures_the_delay_of_a_burst() {
        let remote: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut s = Stream::new(
            1,
            remote,
            0,
            Law::Ulaw,
            0,
            Some(101),
            Duration::from_millis(40),
        );
        let t0 = Instant::now();
        let silence = [0i16; FRAME_SAMPLES];
        let burst = burst_frames();
        // Burst sent at t0 + 100 ms; the server delays it by 60 ms, frame-aligned.
        s.expect_burst(1, t0 + Duration::from_millis(100));
        for seq in 0..8u16 {
            let at = t0 + Duration::from_millis(20 * u64::from(seq));
            assert_eq!(s.receive(at, &packet(seq, Law::Ulaw, &silence)), None);
        }
        let d = s.receive(
            t0 + Duration::from_millis(160),
            &packet(8, Law::Ulaw, &burst[0]),
        );
        // Onset at the start of the frame arriving at 160 ms, i.e. at 140 ms; the burst
        // started at 100 − 20 = 80 ms.
        let d = d.expect("delay measured");
        assert!((d - 60.0).abs() < 1.5, "{d}");
        assert!(!s.burst_overdue(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn rooms_rotate_their_talker() {
        let mut r = Room::new("800".into());
        r.members = vec![3, 5, 7];
        let mut talkers = Vec::new();
        for k in 0..100 {
            if let Some((t, _)) = r.maybe_start_burst(k, 25, |_| true) {
                talkers.push(t);
                assert_eq!(r.burst_frame(t, k), Some(0));
                assert_eq!(r.burst_frame(t, k + 2), Some(2));
                assert_eq!(r.burst_frame(t, k + 3), None);
            }
        }
        assert_eq!(talkers, [3, 5, 7, 3]);
        let mut alone = Room::new("801".into());
        alone.members = vec![1];
        assert_eq!(alone.maybe_start_burst(0, 25, |_| true), None);
    }

    #[test]
    fn keys_are_sent_as_telephone_events_between_audio() {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let remote = peer.local_addr().unwrap();
        let mut s = Stream::new(
            2,
            remote,
            0,
            Law::Ulaw,
            0,
            Some(101),
            Duration::from_millis(40),
        );
        assert!(s.enter_keys("1#", 10));
        let frames = EncodedFrames::new(Law::Ulaw, 0);
        let mut batch = SendBatch::default();
        let mut kinds = Vec::new();
        for k in 0..40 {
            s.build(k, &frames, None, &mut batch);
        }
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(batch.flush(&sock).unwrap(), 40);
        peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 300];
        for _ in 0..40 {
            let n = peer.recv(&mut buf).unwrap();
            let p = RtpPacket::parse(&buf[..n]).unwrap();
            kinds.push(if p.payload_type == 101 {
                p.payload[0]
            } else {
                255
            });
        }
        let events: Vec<u8> = kinds.iter().copied().filter(|&k| k != 255).collect();
        assert_eq!(events, [1, 1, 1, 1, 1, 1, 1, 11, 11, 11, 11, 11, 11, 11]);
        assert_eq!((kinds[9], kinds[10], kinds[20]), (255, 1, 11));
        assert!(!s.entering_keys());
    }
}
