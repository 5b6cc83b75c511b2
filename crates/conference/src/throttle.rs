//! `Throttle`: makes PIN guessing useless by counting failed tries per caller and per room.
//!
//! Issue 3: "at most 3 tries per call ([`crate::Menu`] enforces that); after N failed tries
//! from one caller (by source address and caller ID) within 10 minutes, further calls from
//! it get a prompt and are refused for a while; after M failed tries against one room, the
//! room refuses PIN entry for a while and the event is logged at warn level."
//!
//! One `Throttle` serves all calls. It never logs: it emits [`ThrottleEvent`]s for the
//! driver to log (at warn for a room), and they never carry a PIN. Memory stays bounded
//! under a flood of distinct callers: records whose window and lockout have passed are
//! pruned, and each table holds at most [`ThrottleConfig::max_entries`].

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::menu::{PinVerdict, Refusal};
use crate::room_number::RoomNumber;

/// Longest accepted configured duration; keeps `Instant` arithmetic far from overflow.
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most failures one record remembers, whatever the configuration says.
const MAX_FAILURES: u32 = 1000;

/// One limit: `failures` within `window` lock the key out for `lockout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Failed tries that trigger the lockout (at least 1 is used).
    pub failures: u32,
    /// The sliding window in which they count.
    pub window: Duration,
    /// How long the lockout lasts.
    pub lockout: Duration,
}

/// The throttle's limits; the defaults are the product's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Per caller (source address + caller ID). Default: 6 in 10 min → locked 15 min.
    pub caller: Limit,
    /// Per dialled room or shared number. Default: 20 in 10 min → locked 10 min.
    pub room: Limit,
    /// Most records per table (callers, rooms). Default 10 000.
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            caller: Limit {
                failures: 6,
                window: Duration::from_secs(600),
                lockout: Duration::from_secs(900),
            },
            room: Limit {
                failures: 20,
                window: Duration::from_secs(600),
                lockout: Duration::from_secs(600),
            },
            max_entries: 10_000,
        }
    }
}

/// Who is calling: source address and caller ID. The caller ID is kept only as a hash, so
/// the table holds no phone numbers and each record has a fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallerKey {
    addr: IpAddr,
    caller_id: u64,
}

impl CallerKey {
    /// The key of a call from `addr` (the SIP source address) with this caller ID (the
    /// From user part, as received; empty if anonymous).
    pub fn new(addr: IpAddr, caller_id: &str) -> Self {
        let mut hasher = DefaultHasher::new();
        caller_id.hash(&mut hasher);
        Self {
            addr,
            caller_id: hasher.finish(),
        }
    }

    /// The source address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
}

/// Something the driver should log; never carries a PIN or a caller ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThrottleEvent {
    /// A caller hit its limit; its calls are refused until `until`.
    CallerLocked {
        /// The caller's source address.
        addr: IpAddr,
        /// Failed tries that led to it.
        failures: u32,
        /// End of the lockout.
        until: Instant,
    },
    /// A room (or the shared number) hit its limit and refuses PIN entry until `until`:
    /// log at warn level, someone is probably guessing.
    RoomLocked {
        /// The dialled room or shared number.
        room: RoomNumber,
        /// Failed tries that led to it.
        failures: u32,
        /// End of the lockout.
        until: Instant,
    },
}

/// The guessing throttle shared by all calls. See the module docs.
#[derive(Debug)]
pub struct Throttle {
    callers: Table<CallerKey>,
    rooms: Table<RoomNumber>,
    events: VecDeque<ThrottleEvent>,
}

