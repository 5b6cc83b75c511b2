//! The signalling side: placing calls at the configured rate through the workspace's
//! sans-IO SIP endpoint, answering (answer mode), acting on its events, hanging up.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use konferenz_sip::{
    EndReason, Event, LocalMedia, NegotiatedMedia, OutgoingCall, Output, Transport,
};

use crate::audio::Law;
use crate::config::Mode;
use crate::run::Runner;
use crate::session::{Room, Stream};

/// Where a call is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    Setup,
    Up,
    Ended,
}

/// One call the tool placed or answered.
pub struct CallRec {
    /// The SIP call (None for Janus participants).
    pub handle: Option<konferenz_sip::CallHandle>,
    pub room: usize,
    pub started: Instant,
    pub state: CallState,
    pub stream: Option<Stream>,
}

/// Signalling counters for the report.
#[derive(Default)]
pub struct SipCounters {
    pub failures: BTreeMap<String, usize>,
    pub setup_ms: Vec<f64>,
    pub first_invite: Option<Instant>,
    pub last_answer: Option<Instant>,
    pub answered: usize,
    /// Calls that ended before we hung up.
    pub dropped: usize,
    pub byes_sent: usize,
    /// Final answers to our BYEs by status.
    pub bye_answers: BTreeMap<u16, usize>,
}

impl Runner {
    /// Places call number `i` (room `i % rooms`).
    pub(crate) fn place_call(&mut self, now: Instant, i: usize) {
        let Mode::Call { server } = self.cfg.mode else {
            return;
        };
        let room = i % self.cfg.rooms.max(1);
        let rtp = self.rtp_addr(i);
        let call = OutgoingCall {
            target: format!("sip:{}@{server}", self.rooms[room].name),
            next_hop: server,
            transport: Transport::Udp,
            from: format!("sip:load{i}@{}", self.sip_addr),
            display_name: None,
            asserted_identity: None,
            credentials: None,
            local: LocalMedia::plain(rtp),
        };
        self.sip_stats.first_invite.get_or_insert(now);
        match self.endpoint.invite(now, call) {
            Ok(handle) => {
                self.by_handle.insert(handle, self.calls.len());
                self.calls.push(CallRec {
                    handle: Some(handle),
                    room,
                    started: now,
                    state: CallState::Setup,
                    stream: None,
                });
            }
            Err(e) => {
                *self
                    .sip_stats
                    .failures
                    .entry(format!("invite: {e}"))
                    .or_default() += 1
            }
        }
    }

    /// The shared RTP socket address call `i` advertises.
    pub(crate) fn rtp_addr(&self, i: usize) -> SocketAddr {
        self.rtp_addrs[i % self.rtp_addrs.len()]
    }

