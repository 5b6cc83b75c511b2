//! The live states of invited participants, written by the SIP task and read by the HTTP
//! API (and through it `konferenz participants --follow`). Control plane only: never
//! touched by the 20 ms audio path, so a mutex is fine here. Every change is also appended
//! to the database's event log (by a writer task, off the SIP loop), and the latest calls'
//! timelines are loaded from there at start, so they outlive a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use konferenz_conference::{ParticipantState, RoomNumber};
use konferenz_store::{ParticipantEvent, Store};
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// One invited participant.
#[derive(Clone, Debug, Serialize)]
pub struct Invitee {
    pub call: u64,
    pub room: String,
    /// The number as invited (shown to the room's users; logged at debug level only).
    pub number: String,
    pub state: String,
    /// The SIP status of a failed call.
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Unix seconds of the last change.
    pub since: u64,
    /// Muted by a moderator (not mixed into the room).
    pub muted: bool,
    /// Every state the participant went through, oldest first (bounded).
    pub events: Vec<StateEvent>,
}

/// One change of state, for the participant's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct StateEvent {
    pub state: String,
    /// Unix seconds.
    pub at: u64,
}

/// A participant's timeline keeps at most this many changes (a phone that is re-invited
/// in a loop cannot grow it without bound).
const MAX_EVENTS: usize = 32;

/// How many past calls are loaded at start.
const HISTORY_CALLS: u32 = 1000;

/// Shared registry, cheap to clone: the JSON view and the typed state of each call.
#[derive(Clone, Default)]
pub struct Participants {
    map: Arc<Mutex<BTreeMap<u64, (Invitee, ParticipantState)>>>,
    /// Where changes are persisted (None in tests without a database).
    log: Option<mpsc::UnboundedSender<LogItem>>,
}

/// What the writer task gets: an event, or a request to say when all before it are stored.
enum LogItem {
    Event(ParticipantEvent),
    Flush(tokio::sync::oneshot::Sender<()>),
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Participants {
    /// A registry persisted to `store`: loads the latest calls' timelines (a call whose
    /// last state was still active when the server stopped is recorded as left) and starts
    /// the writer task. Returns the registry and the highest call id seen.
    pub async fn persisted(store: Store) -> (Participants, u64) {
        let last = store.last_participant_call().await.unwrap_or_else(|e| {
            warn!(error = %e, "cannot read the participant log");
            0
        });
        let history = store
            .recent_participant_events(HISTORY_CALLS)
            .await
            .unwrap_or_default();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_log(store, rx));
        let participants = Participants {
            map: Arc::default(),
            log: Some(tx),
        };
        participants.load(&history);
        (participants, last)
    }

    fn load(&self, history: &[ParticipantEvent]) {
        let mut calls: BTreeMap<u64, Vec<&ParticipantEvent>> = BTreeMap::new();
        for e in history {
            calls.entry(e.call).or_default().push(e);
        }
        for (call, events) in calls {
            let Some(last) = events.last() else { continue };
            let invitee = Invitee {
                call,
                room: last.room.clone(),
                number: last.number.clone(),
                state: last.state.clone(),
                status: last.status,
                reason: last.reason.clone(),
                since: last.at,
                muted: false,
                events: events
                    .iter()
                    .rev()
                    .take(MAX_EVENTS)
                    .rev()
                    .map(|e| StateEvent {
                        state: e.state.clone(),
                        at: e.at,
                    })
                    .collect(),
            };
            let state =
                ParticipantState::from_name(&last.state, last.status, last.reason.as_deref())
                    .unwrap_or(ParticipantState::Left);
            let stale = state.is_active();
            self.lock().insert(call, (invitee, state));
            if stale {
                // The server stopped without ending this call: it is over now.
                self.set(call, ParticipantState::Left);
            }
        }
    }

