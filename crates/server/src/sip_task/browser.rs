//! Browsers as participants, on the SIP task's side: admission by the conference machine
//! (like an invitation: room, blocks, limits), the SDP answer, the media in the room over
//! the WebRTC task's link, reconnects (a new peer connection for the same participant) and
//! the end of the call (left, hung up by a moderator, media timeout, conference ended).

use std::time::Instant;

use konferenz_conference::{CallId, End, Entry, RoomNumber};
use konferenz_media::{Codec, LegConfig};
use tracing::{debug, info};

use super::State;
use crate::browser::{BrowserRequest, Join, JoinError, Leave, Owner};
use crate::room::{MediaPath, MediaTarget, RoomCommand};
use crate::webrtc::{Answered, BROWSER_ADDR};

/// Browser call ids start here (SIP calls count from 1; they never meet).
pub(super) const FIRST_BROWSER_CALL: u64 = 1 << 40;

/// A browser in a room.
pub(super) struct BrowserCall {
    room: RoomNumber,
    owner: Owner,
}

impl State {
    pub(super) fn on_browser(&mut self, request: BrowserRequest) {
        match request {
            BrowserRequest::Join(join) if join.call.is_some() => self.browser_reconnect(join),
            BrowserRequest::Join(join) => self.browser_join(join),
            BrowserRequest::Leave(Leave {
                call,
                owner,
                room,
                reply,
            }) => {
                let result = match self.browsers.get(&call) {
                    Some(b) if b.owner == owner && room.as_ref().is_none_or(|r| *r == b.room) => {
                        self.end_browser(call, "left");
                        Ok(())
                    }
                    _ => Err(JoinError::NoSuchCall),
                };
                let _ = reply.send(result);
            }
        }
    }

    fn browser_join(&mut self, join: Join) {
        let Join {
            room,
            number,
            owner,
            offer,
            reply,
            ..
        } = join;
        let Some(webrtc) = self.webrtc.clone() else {
            let _ = reply.send(Err(JoinError::Disabled));
            return;
        };
        let (answer, payload_type) = match webrtc.answer(&offer) {
            Ok(a) => a,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let now = Instant::now();
        let call = CallId(self.next_browser_call);
        self.next_browser_call += 1;
        if let Err(e) = self
            .conference
            .browser_joined(now, call, room.clone(), &number)
        {
            let _ = reply.send(Err(e.into()));
            return;
        }
        let sdp = answer.sdp.clone();
        let Some(link) = webrtc.adopt(call, answer) else {
            self.conference.ended(call, End::Normal);
            let _ = reply.send(Err(JoinError::Refused(
                konferenz_conference::CommandError::Overloaded,
            )));
            return;
        };
        info!(%call, %room, "browser joins");
        debug!(%call, %number, "browser participant");
        self.browsers.insert(
            call,
            BrowserCall {
                room: room.clone(),
                owner,
            },
        );
        let menu = self.dialin.menu(self.default_language, false);
        self.rooms.join(
            &room,
            RoomCommand::Join {
                call,
                io: MediaPath::Browser(link),
                media: MediaTarget {
                    config: LegConfig {
                        codec: Codec::Opus,
                        payload_type,
                        dtmf_payload_type: None,
                        ssrc: rand::random(),
                    },
                    remote: Some(BROWSER_ADDR),
                    send: true,
                    // DTLS-SRTP is the WebRTC task's: the room sees plain RTP.
                    srtp: None,
                },
                entry: Entry::Room {
                    room: room.clone(),
                    pin_required: false,
                },
                menu,
                wallclock: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default(),
            },
        );
        let _ = reply.send(Ok(Answered { call, sdp }));
    }

    /// The same participant, a new peer connection (the browser's network dropped, or it
    /// closed its connection and made a new one).
    fn browser_reconnect(&mut self, join: Join) {
        let Join {
            room,
            owner,
            offer,
            call,
            reply,
            ..
        } = join;
        let Some(call) = call else { return };
        let known = self
            .browsers
            .get(&call)
            .is_some_and(|b| b.owner == owner && b.room == room);
        let Some(webrtc) = self.webrtc.clone().filter(|_| known) else {
            let _ = reply.send(Err(JoinError::NoSuchCall));
            return;
        };
        let answer = match webrtc.answer(&offer) {
            Ok((a, _)) => a,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let sdp = answer.sdp.clone();
        if !webrtc.replace(call, answer) {
            let _ = reply.send(Err(JoinError::Refused(
                konferenz_conference::CommandError::Overloaded,
            )));
            return;
        }
        let _ = reply.send(Ok(Answered { call, sdp }));
    }

    /// Whether `call` is a browser's.
    pub(super) fn is_browser(&self, call: CallId) -> bool {
        self.browsers.contains_key(&call)
    }

    /// The room a browser call is in.
    pub(super) fn browser_room(&self, call: CallId) -> Option<&RoomNumber> {
        self.browsers.get(&call).map(|b| &b.room)
    }

    /// Ends a browser's call: out of the room, the machine and the WebRTC task.
    pub(super) fn end_browser(&mut self, call: CallId, why: &str) {
        let Some(browser) = self.browsers.remove(&call) else {
            return;
        };
        info!(%call, room = %browser.room, why, "browser call ended");
        self.conference.ended(call, End::Normal);
        self.rooms
            .leave(&browser.room, konferenz_sip::CallHandle(call.0));
        if let Some(webrtc) = &self.webrtc {
            webrtc.close(call);
        }
    }
}
