//! Scheduled conferences in the conference machine: their PINs open their rooms only inside
//! the window (before: "this conference starts at HH:MM" in the conference's time zone; after:
//! "this conference has ended"; both in the conference's language unless the caller chose
//! one), the room hears a warning five minutes and one minute before the end, and when the
//! window closes every call gets a BYE.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Conference, Output};
use crate::call_id::CallId;
use crate::menu::Refusal;
use crate::pin::Pin;
use crate::prompt::{Language, Phrase};
use crate::room_number::RoomNumber;
use crate::schedule::{Verdict, Warning, Window, spoken_time};

/// A scheduled conference as the machine knows it (from the store, via the driver).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledRoom {
    /// The room it runs in (not dialable directly: only its PIN leads there).
    pub number: RoomNumber,
    pub pin: Pin,
    pub window: Window,
    /// The time zone its start is spoken in.
    pub time_zone: TimeZone,
    pub language: Option<Language>,
}

impl Conference {
    /// Replaces the index of scheduled conferences (at start and whenever the store changed).
    pub fn set_scheduled(&mut self, rooms: impl IntoIterator<Item = ScheduledRoom>) {
        self.scheduled = rooms.into_iter().map(|r| (r.number.clone(), r)).collect();
    }

    /// Whether `room` is a scheduled conference's room.
    pub fn is_scheduled(&self, room: &RoomNumber) -> bool {
        self.scheduled.contains_key(room)
    }

    /// What a PIN of a scheduled conference means at `wall`: its room (window open), why
    /// not, or `None` if no scheduled conference has it.
    pub(super) fn scheduled_pin(
        &self,
        pin: &Pin,
        wall: Timestamp,
    ) -> Option<(RoomNumber, Option<Refusal>)> {
        let mut candidates: Vec<&ScheduledRoom> =
            self.scheduled.values().filter(|s| &s.pin == pin).collect();
        candidates.sort_by_key(|s| s.window.opens);
        if let Some(open) = candidates
            .iter()
            .find(|s| s.window.verdict(wall) == Verdict::Open)
        {
            return Some((open.number.clone(), None));
        }
        if let Some(next) = candidates.iter().find(|s| wall < s.window.opens) {
            let (hour, minute) = spoken_time(next.window.starts, &next.time_zone);
            let refusal = Refusal::StartsAt {
                hour: hour.clamp(0, 23) as u8,
                minute: minute.clamp(0, 59) as u8,
            };
            return Some((next.number.clone(), Some(refusal)));
        }
        candidates
            .last()
            .map(|s| (s.number.clone(), Some(Refusal::Ended)))
    }

    /// Advances the schedule from `since` to `wall` (call it about once a second): the
    /// rooms due a warning hear it, rooms whose window closed are emptied.
    pub fn schedule_tick(&mut self, since: Timestamp, wall: Timestamp) {
        let mut announce = Vec::new();
        let mut close = Vec::new();
        for s in self.scheduled.values() {
            for warning in s.window.warnings_due(since, wall) {
                match warning {
                    Warning::FiveMinutes => {
                        announce.push((s.number.clone(), Phrase::EndsInFiveMinutes))
                    }
                    Warning::OneMinute => {
                        announce.push((s.number.clone(), Phrase::EndsInOneMinute))
                    }
                    Warning::Closed => close.push(s.number.clone()),
                }
            }
        }
        for (room, phrase) in announce {
            if self.calls.values().any(|c| c.room == room) {
                self.outputs.push_back(Output::Announce {
                    room,
                    phrases: vec![phrase],
                });
            }
        }
        for room in close {
            let mut calls: Vec<CallId> = self
                .calls
                .iter()
                .filter(|(_, c)| c.room == room)
                .map(|(id, _)| *id)
                .collect();
            calls.sort_unstable();
            for call in calls {
                self.outputs.push_back(Output::HangUp(call));
            }
        }
    }
}
