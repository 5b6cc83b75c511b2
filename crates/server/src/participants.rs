//! The live states of invited participants, written by the SIP task and read by the HTTP
//! API (and through it `konferenz participants --follow`). Control plane only: never
//! touched by the 20 ms audio path, so a mutex is fine here.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use konferenz_conference::{ParticipantState, RoomNumber};
use serde::Serialize;
use tracing::{debug, info};

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

/// Shared registry, cheap to clone: the JSON view and the typed state of each call.
#[derive(Clone, Default)]
pub struct Participants(Arc<Mutex<BTreeMap<u64, (Invitee, ParticipantState)>>>);

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Participants {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (Invitee, ParticipantState)>> {
        // A panic elsewhere must not take the API down with it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
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
