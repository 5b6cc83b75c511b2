//! Overload protection for the SIP task: when SIP datagrams pile up in the socket's
//! receive queue, the task is behind; new INVITEs are then answered `503` with
//! `Retry-After` by the endpoint (cheaply, before any call state), so the calls already up
//! keep the server's attention and their audio. Hysteresis: on above the high mark, off
//! again below a quarter of it.

use std::time::{Duration, Instant};

/// How often the queue is looked at while all is well (while overloaded: every time).
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// What callers are told to wait, in seconds.
pub const RETRY_AFTER_SECS: u32 = 2;

/// Decides from the receive queue's fill whether new calls are turned away.
#[derive(Debug)]
pub struct OverloadGuard {
    high: usize,
    low: usize,
    next_check: Option<Instant>,
    overloaded: bool,
}

impl OverloadGuard {
    /// `queue_kib` as configured (`sip.overload_queue_kib`; 0: a quarter of `buffer`, the
    /// socket's receive buffer in bytes).
    pub fn new(queue_kib: u32, buffer: usize) -> Self {
        let high = match queue_kib {
            0 => (buffer / 4).max(64 * 1024),
            kib => kib as usize * 1024,
        };
        Self {
            high,
            low: high / 4,
            next_check: None,
            overloaded: false,
        }
    }

    /// Whether the queue should be read now.
    pub fn due(&self, now: Instant) -> bool {
        self.overloaded || self.next_check.is_none_or(|at| now >= at)
    }

    /// The queue holds `queued` bytes; returns the new state when it changes.
    pub fn observe(&mut self, now: Instant, queued: usize) -> Option<bool> {
        self.next_check = Some(now + CHECK_EVERY);
        let next = if self.overloaded {
            queued > self.low
        } else {
            queued >= self.high
        };
        (next != self.overloaded).then(|| {
            self.overloaded = next;
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_above_the_high_mark_off_below_a_quarter_of_it() {
        let mut g = OverloadGuard::new(64, 0);
        let t = Instant::now();
        assert!(g.due(t));
        assert_eq!(g.observe(t, 10_000), None);
        assert!(!g.due(t + Duration::from_millis(1)), "not every datagram");
        assert!(g.due(t + CHECK_EVERY));
        assert_eq!(g.observe(t + CHECK_EVERY, 64 * 1024), Some(true));
        assert!(g.due(t + CHECK_EVERY), "every time while overloaded");
        assert_eq!(g.observe(t, 20_000), None, "still above the low mark");
        assert_eq!(g.observe(t, 16 * 1024), Some(false));
    }

    #[test]
    fn the_default_is_a_quarter_of_the_buffer() {
        let g = OverloadGuard::new(0, 4 << 20);
        assert_eq!((g.high, g.low), (1 << 20, 256 << 10));
    }
}
