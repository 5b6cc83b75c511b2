//! Between the endpoint and the conference machine: arriving calls are admitted (and
//! answered or refused) by the machine's verdict, commands from the control boundary go
//! to the machine, and what it asks — hang up, mute in the mixer, persist, publish — is
//! carried out here.

use std::net::SocketAddr;
use std::time::Instant;

use konferenz_conference::{
    Admission, CallId, CommandError, ConferenceOutput, Reply, ThrottleEvent,
};
use konferenz_sip::{CallHandle, LocalMedia, LocalSrtp, NegotiatedMedia, OutgoingCall};
use tracing::{debug, info, warn};

use super::{CallMedia, State};
use crate::control::{Answer, Request, Route};
use crate::room::RoomCommand;

impl State {
    pub(super) fn on_incoming(
        &mut self,
        call: CallHandle,
        dialled: &str,
        caller_uri: &str,
        source: SocketAddr,
        media: Option<NegotiatedMedia>,
    ) {
        let now = Instant::now();
        let caller_id = konferenz_sip::uri_user(caller_uri);
        let admission = self.conference.incoming(
            now,
            CallId(call.0),
            dialled,
            Self::caller_key(source, caller_uri),
            caller_id.as_deref(),
        );
        let (room, entry, language, language_switch) = match admission {
            Admission::Reject { status } => {
                info!(call = %call, status, "call refused");
                let _ = self.endpoint.reject(now, call, status);
                return;
            }
            Admission::Accept {
                room,
                entry,
                language,
                language_switch,
            } => (room, entry, language, language_switch),
        };
        let sockets = match self.ports.allocate() {
            Ok(s) => s,
            Err(error) => {
                warn!(call = %call, %error, "no RTP port for the call");
                self.conference
                    .ended(CallId(call.0), konferenz_conference::End::Normal);
                let _ = self.endpoint.reject(now, call, 503);
                return;
            }
        };
        let srtp_key = rand::random();
        let local = LocalMedia {
            rtp: SocketAddr::new(self.media_ip, sockets.port),
            srtp: Some(LocalSrtp {
                key: srtp_key,
                savp: false,
            }),
        };
        let menu = self.dialin.menu(language, language_switch);
        self.calls.insert(
            call,
            CallMedia {
                room: Some(room),
                port: Some(sockets.port),
                sockets: Some(sockets),
                entry: Some((entry, menu)),
                joined: false,
                ssrc: rand::random(),
                srtp_key,
            },
        );
        if self.endpoint.accept(now, call, local).is_err() {
            // The caller cancelled already.
            return;
        }
        if let Some(media) = media {
            self.on_media(call, media);
        }
    }

    pub(super) fn on_command(&mut self, request: Request) {
        let Request {
            command,
            route,
            reply,
        } = request;
        let now = Instant::now();
        let answer = match self.conference.command(now, command) {
            Ok(Reply::Done) => Ok(Answer::Done),
            Ok(Reply::Calls(calls)) => Ok(Answer::Calls(calls)),
            Ok(Reply::Place { room, number }) => match route {
                Some(route) => self.place(now, room, &number, route).map(Answer::Placed),
                None => Err(CommandError::Unroutable("no route".into())),
            },
            Err(e) => Err(e),
        };
        // Sent after the outputs are drained (see `State::answers`).
        self.answers.push((reply, answer));
    }

    /// Places an invitation's call and tells the machine.
    fn place(
        &mut self,
        now: Instant,
        room: konferenz_conference::RoomNumber,
        number: &konferenz_conference::Dialable,
        route: Route,
    ) -> Result<CallId, CommandError> {
        let sockets = self
            .ports
            .allocate()
            .map_err(|e| CommandError::Unroutable(e.to_string()))?;
        let port = sockets.port;
        let srtp_key = rand::random();
        let call = OutgoingCall {
            target: route.target,
            next_hop: route.next_hop,
            transport: route.transport,
            from: format!(
                "sip:{}@{}",
                self.trunk.caller_id,
                route.from_host.unwrap_or_else(|| match self.media_ip {
                    std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                    v4 => v4.to_string(),
                })
            ),
            display_name: Some(format!("Conference {room}")),
            asserted_identity: self.trunk.asserted_identity.clone(),
            credentials: self.trunk.username.clone().zip(self.trunk.password.clone()),
            local: LocalMedia {
                rtp: SocketAddr::new(self.media_ip, port),
                srtp: Some(LocalSrtp {
                    key: srtp_key,
                    savp: false,
                }),
            },
        };
        let handle = match self.endpoint.invite(now, call) {
            Ok(handle) => handle,
            Err(e) => {
                self.ports.release(port);
                return Err(CommandError::Unroutable(e.to_string()));
            }
        };
        let menu = self.dialin.menu(self.default_language, false);
        self.calls.insert(
            handle,
            CallMedia {
                room: Some(room.clone()),
                port: Some(port),
                sockets: Some(sockets),
                entry: Some((
                    konferenz_conference::Entry::Room {
                        room: room.clone(),
                        pin_required: false,
                    },
                    menu,
                )),
                joined: false,
                ssrc: rand::random(),
                srtp_key,
            },
        );
        let id = CallId(handle.0);
        self.conference.invitation_placed(now, id, room, number);
        Ok(id)
    }

    pub(super) fn on_conference_output(&mut self, output: ConferenceOutput) {
        let now = Instant::now();
        match output {
            ConferenceOutput::HangUp(call) if self.is_browser(call) => {
                self.end_browser(call, "hung up");
            }
            ConferenceOutput::HangUp(call) => {
                debug!(call = %call, "hanging up");
                let _ = self.endpoint.hangup(now, CallHandle(call.0));
            }
            ConferenceOutput::Mute { room, call, muted } => {
                let handle = CallHandle(call.0);
                let media_room = self
                    .calls
                    .get(&handle)
                    .and_then(|c| c.room.clone())
                    .or_else(|| self.browser_room(call).cloned());
                if let Some(media_room) = media_room {
                    debug_assert_eq!(media_room, room);
                    self.rooms.send(
                        &media_room,
                        RoomCommand::Mute {
                            call: CallId(handle.0),
                            muted,
                        },
                    );
                }
            }
            ConferenceOutput::Event { room, kind } => {
                self.bus.publish(room, kind);
            }
            ConferenceOutput::Announce { room, phrases } => {
                info!(%room, ?phrases, "announcing to the room");
                self.rooms.send(&room, RoomCommand::Announce(phrases));
            }
            ConferenceOutput::Persist(write) => self.persist.write(write),
            ConferenceOutput::Throttle(event) => match event {
                ThrottleEvent::RoomLocked { room, failures, .. } => {
                    warn!(%room, failures, "too many wrong PINs for this number; PIN entry locked for a while");
                    crate::audit::spawn_record(
                        &self.store,
                        "system",
                        "pin.lockout.room",
                        room.to_string(),
                        format!("{failures} wrong PINs"),
                    );
                }
                ThrottleEvent::CallerLocked { addr, failures, .. } => {
                    warn!(%addr, failures, "caller locked out after wrong PINs");
                    crate::audit::spawn_record(
                        &self.store,
                        "system",
                        "pin.lockout.caller",
                        addr.to_string(),
                        format!("{failures} wrong PINs"),
                    );
                }
            },
        }
    }
}
