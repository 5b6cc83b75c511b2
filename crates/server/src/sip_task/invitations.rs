//! Invitations: the server calls a number through the trunk and puts whoever answers
//! straight into the room (no PIN), tracking the participant's live state.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use konferenz_conference::{CallerKey, Entry, ParticipantState, RoomNumber};
use konferenz_sip::{CallHandle, EndReason, LocalMedia, OutgoingCall, Transport};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::{CallEntry, State};

/// What the HTTP API asks of the SIP task.
#[derive(Debug)]
pub enum SipCommand {
    /// Call `number` into `room`.
    Invite {
        room: RoomNumber,
        number: String,
        /// The Request-URI (the trunk template filled in) and where to send it.
        target: String,
        next_hop: SocketAddr,
        transport: Transport,
        /// The host of our From: the trunk's domain for calls through the PBX (which may
        /// check it against its realm), None (our address) for registered phones.
        from_host: Option<String>,
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// The ring time of an invitation is over.
    RingTimeout { call: CallHandle },
    /// Hang a call up (any participant, invited or dialled in); `block` bars its caller ID
    /// or invited number from this room from now on.
    HangUp {
        call: CallHandle,
        block: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Mute or unmute everyone in `room` except `except` (the host), e.g. "mute all but
    /// the host"; replies with the calls changed.
    MuteRoom {
        room: RoomNumber,
        muted: bool,
        except: Option<CallHandle>,
        reply: oneshot::Sender<Vec<u64>>,
    },
    /// Stop or resume mixing a participant's audio.
    Mute {
        call: CallHandle,
        muted: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

impl State {
    pub(super) fn on_command(&mut self, command: SipCommand) {
        match command {
            SipCommand::Invite {
                room,
                number,
                target,
                next_hop,
                transport,
                from_host,
                reply,
            } => {
                let route = (target, next_hop, transport, from_host);
                let result = self.invite(room, &number, route);
                let _ = reply.send(result);
            }
            SipCommand::HangUp { call, block, reply } => {
                if block
                    && let Some(entry) = self.calls.get(&call)
                    && let (Some(room), Some(identity)) =
                        (entry.room.clone(), entry.identity.clone())
                {
                    self.blocked.entry(room).or_default().insert(identity);
                }
                let result = self
                    .endpoint
                    .hangup(Instant::now(), call)
                    .map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
            SipCommand::Mute { call, muted, reply } => {
                let room = self
                    .calls
                    .get(&call)
                    .filter(|c| c.joined)
                    .and_then(|c| c.room.clone());
                let result = match room {
                    Some(room) => {
                        self.rooms
                            .send(&room, crate::room::RoomCommand::Mute { call, muted });
                        self.participants.set_muted(call.0, muted);
                        Ok(())
                    }
                    None => Err(format!("no call {} in a room", call.0)),
                };
                let _ = reply.send(result);
            }
            SipCommand::MuteRoom {
                room,
                muted,
                except,
                reply,
            } => {
                let mut changed: Vec<u64> = self
                    .calls
                    .iter()
                    .filter(|(call, c)| {
                        c.joined && c.room.as_ref() == Some(&room) && Some(**call) != except
                    })
                    .map(|(call, _)| call.0)
                    .collect();
                changed.sort_unstable();
                for &call in &changed {
                    let call = CallHandle(call);
                    self.rooms
                        .send(&room, crate::room::RoomCommand::Mute { call, muted });
                    self.participants.set_muted(call.0, muted);
                }
                let _ = reply.send(changed);
            }
            SipCommand::RingTimeout { call } => {
                let ringing = self.participants.state(call.0).is_some_and(|s| {
                    matches!(s, ParticipantState::Calling | ParticipantState::Ringing)
                });
                if ringing {
                    self.participants.set(call.0, ParticipantState::NoAnswer);
                    let _ = self.endpoint.hangup(Instant::now(), call);
                }
            }
        }
    }

    fn invite(
        &mut self,
        room: RoomNumber,
        number: &str,
        (target, next_hop, transport, from_host): (String, SocketAddr, Transport, Option<String>),
    ) -> Result<u64, String> {
        let now = Instant::now();
        // Inviting someone again re-dials them: an earlier invitation of the same number
        // into this room that is still under way (calling, ringing, connected) is ended.
        let earlier: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(call, c)| {
                c.invited
                    && c.room.as_ref() == Some(&room)
                    && c.identity.as_deref() == Some(number)
                    && self
                        .participants
                        .state(call.0)
                        .is_some_and(|s| s.is_active())
            })
            .map(|(call, _)| *call)
            .collect();
        for call in earlier {
            debug!(call = %call, "re-invited: ending the earlier invitation");
            let _ = self.endpoint.hangup(now, call);
        }
        let sockets = self.ports.allocate().map_err(|e| e.to_string())?;
        let port = sockets.port;
        let call = OutgoingCall {
            target,
            next_hop,
            transport,
            from: format!(
                "sip:{}@{}",
                self.trunk.caller_id,
                from_host.unwrap_or_else(|| match self.media_ip {
                    std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                    v4 => v4.to_string(),
                })
            ),
            display_name: Some(format!("Conference {room}")),
            asserted_identity: self.trunk.asserted_identity.clone(),
            credentials: self.trunk.username.clone().zip(self.trunk.password.clone()),
            local: LocalMedia {
                rtp: SocketAddr::new(self.media_ip, port),
            },
        };
        let handle = match self.endpoint.invite(now, call) {
            Ok(handle) => handle,
            Err(e) => {
                self.ports.release(port);
                return Err(e.to_string());
            }
        };
        let menu = self.dialin.menu(self.prompts.default_language(), false);
        self.calls.insert(
            handle,
            CallEntry {
                dialled: room.to_string(),
                room: Some(room.clone()),
                caller: CallerKey::new(next_hop.ip(), number),
                shared: false,
                port: Some(port),
                sockets: Some(sockets),
                entry: Some((
                    Entry::Room {
                        room: room.clone(),
                        pin_required: false,
                    },
                    menu,
                )),
                joined: false,
                ssrc: rand::random(),
                identity: Some(number.to_owned()),
                invited: true,
            },
        );
        self.participants
            .add(handle.0, &room, number, ParticipantState::Calling);
        let (commands, ring) = (
            self.commands.clone(),
            Duration::from_secs(self.trunk.ring_timeout_secs),
        );
        tokio::spawn(async move {
            tokio::time::sleep(ring).await;
            let _ = commands.send(SipCommand::RingTimeout { call: handle });
        });
        Ok(handle.0)
    }

    /// An invited participant's call ended: record why.
    pub(super) fn invitation_ended(&mut self, call: CallHandle, reason: &EndReason) {
        let Some(current) = self.participants.state(call.0) else {
            return;
        };
        let state = match reason {
            EndReason::Failed { status, reason } => ParticipantState::from_failure(*status, reason),
            EndReason::BadAnswer => ParticipantState::Failed {
                status: 488,
                reason: "no usable SDP answer".into(),
            },
            // Cancelled at the ring timeout: already marked no-answer.
            _ if current == ParticipantState::NoAnswer => return,
            _ => ParticipantState::Left,
        };
        if matches!(state, ParticipantState::Failed { .. }) {
            warn!(call = %call, state = %state, "invitation failed");
        }
        self.participants.set(call.0, state);
    }
}