    /// Feeds a SIP datagram to the endpoint (noting answers to our BYEs on the way).
    pub(crate) fn on_sip_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if let Some(status) = bye_response_status(bytes) {
            *self.sip_stats.bye_answers.entry(status).or_default() += 1;
        }
        self.endpoint.handle_datagram(now, from, bytes);
    }

    /// Sends what the endpoint wants sent and acts on its events.
    pub(crate) fn drain_sip(&mut self, now: Instant) {
        while let Some(output) = self.endpoint.poll_output() {
            match output {
                Output::Transmit(t) => {
                    let _ = self.sip.send_to(&t.bytes, t.dest);
                }
                Output::Event(event) => self.on_event(now, event),
            }
        }
    }

    fn on_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Answered { call, media } => {
                if let Some(&i) = self.by_handle.get(&call) {
                    self.call_up(now, i, &media);
                }
            }
            Event::IncomingCall {
                call, room, media, ..
            } => self.incoming(now, call, room, media),
            Event::MediaChanged { call, media } => {
                if let Some(&i) = self.by_handle.get(&call) {
                    self.start_stream(now, i, &media);
                }
            }
            Event::Established { call } => {
                if let Some(&i) = self.by_handle.get(&call)
                    && self.calls[i].state == CallState::Setup
                {
                    self.calls[i].state = CallState::Up;
                    self.count_answer(now, i);
                }
            }
            Event::Ended { call, reason } => {
                if let Some(&i) = self.by_handle.get(&call) {
                    self.call_ended(i, reason);
                }
            }
            _ => {}
        }
    }

    pub(crate) fn count_answer(&mut self, now: Instant, i: usize) {
        let ms = now
            .saturating_duration_since(self.calls[i].started)
            .as_secs_f64()
            * 1000.0;
        self.sip_stats.setup_ms.push(ms);
        self.sip_stats.answered += 1;
        self.sip_stats.last_answer = Some(now);
    }

    fn call_up(&mut self, now: Instant, i: usize, media: &NegotiatedMedia) {
        if self.calls[i].state != CallState::Setup {
            return;
        }
        self.calls[i].state = CallState::Up;
        self.count_answer(now, i);
        self.start_stream(now, i, media);
        if let Some(pin) = self.cfg.pin.clone() {
            let start = self.tick_at(now + self.cfg.pin_delay);
            let ok = self.calls[i]
                .stream
                .as_mut()
                .is_some_and(|s| s.enter_keys(&format!("{pin}#"), start));
            if !ok {
                *self
                    .sip_stats
                    .failures
                    .entry("no telephone-event for the PIN".into())
                    .or_default() += 1;
            }
        }
    }

    /// Creates (or re-targets) call `i`'s stream from the negotiated media.
    pub(crate) fn start_stream(&mut self, _now: Instant, i: usize, media: &NegotiatedMedia) {
        let Some(remote) = media.remote_rtp else {
            *self
                .sip_stats
                .failures
                .entry("answer without RTP address".into())
                .or_default() += 1;
            return;
        };
        let law = Law::from_name(media.codec.name).unwrap_or(self.cfg.codec);
        let socket = i % self.rtp_addrs.len();
        match &mut self.calls[i].stream {
            Some(s) => {
                self.by_source.remove(&(s.socket, s.remote));
                s.remote = remote;
                s.law = law;
                s.payload_type = media.payload_type;
                s.dtmf_payload_type = media.dtmf_payload_type;
            }
            None => {
                self.calls[i].stream = Some(Stream::new(
                    i,
                    remote,
                    socket,
                    law,
                    media.payload_type,
                    media.dtmf_payload_type,
                    self.cfg.late_after,
                ));
                let room = self.calls[i].room;
                self.rooms[room].members.push(i);
            }
        }
        self.by_source.insert((socket, remote), i);
    }

    fn incoming(
        &mut self,
        now: Instant,
        call: konferenz_sip::CallHandle,
        user: String,
        media: Option<NegotiatedMedia>,
    ) {
        let i = self.calls.len();
        let key: String = match self.cfg.answer_room_prefix {
            0 => "all".into(),
            n => user.chars().take(n).collect(),
        };
        let room = match self.rooms.iter().position(|r| r.name == key) {
            Some(r) => r,
            None => {
                self.rooms.push(Room::new(key));
                self.rooms.len() - 1
            }
        };
        self.sip_stats.first_invite.get_or_insert(now);
        self.by_handle.insert(call, i);
        self.calls.push(CallRec {
            handle: Some(call),
            room,
            started: now,
            state: CallState::Setup,
            stream: None,
        });
        let rtp = self.rtp_addr(i);
        if let Err(e) = self.endpoint.accept(now, call, LocalMedia::plain(rtp)) {
            *self
                .sip_stats
                .failures
                .entry(format!("accept: {e}"))
                .or_default() += 1;
            return;
        }
        if let Some(media) = media {
            self.start_stream(now, i, &media);
        }
    }

    fn call_ended(&mut self, i: usize, reason: EndReason) {
        let call = &mut self.calls[i];
        let was = call.state;
        call.state = CallState::Ended;
        if let Some(s) = &call.stream {
            self.by_source.remove(&(s.socket, s.remote));
        }
        let room = &mut self.rooms[call.room];
        room.members.retain(|&m| m != i);
        let key = match reason {
            EndReason::LocalHangup if self.hanging_up => return,
            EndReason::Failed { status, reason } => format!("{status} {reason}"),
            other => format!("{other:?}"),
        };
        if was == CallState::Up {
            self.sip_stats.dropped += 1;
            *self
                .sip_stats
                .failures
                .entry(format!("dropped: {key}"))
                .or_default() += 1;
        } else {
            *self.sip_stats.failures.entry(key).or_default() += 1;
        }
    }

    /// Hangs up every call (BYE for answered ones, CANCEL for ringing ones).
    pub(crate) fn hangup_all(&mut self, now: Instant) {
        self.hanging_up = true;
        for i in 0..self.calls.len() {
            if self.calls[i].state == CallState::Ended {
                continue;
            }
            if self.calls[i].state == CallState::Up {
                self.sip_stats.byes_sent += 1;
            }
            if let Some(handle) = self.calls[i].handle {
                let _ = self.endpoint.hangup(now, handle);
            }
        }
        if let Some(janus) = &self.janus {
            janus.hang_up();
        }
        self.drain_sip(now);
    }
}

/// The status of a SIP response to a BYE (`CSeq: n BYE`), else None. A sniff, not a parser:
/// the endpoint parses the message properly right after.
pub fn bye_response_status(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(2048))?).ok()?;
    let status: u16 = text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()?;
    let cseq = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("cseq:"))?;
    (cseq.split_whitespace().last()? == "BYE" && status >= 200).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bye_answers_are_recognised() {
        let ok = b"SIP/2.0 200 OK\r\nVia: x\r\nCSeq: 12 BYE\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(bye_response_status(ok), Some(200));
        let gone = b"SIP/2.0 481 Gone\r\ncseq: 3 BYE\r\n\r\n";
        assert_eq!(bye_response_status(gone), Some(481));
        assert_eq!(
            bye_response_status(b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n"),
            None
        );
        assert_eq!(
            bye_response_status(b"BYE sip:x SIP/2.0\r\nCSeq: 1 BYE\r\n\r\n"),
            None
        );
    }
}
