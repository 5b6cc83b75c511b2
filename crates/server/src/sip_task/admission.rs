//! Admission: looking the dialled number up (a room, a shared dial-in number, or nothing),
//! asking the throttle whether the caller may try PINs, and checking the PINs the voice
//! menu collects. Database work runs off the SIP loop; answers come back as messages.

use std::net::SocketAddr;
use std::time::Instant;

use konferenz_conference::{CallerKey, Entry, Pin, PinVerdict, RoomNumber, ThrottleEvent};
use konferenz_media::{Prompt, decode_wav};
use konferenz_sip::{CallHandle, LocalMedia, NegotiatedMedia};
use tracing::{debug, info, warn};

use super::{CallEntry, State};
use crate::room::RoomCommand;

/// The outcome of looking a dialled number up.
pub(super) struct Lookup {
    call: CallHandle,
    media: Option<NegotiatedMedia>,
    found: Result<Option<konferenz_store::Room>, String>,
    /// The room's own on-hold music, decoded off the loop.
    music: Option<Prompt>,
}

/// The outcome of a PIN check: the room it opens (with its own music), if any.
pub(super) struct PinLookup {
    call: CallHandle,
    found: Result<Option<(RoomNumber, Option<Prompt>)>, String>,
}

/// Decodes a room's own music file (blocking file I/O and resampling, so not on the loop).
async fn room_music(room: &konferenz_store::Room) -> Option<Prompt> {
    let path = room.music.clone()?;
    let result = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        decode_wav(&bytes).map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(prompt)) => Some(prompt),
        Ok(Err(error)) => {
            warn!(room = %room.number, file = room.music.as_deref().unwrap_or_default(), %error, "cannot use the room's music; playing the default");
            None
        }
        Err(_) => None,
    }
}

impl State {
    pub(super) fn on_incoming(
        &mut self,
        call: CallHandle,
        dialled: String,
        caller_uri: &str,
        source: SocketAddr,
        media: Option<NegotiatedMedia>,
    ) {
        let number = RoomNumber::parse(&dialled).ok();
        let shared = number
            .as_ref()
            .is_some_and(|n| self.shared_numbers.contains(n));
        self.calls.insert(
            call,
            CallEntry {
                dialled,
                room: number.clone(),
                caller: CallerKey::new(source.ip(), caller_uri),
                shared,
                port: None,
                sockets: None,
                entry: None,
                joined: false,
                ssrc: rand::random(),
                identity: konferenz_sip::uri_user(caller_uri),
                invited: false,
            },
        );
        let (store, lookups) = (self.store.clone(), self.lookups.clone());
        tokio::spawn(async move {
            let found = match (number, shared) {
                (None, _) => Ok(None),
                // A shared number has no room row; `Some` of a placeholder is not needed.
                (Some(_), true) => Ok(None),
                (Some(n), false) => store.find_room(&n).await.map_err(|e| e.to_string()),
            };
            let music = match &found {
                Ok(Some(room)) => room_music(room).await,
                _ => None,
            };
            let _ = lookups.send(Lookup {
                call,
                media,
                found,
                music,
            });
        });
    }

