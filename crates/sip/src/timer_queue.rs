//! A deadline queue for the endpoint's timers: transaction timers (RFC 3261 §17) and the
//! dialog timers the transaction user owns (2xx retransmission, §13.3.1.4).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Timers keyed by `K`, each armed at most once; ordered by deadline `T` (an `Instant` in
/// the endpoint; any ordered value in tests).
#[derive(Debug)]
pub(crate) struct TimerQueue<K: Clone + Eq + Hash, T: Ord + Copy = Instant> {
    by_deadline: BTreeMap<(T, u64), K>,
    by_key: HashMap<K, (T, u64)>,
    next_seq: u64,
}

impl<K: Clone + Eq + Hash, T: Ord + Copy> Default for TimerQueue<K, T> {
    fn default() -> Self {
        Self {
            by_deadline: BTreeMap::new(),
            by_key: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Clone + Eq + Hash, T: Ord + Copy> TimerQueue<K, T> {
    /// Arms `key` for `at`, replacing an earlier arming of the same key.
    pub(crate) fn set(&mut self, key: K, at: T) {
        self.clear(&key);
        let slot = (at, self.next_seq);
        self.next_seq += 1;
        self.by_deadline.insert(slot, key.clone());
        self.by_key.insert(key, slot);
    }

    /// Disarms `key` if armed.
    pub(crate) fn clear(&mut self, key: &K) {
        if let Some(slot) = self.by_key.remove(key) {
            self.by_deadline.remove(&slot);
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<T> {
        self.by_deadline.keys().next().map(|(at, _)| *at)
    }

    /// Removes and returns one timer due at `now`, earliest first.
    pub(crate) fn pop_due(&mut self, now: T) -> Option<K> {
        let (&slot, _) = self.by_deadline.iter().next()?;
        if slot.0 > now {
            return None;
        }
        let key = self.by_deadline.remove(&slot)?;
        self.by_key.remove(&key);
        Some(key)
    }

    /// How many timers are armed.
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deadlines in milliseconds of virtual time.
    type Queue<K> = TimerQueue<K, u64>;

    #[test]
    fn pops_in_deadline_order_and_rearming_replaces() {
        let mut q = Queue::default();
        q.set("b", 20);
        q.set("a", 10);
        q.set("b", 5);
        assert_eq!(q.len(), 2);
        assert_eq!(q.next_deadline(), Some(5));
        assert_eq!(q.pop_due(0), None);
        assert_eq!(q.pop_due(30), Some("b"));
        assert_eq!(q.pop_due(30), Some("a"));
        assert_eq!(q.pop_due(30), None);
    }

    #[test]
    fn cleared_timers_never_fire() {
        let mut q = Queue::default();
        q.set(1, 0);
        q.clear(&1);
        assert_eq!(q.pop_due(1000), None);
        assert_eq!(q.next_deadline(), None);
    }
}
