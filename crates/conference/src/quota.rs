//! A quota per key over a sliding window (e.g. invitations per user per hour, mails per
//! hour): at most `limit` grants in any `window`; a request for more is refused whole, with
//! how long until enough have aged out. Virtual time: callers pass `now`.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Grants per key within the window.
#[derive(Debug)]
pub struct Quota<K> {
    limit: usize,
    window: Duration,
    granted: HashMap<K, VecDeque<Instant>>,
}

impl<K: Eq + Hash + Clone> Quota<K> {
    /// `limit == 0` grants everything.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            granted: HashMap::new(),
        }
    }

    /// Takes `n` grants for `key` at `now`, or says how long until `n` would fit (never for
    /// more than the limit at once: then the whole window).
    pub fn take(&mut self, now: Instant, key: &K, n: usize) -> Result<(), Duration> {
        if self.limit == 0 || n == 0 {
            return Ok(());
        }
        let window = self.window;
        let times = self.granted.entry(key.clone()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if n > self.limit {
            return Err(window);
        }
        let free = self.limit - times.len();
        if n <= free {
            times.extend(std::iter::repeat_n(now, n));
            return Ok(());
        }
        // The (n - free)-th oldest grant must age out first.
        let oldest_needed = times[n - free - 1];
        Err((oldest_needed + window).saturating_duration_since(now))
    }

    /// Forgets keys with no grant in the window (call now and then).
    pub fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.granted.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_limit_holds_over_any_window_and_frees_as_grants_age() {
        let mut q = Quota::new(3, HOUR);
        let t0 = Instant::now();
        let anna = "201".to_owned();
        assert_eq!(q.take(t0, &anna, 2), Ok(()));
        assert_eq!(q.take(t0 + Duration::from_secs(600), &anna, 1), Ok(()));
        assert_eq!(
            q.take(t0 + Duration::from_secs(900), &anna, 1),
            Err(Duration::from_secs(2700)),
            "the first two age out at t0 + 1 h"
        );
        assert_eq!(q.take(t0 + HOUR, &anna, 2), Ok(()));
        assert_eq!(q.take(t0 + HOUR, &anna, 1), Err(Duration::from_secs(600)));
        assert_eq!(q.take(t0, &"202".to_owned(), 3), Ok(()), "per key");
    }

    #[test]
    fn all_or_nothing_and_never_more_than_the_limit_at_once() {
        let mut q = Quota::new(3, HOUR);
        let t0 = Instant::now();
        let k = 1u8;
        assert_eq!(q.take(t0, &k, 4), Err(HOUR));
        assert_eq!(q.take(t0, &k, 2), Ok(()));
        assert!(q.take(t0, &k, 2).is_err(), "two do not fit: none taken");
        assert_eq!(q.take(t0, &k, 1), Ok(()));
    }

    #[test]
    fn zero_is_no_limit_and_prune_forgets_quiet_keys() {
        let mut q = Quota::new(0, HOUR);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(q.take(t0, &1u8, 5), Ok(()));
        }
        let mut q = Quota::new(5, HOUR);
        q.take(t0, &1u8, 1).unwrap();
        q.prune(t0 + HOUR);
        assert!(q.granted.is_empty());
    }
}