impl Throttle {
    /// A throttle with these limits and nothing recorded.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            callers: Table::new(config.caller, config.max_entries),
            rooms: Table::new(config.room, config.max_entries),
            events: VecDeque::new(),
        }
    }

    /// When a call arrives: may this caller enter a PIN on the dialled number? An `Err`
    /// becomes [`crate::Entry::Refused`].
    pub fn admit(
        &mut self,
        now: Instant,
        caller: &CallerKey,
        dialled: &RoomNumber,
    ) -> Result<(), Refusal> {
        if self.callers.locked(now, caller) {
            return Err(Refusal::CallerLocked);
        }
        if self.rooms.locked(now, dialled) {
            return Err(Refusal::RoomLocked);
        }
        Ok(())
    }

    /// Settles one PIN attempt given what the lookup found: the room the PIN opens, or
    /// `None`. A locked caller or room is refused whatever the PIN (so a guesser cannot tell
    /// a right PIN during a lockout); a miss counts against the caller and the dialled
    /// number, and refuses at once if it starts a lockout.
    pub fn settle(
        &mut self,
        now: Instant,
        caller: &CallerKey,
        dialled: &RoomNumber,
        found: Option<&RoomNumber>,
    ) -> PinVerdict {
        if let Err(refusal) = self.admit(now, caller, dialled) {
            return PinVerdict::Refused(refusal);
        }
        match found {
            Some(room) if self.rooms.locked(now, room) => PinVerdict::Refused(Refusal::RoomLocked),
            Some(room) => PinVerdict::Admit(room.clone()),
            None => match self.record_failure(now, caller, dialled) {
                Some(refusal) => PinVerdict::Refused(refusal),
                None => PinVerdict::Wrong,
            },
        }
    }

    /// Counts one failed try by `caller` against `dialled`; `Some` when it starts a lockout
    /// (`CallerLocked` if both start at once). Queues a [`ThrottleEvent`] for each lockout.
    pub fn record_failure(
        &mut self,
        now: Instant,
        caller: &CallerKey,
        dialled: &RoomNumber,
    ) -> Option<Refusal> {
        let mut refusal = None;
        if let Some((failures, until)) = self.rooms.fail(now, dialled) {
            let room = dialled.clone();
            self.events.push_back(ThrottleEvent::RoomLocked {
                room,
                failures,
                until,
            });
            refusal = Some(Refusal::RoomLocked);
        }
        if let Some((failures, until)) = self.callers.fail(now, caller) {
            let addr = caller.addr;
            self.events.push_back(ThrottleEvent::CallerLocked {
                addr,
                failures,
                until,
            });
            refusal = Some(Refusal::CallerLocked);
        }
        refusal
    }

    /// End of the caller's lockout, if one is in force.
    pub fn caller_locked_until(&self, now: Instant, caller: &CallerKey) -> Option<Instant> {
        self.callers.locked_until(now, caller)
    }

    /// End of the room's (or shared number's) lockout, if one is in force.
    pub fn room_locked_until(&self, now: Instant, room: &RoomNumber) -> Option<Instant> {
        self.rooms.locked_until(now, room)
    }

    /// The next event to log, if any.
    pub fn poll_event(&mut self) -> Option<ThrottleEvent> {
        self.events.pop_front()
    }

    /// Drops records that no longer matter (window and lockout passed). Recording prunes
    /// when a table is full; calling this now and then (every minute) frees memory sooner.
    pub fn prune(&mut self, now: Instant) {
        self.callers.prune(now);
        self.rooms.prune(now);
    }

    /// Records held: (callers, rooms).
    pub fn len(&self) -> (usize, usize) {
        (self.callers.entries.len(), self.rooms.entries.len())
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

/// Failures and lockout of one key.
#[derive(Debug, Default)]
struct Record {
    /// Times of failures within the window, oldest first; fewer than the limit.
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

impl Record {
    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Whether it carries no information any more at `now`.
    fn expired(&self, now: Instant, window: Duration) -> bool {
        !self.locked(now)
            && self
                .failures
                .back()
                .is_none_or(|&last| last + window <= now)
    }
}

/// Records for one kind of key, bounded in size.
#[derive(Debug)]
pub(crate) struct Table<K> {
    limit: Limit,
    max_entries: usize,
    entries: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    pub(crate) fn new(limit: Limit, max_entries: usize) -> Self {
        let limit = Limit {
            failures: limit.failures.clamp(1, MAX_FAILURES),
            window: limit.window.min(MAX_DURATION),
            lockout: limit.lockout.min(MAX_DURATION),
        };
        Self {
            limit,
            max_entries: max_entries.max(1),
            entries: HashMap::new(),
        }
    }

    fn locked(&self, now: Instant, key: &K) -> bool {
        self.locked_until(now, key).is_some()
    }

    pub(crate) fn locked_until(&self, now: Instant, key: &K) -> Option<Instant> {
        self.entries
            .get(key)
            .filter(|r| r.locked(now))
            .and_then(|r| r.locked_until)
    }

    /// Counts a failure; `Some((failures, until))` when it starts a lockout.
    pub(crate) fn fail(&mut self, now: Instant, key: &K) -> Option<(u32, Instant)> {
        if !self.entries.contains_key(key) && !self.make_room(now) {
            return None;
        }
        let limit = self.limit;
        let record = self.entries.entry(key.clone()).or_default();
        if record.locked(now) {
            return None;
        }
        while record
            .failures
            .front()
            .is_some_and(|&t| t + limit.window <= now)
        {
            record.failures.pop_front();
        }
        record.failures.push_back(now);
        let failures = record.failures.len() as u32;
        if failures < limit.failures {
            return None;
        }
        record.failures.clear();
        let until = now + limit.lockout;
        record.locked_until = Some(until);
        Some((failures, until))
    }

    /// Frees a slot for a new key: prune, else evict the unlocked record whose last failure
    /// is oldest. With every record locked, the new key is not tracked: evicting a lockout
    /// would let a flood of fresh keys unlock a guesser.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.entries.len() < self.max_entries {
            return true;
        }
        self.prune(now);
        if self.entries.len() < self.max_entries {
            return true;
        }
        let oldest = self
            .entries
            .iter()
            .filter(|(_, r)| !r.locked(now))
            .min_by_key(|(_, r)| r.failures.back().copied())
            .map(|(k, _)| k.clone());
        match oldest {
            Some(key) => self.entries.remove(&key).is_some(),
            None => false,
        }
    }

    fn prune(&mut self, now: Instant) {
        let window = self.limit.window;
        self.entries.retain(|_, r| !r.expired(now, window));
    }
}
