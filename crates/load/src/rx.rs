//! Receive accounting for one stream the server sends us: loss from sequence gaps
//! (reordering, duplicates and the 16-bit wrap handled), the largest gap between arrivals,
//! and frames that came late against the one-per-20-ms schedule: the first frame sets it,
//! and it follows the earliest arrivals of the last 1–2 s, so a tick the server skipped
//! shows as one missing slot rather than every later frame being late.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Sequence numbers remembered for duplicate detection, behind the highest seen.
const WINDOW: u64 = 1024;
/// A jump of more than this many sequence numbers is a new stream, not loss.
const RESTART_JUMP: i64 = 3000;
/// Packets per bucket of the moving schedule reference (1 s).
const BUCKET: u64 = 50;
/// One frame per packet: 20 ms.
const FRAME_MS: f64 = 20.0;

/// Per-stream receive counters.
#[derive(Clone, Debug)]
pub struct RxStream {
    /// Arrival more than this behind its slot counts as late.
    late_after_ms: f64,
    ssrc: Option<u32>,
    /// Extended sequence number of the segment's first and highest packet.
    first_ext: u64,
    max_ext: u64,
    first_arrival: Option<Instant>,
    last_arrival: Option<Instant>,
    /// Smallest (arrival − slot) in ms in the current and the previous bucket of
    /// [`BUCKET`] packets: the schedule's reference, following a stream that skipped ticks.
    min_offset_ms: f64,
    prev_min_offset_ms: f64,
    bucket: u64,
    seen: [u64; (WINDOW / 64) as usize],
    /// Unique packets of the current segment.
    segment_unique: u64,
    /// Expected/unique packets and time-based frames of finished segments.
    done_expected: u64,
    done_unique: u64,
    done_slots: u64,
    pub received: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub late: u64,
    pub restarts: u64,
    pub max_gap: Duration,
}

/// What one stream's counters add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RxReport {
    pub received: u64,
    /// Expected from the sequence numbers (highest − first + 1, per stream segment).
    pub expected: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    /// Frames arriving more than the late threshold after their 20 ms slot.
    pub late: u64,
    /// Slots (one per 20 ms from the first arrival to the last) without a frame.
    pub missing: u64,
    pub max_gap_ms: f64,
}

impl RxStream {
    pub fn new(late_after: Duration) -> RxStream {
        RxStream {
            late_after_ms: late_after.as_secs_f64() * 1000.0,
            ssrc: None,
            first_ext: 0,
            max_ext: 0,
            first_arrival: None,
            last_arrival: None,
            min_offset_ms: f64::INFINITY,
            prev_min_offset_ms: f64::INFINITY,
            bucket: 0,
            seen: [0; (WINDOW / 64) as usize],
            segment_unique: 0,
            done_expected: 0,
            done_unique: 0,
            done_slots: 0,
            received: 0,
            duplicates: 0,
            reordered: 0,
            late: 0,
            restarts: 0,
            max_gap: Duration::ZERO,
        }
    }

    /// Accounts one packet; returns false for a duplicate (the caller should not use it).
    pub fn on_packet(&mut self, now: Instant, sequence: u16, ssrc: u32) -> bool {
        self.received += 1;
        if let Some(last) = self.last_arrival {
            self.max_gap = self.max_gap.max(now.saturating_duration_since(last));
        }
        self.last_arrival = Some(now);
        let Some(first_arrival) = self.first_arrival.filter(|_| self.ssrc == Some(ssrc)) else {
            if self.first_arrival.is_some() {
                self.restart();
            }
            self.begin(now, sequence, ssrc);
            return true;
        };
        let delta = i64::from(sequence.wrapping_sub(self.max_ext as u16) as i16);
        let ext = self.max_ext as i64 + delta;
        if delta > RESTART_JUMP || ext < self.first_ext as i64 - RESTART_JUMP {
            self.restart();
            self.begin(now, sequence, ssrc);
            return true;
        }
        if ext < self.first_ext as i64 {
            // Arrived before the packet we took as first: the segment starts earlier.
            self.first_ext = ext as u64;
        }
        let ext = ext as u64;
        if delta > 0 {
            for e in self.max_ext + 1..=ext.min(self.max_ext + WINDOW) {
                self.clear_seen(e);
            }
            self.max_ext = ext;
        } else if self.max_ext - ext >= WINDOW {
            // Too old to tell apart from a duplicate; count it as reordered.
            self.reordered += 1;
            return false;
        } else if self.is_seen(ext) {
            self.duplicates += 1;
            return false;
        } else {
            self.reordered += 1;
        }
        self.mark_seen(ext);
        self.segment_unique += 1;
        let slot_ms = (ext - self.first_ext) as f64 * FRAME_MS;
        let offset = (now - first_arrival).as_secs_f64() * 1000.0 - slot_ms;
        let bucket = (ext - self.first_ext) / BUCKET;
        if bucket > self.bucket {
            self.prev_min_offset_ms = if bucket == self.bucket + 1 {
                self.min_offset_ms
            } else {
                f64::INFINITY
            };
            self.min_offset_ms = f64::INFINITY;
            self.bucket = bucket;
        }
        let reference = self.min_offset_ms.min(self.prev_min_offset_ms);
        if offset - reference > self.late_after_ms {
            self.late += 1;
        }
        self.min_offset_ms = self.min_offset_ms.min(offset);
        true
    }

    fn begin(&mut self, now: Instant, sequence: u16, ssrc: u32) {
        self.ssrc = Some(ssrc);
        self.first_ext = (1u64 << 32) + u64::from(sequence);
        self.max_ext = self.first_ext;
        self.first_arrival = Some(now);
        self.min_offset_ms = 0.0;
        self.prev_min_offset_ms = f64::INFINITY;
        self.bucket = 0;
        self.seen = [0; (WINDOW / 64) as usize];
        self.mark_seen(self.first_ext);
        self.segment_unique = 1;
    }

