//! RFC 4733 telephone-event decoding: one [`DtmfDigit`] per event, emitted when its end
//! packet arrives (deduplicated by event timestamp) or when a new event starts without an
//! end having been seen; a small fixed queue of digits for the caller.

use crate::DtmfDigit;

/// RTP clock of telephone-event as we negotiate it (RFC 4733 §2.1: 8000 with narrowband codecs).
const SAMPLE_RATE: u32 = 8000;
use std::time::Duration;

const QUEUE: usize = 16;
const DIGITS: &[u8; 16] = b"0123456789*#ABCD";

/// The event currently being received.
#[derive(Clone, Copy, Debug)]
struct Current {
    timestamp: u32,
    event: u8,
    duration: u16,
    emitted: bool,
}

/// Decodes telephone-event payloads into digits.
#[derive(Debug)]
pub struct DtmfDecoder {
    current: Option<Current>,
    queue: [Option<DtmfDigit>; QUEUE],
    head: usize,
    len: usize,
}

impl Default for DtmfDecoder {
    fn default() -> Self {
        DtmfDecoder {
            current: None,
            queue: [None; QUEUE],
            head: 0,
            len: 0,
        }
    }
}

impl DtmfDecoder {
    /// Takes one telephone-event payload (RFC 4733 §2.3) with its RTP timestamp, which
    /// identifies the event. Returns false if the payload is too short.
    pub fn on_payload(&mut self, timestamp: u32, payload: &[u8]) -> bool {
        let &[event, flags, d0, d1, ..] = payload else {
            return false;
        };
        let end = flags & 0x80 != 0;
        let duration = u16::from_be_bytes([d0, d1]);
        match self.current {
            // A retransmitted end packet of an event already reported.
            Some(cur) if cur.timestamp == timestamp && cur.emitted => return true,
            Some(cur) if cur.timestamp != timestamp && !cur.emitted => {
                // A new event started before the previous one's end arrived (lost end packets).
                self.emit(cur.event, cur.duration);
            }
            _ => {}
        }
        let mut cur = Current {
            timestamp,
            event,
            duration,
            emitted: false,
        };
        if let Some(prev) = self.current.filter(|c| c.timestamp == timestamp) {
            cur.duration = cur.duration.max(prev.duration);
        }
        if end {
            self.emit(event, cur.duration);
            cur.emitted = true;
        }
        self.current = Some(cur);
        true
    }

    /// The oldest undelivered digit.
    pub fn poll(&mut self) -> Option<DtmfDigit> {
        if self.len == 0 {
            return None;
        }
        let d = self.queue[self.head].take();
        self.head = (self.head + 1) % QUEUE;
        self.len -= 1;
        d
    }

    fn emit(&mut self, event: u8, duration: u16) {
        // Events above 15 are tones and line events (RFC 4734), not digits.
        let Some(&digit) = DIGITS.get(event as usize) else {
            return;
        };
        if self.len == QUEUE {
            // Nobody is reading; keep the newest digits.
            self.head = (self.head + 1) % QUEUE;
            self.len -= 1;
        }
        let d = DtmfDigit {
            digit: digit as char,
            duration: Duration::from_micros(duration as u64 * 1_000_000 / SAMPLE_RATE as u64),
        };
        self.queue[(self.head + self.len) % QUEUE] = Some(d);
        self.len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        let d = duration.to_be_bytes();
        [event, if end { 0x8A } else { 0x0A }, d[0], d[1]]
    }

    fn drain(d: &mut DtmfDecoder) -> String {
        std::iter::from_fn(|| d.poll()).map(|x| x.digit).collect()
    }

    #[test]
    fn triplicated_end_packets_give_one_digit() {
        let mut d = DtmfDecoder::default();
        for dur in [160, 320, 480] {
            d.on_payload(1000, &payload(5, false, dur));
        }
        assert_eq!(d.poll(), None);
        for _ in 0..3 {
            d.on_payload(1000, &payload(5, true, 800));
        }
        let digit = d.poll().unwrap();
        assert_eq!(digit.digit, '5');
        assert_eq!(digit.duration, Duration::from_millis(100));
        assert_eq!(d.poll(), None);
    }

    #[test]
    fn a_new_event_flushes_one_whose_end_was_lost() {
        let mut d = DtmfDecoder::default();
        d.on_payload(1000, &payload(11, false, 160));
        d.on_payload(5000, &payload(12, false, 160));
        d.on_payload(5000, &payload(12, true, 400));
        assert_eq!(drain(&mut d), "#A");
    }

    #[test]
    fn non_digit_events_and_short_payloads_are_ignored() {
        let mut d = DtmfDecoder::default();
        assert!(d.on_payload(1, &payload(16, true, 160)));
        assert!(!d.on_payload(2, &[1, 2, 3]));
        assert_eq!(d.poll(), None);
    }

    #[test]
    fn a_full_queue_keeps_the_newest_digits() {
        let mut d = DtmfDecoder::default();
        for i in 0..20u32 {
            d.on_payload(i * 1000, &payload((i % 10) as u8, true, 160));
        }
        assert_eq!(drain(&mut d), "4567890123456789");
    }
}
