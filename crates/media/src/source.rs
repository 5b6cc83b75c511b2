//! The remote stream we receive (RFC 3550 §6.4.1, appendix A.1/A.3/A.8): which SSRC we
//! follow, extended sequence numbers across wraparound, restarts (new SSRC or a large
//! sequence jump, accepted once two consecutive packets agree), loss and jitter figures.

use crate::rtcp::ReportBlock;

/// A jump of at most this many sequence numbers forward is a gap, not a restart.
const MAX_DROPOUT: u16 = 3000;
/// A packet at most this far behind the highest is reordered, not a restart.
const MAX_MISORDER: u16 = 100;
/// Offset of extended sequence numbers, so that reordered packets of the first cycle stay positive.
const EXT_BASE: i64 = 1 << 16;

/// Where a packet belongs in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Part of the stream, at this extended sequence number.
    Packet(i64),
    /// First packet of a new or restarted stream at this extended sequence number; the
    /// playout state must start over.
    Restart(i64),
    /// A stray packet of another stream, or the first of a possible restart.
    Ignore,
}

/// Receive state of the followed source.
#[derive(Debug, Default)]
pub struct Source {
    ssrc: Option<u32>,
    max_ext: i64,
    base_ext: i64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Jitter ×16 (RFC 3550 A.8).
    jitter16: u32,
    last_transit: Option<u32>,
    /// A packet that could start a new stream: (ssrc, the sequence number expected next).
    candidate: Option<(u32, u16)>,
}

impl Source {
    /// Classifies a packet by SSRC and sequence number.
    pub fn on_packet(&mut self, ssrc: u32, seq: u16) -> Verdict {
        if self.ssrc != Some(ssrc) {
            return self.probation(ssrc, seq);
        }
        let max = self.max_ext as u16;
        let udelta = seq.wrapping_sub(max);
        let ext = if udelta < MAX_DROPOUT {
            self.max_ext += udelta as i64;
            self.max_ext
        } else if udelta <= u16::MAX - MAX_MISORDER {
            return self.probation(ssrc, seq);
        } else {
            self.max_ext - (u16::MAX - udelta) as i64 - 1
        };
        self.received += 1;
        self.candidate = None;
        Verdict::Packet(ext)
    }

    /// A new stream is adopted when its second consecutive packet arrives, so a single stray
    /// or delayed packet of an old stream cannot derail the one we follow.
    fn probation(&mut self, ssrc: u32, seq: u16) -> Verdict {
        if self.ssrc.is_some() && self.candidate != Some((ssrc, seq)) {
            self.candidate = Some((ssrc, seq.wrapping_add(1)));
            return Verdict::Ignore;
        }
        *self = Source {
            ssrc: Some(ssrc),
            jitter16: self.jitter16,
            ..Source::default()
        };
        self.max_ext = EXT_BASE + seq as i64;
        self.base_ext = self.max_ext;
        self.received = 1;
        Verdict::Restart(self.max_ext)
    }

    /// Updates interarrival jitter with an audio packet's timestamp and its arrival time in
    /// timestamp units (RFC 3550 §6.4.1).
    pub fn on_timing(&mut self, rtp_timestamp: u32, arrival: u32) {
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.last_transit {
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs();
            // A jump of more than a second is a timestamp discontinuity, not jitter.
            if d < 8000 {
                self.jitter16 = self.jitter16 + d - ((self.jitter16 + 8) >> 4);
            }
        }
        self.last_transit = Some(transit);
    }

    /// The SSRC we follow.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter16 >> 4
    }

    /// A report block on the followed source; starts a new interval for the fraction lost.
    pub fn report_block(&mut self) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let expected = (self.max_ext - self.base_ext + 1).max(0) as u64;
        let lost = expected as i64 - self.received as i64;
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = ((lost_interval << 8).checked_div(expected_interval))
            .unwrap_or(0)
            .min(255) as u8;
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: lost.clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: (self.max_ext - EXT_BASE) as u32,
            jitter: self.jitter(),
            ..ReportBlock::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_wraparound() {
        let mut s = Source::default();
        assert_eq!(s.on_packet(7, 65534), Verdict::Restart(EXT_BASE + 65534));
        assert_eq!(s.on_packet(7, 65535), Verdict::Packet(EXT_BASE + 65535));
        assert_eq!(s.on_packet(7, 1), Verdict::Packet(EXT_BASE + 65537));
        assert_eq!(s.on_packet(7, 0), Verdict::Packet(EXT_BASE + 65536));
        let block = s.report_block().unwrap();
        assert_eq!(block.extended_highest_seq, 0x0001_0001);
        assert_eq!(block.cumulative_lost, 0);
    }

    #[test]
    fn a_new_ssrc_is_adopted_on_its_second_consecutive_packet() {
        let mut s = Source::default();
        s.on_packet(1, 100);
        assert_eq!(s.on_packet(2, 5000), Verdict::Ignore);
        assert_eq!(s.on_packet(1, 101), Verdict::Packet(EXT_BASE + 101));
        assert_eq!(s.on_packet(2, 5001), Verdict::Ignore);
        assert_eq!(s.on_packet(2, 5002), Verdict::Restart(EXT_BASE + 5002));
        assert_eq!(s.ssrc(), Some(2));
    }

    #[test]
    fn a_big_sequence_jump_restarts_the_stream() {
        let mut s = Source::default();
        s.on_packet(1, 100);
        assert_eq!(s.on_packet(1, 40000), Verdict::Ignore);
        assert_eq!(s.on_packet(1, 40001), Verdict::Restart(EXT_BASE + 40001));
    }

    #[test]
    fn loss_is_reported_per_interval() {
        let mut s = Source::default();
        for seq in (0..100u16).filter(|q| q % 4 != 0 || *q == 0) {
            s.on_packet(1, seq);
        }
        let b = s.report_block().unwrap();
        assert_eq!(b.cumulative_lost, 24);
        assert_eq!(b.fraction_lost, (24 * 256 / 100) as u8);
        assert_eq!(s.report_block().unwrap().fraction_lost, 0);
    }
}