    fn restart(&mut self) {
        self.restarts += 1;
        self.done_expected += self.segment_expected();
        self.done_unique += self.segment_unique;
        self.done_slots += self.segment_slots();
    }

    fn segment_expected(&self) -> u64 {
        if self.first_arrival.is_none() {
            return 0;
        }
        self.max_ext - self.first_ext + 1
    }

    /// 20 ms slots from the segment's first arrival to the last one.
    fn segment_slots(&self) -> u64 {
        match (self.first_arrival, self.last_arrival) {
            (Some(first), Some(last)) => {
                (last.saturating_duration_since(first).as_secs_f64() * 1000.0 / FRAME_MS) as u64 + 1
            }
            _ => 0,
        }
    }

    fn is_seen(&self, ext: u64) -> bool {
        let i = ext % WINDOW;
        self.seen[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    fn mark_seen(&mut self, ext: u64) {
        let i = ext % WINDOW;
        self.seen[(i / 64) as usize] |= 1 << (i % 64);
    }

    fn clear_seen(&mut self, ext: u64) {
        let i = ext % WINDOW;
        self.seen[(i / 64) as usize] &= !(1 << (i % 64));
    }

    pub fn report(&self) -> RxReport {
        let expected = self.done_expected + self.segment_expected();
        let unique = self.done_unique + self.segment_unique;
        let slots = self.done_slots + self.segment_slots();
        RxReport {
            received: self.received,
            expected,
            lost: expected.saturating_sub(unique),
            duplicates: self.duplicates,
            reordered: self.reordered,
            late: self.late,
            missing: slots.saturating_sub(unique),
            max_gap_ms: self.max_gap.as_secs_f64() * 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATE: Duration = Duration::from_millis(40);

    fn feed(seqs: &[u16]) -> RxReport {
        let t0 = Instant::now();
        let mut s = RxStream::new(LATE);
        for (i, &q) in seqs.iter().enumerate() {
            s.on_packet(t0 + Duration::from_millis(20 * i as u64), q, 7);
        }
        s.report()
    }

    #[test]
    fn a_gap_is_loss() {
        let r = feed(&[10, 11, 12, 15, 16]);
        assert_eq!((r.expected, r.lost, r.received), (7, 2, 5));
        assert_eq!((r.duplicates, r.reordered), (0, 0));
    }

    #[test]
    fn reordering_is_not_loss() {
        let r = feed(&[1, 2, 4, 3, 5]);
        assert_eq!((r.expected, r.lost, r.reordered), (5, 0, 1));
        // The first packet late: the segment starts earlier.
        let r = feed(&[2, 1, 3]);
        assert_eq!((r.expected, r.lost, r.reordered), (3, 0, 1));
    }

    #[test]
    fn duplicates_are_counted_once() {
        let r = feed(&[1, 2, 2, 3, 1, 4]);
        assert_eq!((r.expected, r.lost, r.duplicates), (4, 0, 2));
    }

    #[test]
    fn sequence_wraps_at_16_bits() {
        let r = feed(&[65533, 65534, 65535, 0, 1, 3]);
        assert_eq!((r.expected, r.lost, r.restarts_free()), (7, 1, true));
        let r = feed(&[65535, 1, 0]);
        assert_eq!((r.expected, r.lost, r.reordered), (3, 0, 1));
    }

    #[test]
    fn a_huge_jump_or_new_ssrc_starts_a_new_segment() {
        let t0 = Instant::now();
        let mut s = RxStream::new(LATE);
        s.on_packet(t0, 100, 1);
        s.on_packet(t0 + Duration::from_millis(20), 101, 1);
        s.on_packet(t0 + Duration::from_millis(40), 40_000, 1);
        s.on_packet(t0 + Duration::from_millis(60), 5, 2);
        let r = s.report();
        assert_eq!((s.restarts, r.expected, r.lost), (2, 4, 0));
    }

    #[test]
    fn late_and_missing_frames_against_the_schedule() {
        let t0 = Instant::now();
        let mut s = RxStream::new(LATE);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 0..5 on time, 5 and 6 arrive 60 ms late (with 7), 8 never comes, 9 on time.
        for (seq, ms) in [(0, 0), (1, 20), (2, 40), (3, 60), (4, 80), (5, 160)] {
            s.on_packet(at(ms), seq, 1);
        }
        s.on_packet(at(160), 6, 1);
        s.on_packet(at(160), 7, 1);
        s.on_packet(at(180), 9, 1);
        let r = s.report();
        assert_eq!(r.late, 1, "only seq 5 is > 40 ms behind its slot: {r:?}");
        assert_eq!((r.lost, r.missing), (1, 1));
        assert!((r.max_gap_ms - 80.0).abs() < 1e-6);
    }

    #[test]
    fn a_skipped_server_tick_is_missing_not_every_later_frame_late() {
        let t0 = Instant::now();
        let mut s = RxStream::new(LATE);
        // 200 frames; from seq 100 on the server runs 60 ms behind (three ticks skipped).
        for seq in 0..200u16 {
            let ms = 20 * u64::from(seq) + if seq >= 100 { 60 } else { 0 };
            s.on_packet(t0 + Duration::from_millis(ms), seq, 1);
        }
        let r = s.report();
        assert_eq!((r.lost, r.missing), (0, 3), "{r:?}");
        assert!(r.late <= 50, "late only until the reference follows: {r:?}");
        assert!((r.max_gap_ms - 80.0).abs() < 1e-6);
    }

    impl RxReport {
        fn restarts_free(&self) -> bool {
            self.duplicates == 0 && self.reordered == 0
        }
    }
}
