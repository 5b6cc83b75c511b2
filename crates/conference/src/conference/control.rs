//! Moderator commands on the conference machine: invite (with re-dial), hang up (and
//! block), mute one or all (room-wide, kept with the room), lock, end. Each is checked
//! here, in one place, whoever sent it (CLI, HTTP API, scheduler).

use std::time::Instant;

use super::{Block, Call, CallLimits, Conference, Output, Persist};
use crate::call_id::CallId;
use crate::command::{Command, CommandError, Reply};
use crate::event::EventKind;
use crate::participant::ParticipantState;
use crate::room_number::RoomNumber;

impl Conference {
    /// Checks and carries out a command. Effects come out of
    /// [`Conference::poll_output`]; an [`Reply::Place`] asks the driver to place a call.
    pub fn command(&mut self, now: Instant, command: Command) -> Result<Reply, CommandError> {
        self.schedule_prune(now);
        match command {
            Command::Invite { room, number } => {
                self.known_room(&room)?;
                if self.is_blocked(now, &room, number.as_str()) {
                    return Err(CommandError::Blocked(number, room));
                }
                let limits = self.config.limits;
                if CallLimits::reached(limits.calls, self.calls.len()) {
                    return Err(CommandError::TooManyCalls);
                }
                if CallLimits::reached(limits.per_room, self.calls_in(&room)) {
                    return Err(CommandError::RoomFull(room));
                }
                // Inviting someone again re-dials them: an earlier invitation of the same
                // number into this room that is still under way is ended first.
                let mut earlier: Vec<CallId> = self
                    .calls
                    .iter()
                    .filter(|(_, c)| {
                        c.invited
                            && c.room == room
                            && c.number == number.as_str()
                            && c.state.as_ref().is_some_and(|s| s.is_active())
                    })
                    .map(|(id, _)| *id)
                    .collect();
                earlier.sort_unstable();
                for call in earlier {
                    self.outputs.push_back(Output::HangUp(call));
                }
                Ok(Reply::Place { room, number })
            }
            Command::HangUp {
                call,
                block,
                block_for,
            } => {
                let c = self
                    .calls
                    .get(&call)
                    .ok_or(CommandError::NoSuchCall(call))?;
                if block {
                    let until = block_for.map(|d| now + d);
                    let (room, who, invited) = (c.room.clone(), c.number.clone(), c.invited);
                    // A shared number's caller still in its menu is blocked there too.
                    let dialled = c.dialled.clone().filter(|d| *d != room);
                    for room in std::iter::once(room).chain(dialled) {
                        self.blocked
                            .entry(room.clone())
                            .or_default()
                            .insert(who.clone(), Block { until });
                        self.outputs.push_back(Output::Persist(Persist::Block {
                            room,
                            who: who.clone(),
                            invited,
                            lasts: block_for,
                        }));
                    }
                }
                self.outputs.push_back(Output::HangUp(call));
                Ok(Reply::Done)
            }
            Command::Unblock { room, who } => {
                let removed = self
                    .blocked
                    .get_mut(&room)
                    .and_then(|blocks| blocks.remove(&who))
                    .is_some_and(|b| b.until.is_none_or(|until| now < until));
                if !removed {
                    return Err(CommandError::NotBlocked(who, room));
                }
                self.outputs
                    .push_back(Output::Persist(Persist::Unblock { room, who }));
                Ok(Reply::Done)
            }
            Command::Mute { call, muted } => {
                let c = self
                    .calls
                    .get(&call)
                    .ok_or(CommandError::NoSuchCall(call))?;
                if !c.joined {
                    return Err(CommandError::NotInRoom(call));
                }
                self.set_muted(call, muted);
                Ok(Reply::Done)
            }
            Command::MuteAll {
                room,
                muted,
                except,
            } => {
                self.known_room(&room)?;
                let mut changed: Vec<CallId> = self
                    .calls
                    .iter()
                    .filter(|(id, c)| c.joined && c.room == room && Some(**id) != except)
                    .map(|(id, _)| *id)
                    .collect();
                changed.sort_unstable();
                for &call in &changed {
                    self.set_muted(call, muted);
                }
                if let Some(info) = self.rooms.get_mut(&room)
                    && info.muted != muted
                {
                    info.muted = muted;
                    self.outputs.push_back(Output::Persist(Persist::RoomMuted {
                        room: room.clone(),
                        muted,
                    }));
                }
                if muted || self.live.contains_key(&room) {
                    self.live.entry(room.clone()).or_default().mute_except =
                        except.filter(|_| muted);
                }
                self.event(
                    &room,
                    EventKind::RoomMuted {
                        muted,
                        except: except.filter(|_| muted),
                    },
                );
                Ok(Reply::Calls(changed))
            }
            Command::Lock { room, locked } => {
                self.known_room(&room)?;
                if !self.calls.values().any(|c| c.room == room) {
                    return Err(CommandError::NoConference(room));
                }
                let live = self.live.entry(room.clone()).or_default();
                if live.locked != locked {
                    live.locked = locked;
                    self.event(&room, EventKind::RoomLocked { locked });
                }
                Ok(Reply::Done)
            }
            Command::End { room } => {
                self.known_room(&room)?;
                let mut calls: Vec<CallId> = self
                    .calls
                    .iter()
                    .filter(|(_, c)| c.room == room)
                    .map(|(id, _)| *id)
                    .collect();
                if calls.is_empty() {
                    return Err(CommandError::NoConference(room));
                }
                calls.sort_unstable();
                for call in calls {
                    self.outputs.push_back(Output::HangUp(call));
                }
                Ok(Reply::Done)
            }
        }
    }

    /// A browser joins `room` as `number` (the logged-in user's number, or the invitee a
    /// personal link belongs to): checked like an invitation (the room exists or has a
    /// scheduled conference, `number` is not blocked, call limits), then listed as
    /// connected at once (the login or link identifies it: no menu, no PIN). The driver
    /// puts its media in the room; the room reports the join as for any call.
    pub fn browser_joined(
        &mut self,
        now: Instant,
        call: CallId,
        room: RoomNumber,
        number: &str,
    ) -> Result<(), CommandError> {
        self.known_room(&room)?;
        if self.is_blocked(now, &room, number) {
            return Err(CommandError::NotAllowed(room));
        }
        let limits = self.config.limits;
        if CallLimits::reached(limits.calls, self.calls.len()) {
            return Err(CommandError::TooManyCalls);
        }
        if CallLimits::reached(limits.per_room, self.calls_in(&room)) {
            return Err(CommandError::RoomFull(room));
        }
        self.schedule_prune(now);
        self.live.entry(room.clone()).or_default();
        self.calls.insert(
            call,
            Call {
                dialled: None,
                room,
                caller: None,
                number: number.to_owned(),
                invited: false,
                state: None,
                joined: false,
                muted: false,
                ring_deadline: None,
            },
        );
        self.set_state(call, ParticipantState::Connected);
        Ok(())
    }

    fn known_room(&self, room: &RoomNumber) -> Result<(), CommandError> {
        if self.rooms.contains_key(room) || self.is_scheduled(room) {
            Ok(())
        } else {
            Err(CommandError::NoSuchRoom(room.clone()))
        }
    }
}