    /// A new invitation.
    pub fn add(&self, call: u64, room: &RoomNumber, number: &str, state: ParticipantState) {
        let invitee = Invitee {
            call,
            room: room.to_string(),
            number: number.to_owned(),
            state: String::new(),
            status: None,
            reason: None,
            since: 0,
            muted: false,
            events: Vec::new(),
        };
        self.lock().insert(call, (invitee, state.clone()));
        self.set(call, state);
    }

    /// A change of state (logged: the state at info, the number only at debug).
    pub fn set(&self, call: u64, state: ParticipantState) {
        let mut map = self.lock();
        let Some((invitee, current)) = map.get_mut(&call) else {
            return;
        };
        if let ParticipantState::Failed { status, reason } = &state {
            invitee.status = Some(*status);
            invitee.reason = Some(reason.clone());
        }
        invitee.state = state.name().to_owned();
        invitee.since = unix_now();
        if invitee.events.len() == MAX_EVENTS {
            invitee.events.remove(0);
        }
        invitee.events.push(StateEvent {
            state: invitee.state.clone(),
            at: invitee.since,
        });
        info!(call, room = %invitee.room, state = %state, "participant");
        debug!(call, number = %invitee.number, "participant number");
        if let Some(log) = &self.log {
            let _ = log.send(LogItem::Event(ParticipantEvent {
                call,
                room: invitee.room.clone(),
                number: invitee.number.clone(),
                state: invitee.state.clone(),
                status: invitee.status,
                reason: invitee.reason.clone(),
                at: invitee.since,
            }));
        }
        *current = state;
    }

    /// Records a mute or unmute.
    pub fn set_muted(&self, call: u64, muted: bool) {
        if let Some((invitee, _)) = self.lock().get_mut(&call) {
            invitee.muted = muted;
            info!(call, room = %invitee.room, muted, "participant");
        }
    }

    /// The current state, if the call is listed.
    pub fn state(&self, call: u64) -> Option<ParticipantState> {
        self.lock().get(&call).map(|(_, state)| state.clone())
    }

    /// The participants of a room, oldest first.
    pub fn of_room(&self, room: &RoomNumber) -> Vec<Invitee> {
        self.lock()
            .values()
            .filter(|(i, _)| i.room == room.as_str())
            .map(|(i, _)| i.clone())
            .collect()
    }

    /// Waits until every change so far is in the database (at shutdown).
    pub async fn flush(&self) {
        if let Some(log) = &self.log {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if log.send(LogItem::Flush(tx)).is_ok() {
                let _ = rx.await;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (Invitee, ParticipantState)>> {
        // A panic elsewhere must not take the API down with it.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Appends logged changes to the database, a batch per wake-up.
async fn write_log(store: Store, mut rx: mpsc::UnboundedReceiver<LogItem>) {
    let mut batch = Vec::new();
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                LogItem::Event(e) => batch.push(e),
                LogItem::Flush(done) => waiting.push(done),
            }
            next = rx.try_recv().ok();
        }
        if !batch.is_empty()
            && let Err(e) = store.append_participant_events(&batch).await
        {
            warn!(error = %e, events = batch.len(), "cannot store participant events");
        }
        batch.clear();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_is_kept_in_order_and_failures_carry_their_status() {
        let p = Participants::default();
        let room = RoomNumber::parse("800").unwrap();
        p.add(7, &room, "0441234567", ParticipantState::Calling);
        p.set(7, ParticipantState::Ringing);
        p.set(7, ParticipantState::from_failure(486, "Busy Here"));
        p.set(8, ParticipantState::Connected); // unknown call: ignored
        let list = p.of_room(&room);
        assert_eq!(list.len(), 1);
        let states: Vec<&str> = list[0].events.iter().map(|e| e.state.as_str()).collect();
        assert_eq!(states, ["calling", "ringing", "busy"]);
        assert_eq!(p.state(7), Some(ParticipantState::Busy));
        assert!(p.of_room(&RoomNumber::parse("801").unwrap()).is_empty());
    }
}
