//! `Roster`: who is where, as the participants view shows it — built only from published
//! [`Event`]s (and, at start, the stored history). Live calls stay listed; finished ones
//! stay for a bounded time and count per room, so memory does not grow with history (the
//! whole history is in the database, read page by page).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::call_id::CallId;
use crate::event::{Event, EventKind};
use crate::participant::ParticipantState;
use crate::room_number::RoomNumber;

/// How much of the past the roster keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterConfig {
    /// Finished calls are dropped this long after they ended. Default 15 min.
    pub keep_finished: Duration,
    /// At most this many finished calls per room (the oldest go first). Default 100.
    pub max_finished_per_room: usize,
    /// A call's timeline keeps at most this many changes. Default 32.
    pub max_changes: usize,
}

impl Default for RosterConfig {
    fn default() -> Self {
        Self {
            keep_finished: Duration::from_secs(15 * 60),
            max_finished_per_room: 100,
            max_changes: 32,
        }
    }
}

/// One change of state in a participant's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateChange {
    pub state: String,
    /// Unix seconds.
    pub at: u64,
    /// Unix milliseconds (whole seconds for changes read back from the database).
    pub at_ms: u64,
}

/// One participant as listed (`GET /api/rooms/{n}/participants`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    pub call: u64,
    pub room: String,
    /// The invited number, or the dial-in's caller ID.
    pub number: String,
    pub state: String,
    /// The SIP status of a failed invitation.
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Unix seconds of the last change of state.
    pub since: u64,
    pub muted: bool,
    pub talking: bool,
    pub invited: bool,
    /// Every state it went through, oldest first (bounded).
    pub events: Vec<StateChange>,
}

#[derive(Debug, Default)]
struct RoomRoster {
    entries: BTreeMap<CallId, RosterEntry>,
    /// Finished calls in the order they finished, with the Unix ms when.
    finished: VecDeque<(CallId, u64)>,
}

/// The participants view. See the module docs.
#[derive(Debug, Default)]
pub struct Roster {
    config: RosterConfig,
    rooms: HashMap<RoomNumber, RoomRoster>,
}

impl Roster {
    pub fn new(config: RosterConfig) -> Self {
        Self {
            config,
            rooms: HashMap::new(),
        }
    }

    /// Applies a published event.
    pub fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Participant {
                call,
                number,
                state,
                status,
                reason,
                invited,
            } => self.change(
                &event.room,
                *call,
                Change {
                    number,
                    state,
                    status: *status,
                    reason: reason.as_deref(),
                    invited: *invited,
                    at_ms: event.at,
                },
            ),
            EventKind::Muted { call, muted } => {
                if let Some(e) = self.entry(&event.room, *call) {
                    e.muted = *muted;
                }
            }
            EventKind::Talking { call, talking } => {
                if let Some(e) = self.entry(&event.room, *call) {
                    e.talking = *talking;
                }
            }
            EventKind::Refused { .. }
            | EventKind::RoomLocked { .. }
            | EventKind::RoomMuted { .. }
            | EventKind::ConferenceEnded => {}
        }
        self.prune(event.at);
    }

    /// Restores a stored change (at start, oldest first).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        &mut self,
        room: &RoomNumber,
        call: CallId,
        number: &str,
        state: &str,
        status: Option<u16>,
        reason: Option<&str>,
        at_secs: u64,
    ) {
        self.change(
            room,
            call,
            Change {
                number,
                state,
                status,
                reason,
                invited: false,
                at_ms: at_secs.saturating_mul(1000),
            },
        );
    }

    /// Calls whose last known state is still active (after a restore: calls the server
    /// did not see end).
    pub fn active(&self) -> Vec<(RoomNumber, RosterEntry)> {
        self.rooms
            .iter()
            .flat_map(|(room, r)| {
                r.entries
                    .values()
                    .filter(|e| is_active(&e.state))
                    .map(move |e| (room.clone(), e.clone()))
            })
            .collect()
    }

    /// The room a call is (or was) in, while the roster holds it.
    pub fn room_of(&self, call: CallId) -> Option<RoomNumber> {
        self.rooms
            .iter()
            .find(|(_, r)| r.entries.contains_key(&call))
            .map(|(room, _)| room.clone())
    }

    /// The room's participants, by call id (oldest first).
    pub fn of_room(&self, room: &RoomNumber) -> Vec<RosterEntry> {
        self.rooms
            .get(room)
            .map(|r| r.entries.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How many entries are held, over all rooms.
    pub fn len(&self) -> usize {
        self.rooms.values().map(|r| r.entries.len()).sum()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops finished calls that are too old or too many (`now_ms`: Unix milliseconds).
    pub fn prune(&mut self, now_ms: u64) {
        let keep_ms = u64::try_from(self.config.keep_finished.as_millis()).unwrap_or(u64::MAX);
        let max = self.config.max_finished_per_room;
        for r in self.rooms.values_mut() {
            while let Some(&(call, at)) = r.finished.front() {
                let too_old = now_ms.saturating_sub(at) >= keep_ms;
                if !(too_old || r.finished.len() > max) {
                    break;
                }
                r.finished.pop_front();
                // It may have come back to life (a re-used id never happens, but be safe).
                if r.entries.get(&call).is_some_and(|e| !is_active(&e.state)) {
                    r.entries.remove(&call);
                }
            }
        }
        self.rooms.retain(|_, r| !r.entries.is_empty());
    }

    fn entry(&mut self, room: &RoomNumber, call: CallId) -> Option<&mut RosterEntry> {
        self.rooms.get_mut(room)?.entries.get_mut(&call)
    }

    fn change(&mut self, room: &RoomNumber, call: CallId, change: Change<'_>) {
        let max_changes = self.config.max_changes.max(1);
        let r = self.rooms.entry(room.clone()).or_default();
        let entry = r.entries.entry(call).or_insert_with(|| RosterEntry {
            call: call.0,
            room: room.to_string(),
            number: change.number.to_owned(),
            state: String::new(),
            status: None,
            reason: None,
            since: 0,
            muted: false,
            talking: false,
            invited: change.invited,
            events: Vec::new(),
        });
        let at = change.at_ms / 1000;
        entry.state = change.state.to_owned();
        entry.since = at;
        if change.status.is_some() {
            entry.status = change.status;
            entry.reason = change.reason.map(str::to_owned);
        }
        if entry.events.len() >= max_changes {
            entry.events.remove(0);
        }
        entry.events.push(StateChange {
            state: change.state.to_owned(),
            at,
            at_ms: change.at_ms,
        });
        if !is_active(change.state) {
            entry.talking = false;
            r.finished.push_back((call, change.at_ms));
        }
    }
}

struct Change<'a> {
    number: &'a str,
    state: &'a str,
    status: Option<u16>,
    reason: Option<&'a str>,
    invited: bool,
    at_ms: u64,
}

fn is_active(state: &str) -> bool {
    ParticipantState::from_name(state, None, None).is_some_and(|s| s.is_active())
}