    pub(super) fn on_lookup(&mut self, lookup: Lookup) {
        let now = Instant::now();
        let call = lookup.call;
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let blocked = entry
            .room
            .as_ref()
            .and_then(|r| self.blocked.get(r))
            .is_some_and(|set| entry.identity.as_ref().is_some_and(|id| set.contains(id)));
        if blocked {
            info!(call = %call, "caller was hung up with block; refusing");
            let _ = self.endpoint.reject(now, call, 403);
            return;
        }
        let default_language = self.prompts.default_language();
        let mut language_switch = self.prompts.language_switch;
        let (kind, language) = match (&lookup.found, entry.shared, &entry.room) {
            (Err(error), _, _) => {
                warn!(call = %call, %error, "room lookup failed");
                let _ = self.endpoint.reject(now, call, 503);
                return;
            }
            (Ok(_), true, Some(number)) => {
                let kind = match self.throttle.admit(now, &entry.caller, number) {
                    Ok(()) => Entry::Shared,
                    Err(refusal) => Entry::Refused(refusal),
                };
                (kind, default_language)
            }
            (Ok(Some(room)), false, Some(number)) => {
                let kind = if room.pin.is_none() {
                    Entry::Room {
                        room: number.clone(),
                        pin_required: false,
                    }
                } else {
                    match self.throttle.admit(now, &entry.caller, number) {
                        Ok(()) => Entry::Room {
                            room: number.clone(),
                            pin_required: true,
                        },
                        Err(refusal) => Entry::Refused(refusal),
                    }
                };
                language_switch = room.language_switch.unwrap_or(language_switch);
                self.rooms.set_music(number, lookup.music);
                (kind, room.language.unwrap_or(default_language))
            }
            _ => {
                info!(call = %call, dialled = %entry.dialled, "no such room");
                let _ = self.endpoint.reject(now, call, 404);
                return;
            }
        };
        if matches!(kind, Entry::Refused(_)) {
            info!(call = %call, "caller or room locked out; refusing PIN entry");
        }
        let menu = self.dialin.menu(language, language_switch);
        let sockets = match self.ports.allocate() {
            Ok(s) => s,
            Err(error) => {
                warn!(call = %call, %error, "no RTP port for the call");
                let _ = self.endpoint.reject(now, call, 503);
                return;
            }
        };
        let local = LocalMedia {
            rtp: SocketAddr::new(self.media_ip, sockets.port),
        };
        entry.port = Some(sockets.port);
        entry.sockets = Some(sockets);
        entry.entry = Some((kind, menu));
        if self.endpoint.accept(now, call, local).is_err() {
            // The caller cancelled while we looked the room up.
            return;
        }
        if let Some(media) = lookup.media {
            self.on_media(call, media);
        }
    }

    /// The menu has a PIN: which room does it open? (Off the loop; see `on_pin_lookup`.)
    pub(super) fn check_pin(&mut self, call: CallHandle, pin: Pin) {
        let Some(entry) = self.calls.get(&call) else {
            return;
        };
        let (store, lookups) = (self.store.clone(), self.pin_lookups.clone());
        let dialled = RoomNumber::parse(&entry.dialled).ok();
        let shared = entry.shared;
        tokio::spawn(async move {
            let room = match (shared, dialled) {
                (true, _) => store.find_room_by_pin(&pin).await,
                (false, Some(n)) => store
                    .find_room(&n)
                    .await
                    .map(|r| r.filter(|r| r.pin.as_ref() == Some(&pin))),
                (false, None) => Ok(None),
            };
            let found = match room {
                // Only a shared number's caller moves to another room, whose music may differ.
                Ok(Some(room)) if shared => {
                    Ok(Some((room.number.clone(), room_music(&room).await)))
                }
                Ok(Some(room)) => Ok(Some((room.number, None))),
                Ok(None) => Ok(None),
                Err(e) => Err(e.to_string()),
            };
            let _ = lookups.send(PinLookup { call, found });
        });
    }

    pub(super) fn on_pin_lookup(&mut self, lookup: PinLookup) {
        let now = Instant::now();
        let call = lookup.call;
        let Some(entry) = self.calls.get(&call) else {
            return;
        };
        let Ok(dialled) = RoomNumber::parse(&entry.dialled) else {
            return;
        };
        let verdict = match lookup.found {
            Ok(found) => {
                let room = found.map(|(number, music)| {
                    if entry.shared {
                        self.rooms.set_music(&number, music);
                    }
                    number
                });
                self.throttle
                    .settle(now, &entry.caller, &dialled, room.as_ref())
            }
            Err(error) => {
                // Not the caller's fault: not counted by the throttle.
                warn!(call = %call, %error, "PIN lookup failed");
                PinVerdict::Wrong
            }
        };
        if matches!(verdict, PinVerdict::Wrong) {
            debug!(call = %call, "wrong PIN");
        }
        if let Some(room) = &entry.room {
            self.rooms
                .send(room, RoomCommand::PinChecked { call, verdict });
        }
        while let Some(event) = self.throttle.poll_event() {
            match event {
                ThrottleEvent::RoomLocked { room, failures, .. } => {
                    warn!(%room, failures, "too many wrong PINs for this number; PIN entry locked for a while");
                }
                ThrottleEvent::CallerLocked { addr, failures, .. } => {
                    warn!(%addr, failures, "caller locked out after wrong PINs");
                }
            }
        }
    }
}
