//! The SIP endpoint: one sans-IO state machine for all calls. Datagrams, stream messages,
//! timer expiries and application commands go in; `Transmit`s, `Event`s and the next
//! deadline come out. Transactions (RFC 3261 §17, RFC 6026) are sipx-sip's machines; the
//! transaction user — dialogs, offer/answer, 2xx retransmission, CANCEL — is ours.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipx_sip::transaction::Dispatch;
use sipx_sip::{
    HeaderName, Limits, Message, Method, Reliability, Request, Response, Timer, Timers,
    TransactionKey, TransactionLayer, TuEvent,
};
use tracing::{debug, info, warn};

use crate::call::{Call, CallHandle, CallState, PendingAck};
use crate::headers::{self, RequestIds};
use crate::sdp::{self, CodecSpec, LocalMedia, NegotiatedMedia, SdpError};

/// The transport a message arrived on or leaves by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn reliability(self) -> Reliability {
        match self {
            Self::Udp => Reliability::Unreliable,
            Self::Tcp => Reliability::Reliable,
        }
    }

    fn via_name(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
        }
    }
}

/// Bytes to put on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub transport: Transport,
    /// For TCP: the peer of the connection to use (opened if there is none).
    pub dest: SocketAddr,
    pub bytes: Bytes,
}

/// Why a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The caller sent BYE.
    RemoteHangup,
    /// The caller CANCELled before we answered.
    Cancelled,
    /// We hung up (BYE sent, or the INVITE rejected with this status).
    LocalHangup,
    /// The application rejected the INVITE with this status.
    Rejected(u16),
    /// No ACK for our 2xx within 64·T1 (§13.3.1.4).
    AckTimeout,
    /// The ACK carried no usable SDP answer to our offer.
    BadAnswer,
}

/// What the endpoint tells the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new INVITE for `room` (the Request-URI user part). Answer with
    /// [`Endpoint::accept`] or [`Endpoint::reject`]. `media` is None for an offerless INVITE;
    /// the media then arrives with [`Event::MediaChanged`] once the ACK brings the answer.
    IncomingCall {
        call: CallHandle,
        room: String,
        /// The caller's From URI, for debug logs and later caller-ID rules.
        caller: String,
        source: SocketAddr,
        media: Option<NegotiatedMedia>,
    },
    /// The ACK for our 2xx arrived: the call is confirmed.
    Established { call: CallHandle },
    /// A re-INVITE, UPDATE or the ACK's answer changed the negotiated media.
    MediaChanged {
        call: CallHandle,
        media: NegotiatedMedia,
    },
    /// The call is over; the handle is dead. Sent exactly once per announced call.
    Ended { call: CallHandle, reason: EndReason },
}

/// What [`Endpoint::poll_output`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Transmit(Transmit),
    Event(Event),
}

/// Static settings of the endpoint.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Our address as peers should reach it (Via, Contact); the SIP listen port.
    pub local_addr: SocketAddr,
    /// Sent as `Server` and `User-Agent`.
    pub user_agent: String,
    /// Codecs we accept, best first.
    pub codecs: Vec<CodecSpec>,
    /// T1, T2, T4 (RFC 3261 §17).
    pub timers: Timers,
}

/// Counters for logs and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams that did not parse as SIP.
    pub unparseable: u64,
    /// Requests answered 400/505 by validation.
    pub rejected_invalid: u64,
}

/// Application commands that may be called with a dead handle return this.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// No such call, or it has ended.
    #[error("no call {0}")]
    NoSuchCall(CallHandle),
    /// The command does not fit the call's state (e.g. accept twice).
    #[error("call {0} cannot do that in its current state")]
    WrongState(CallHandle),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TimerKey {
    Transaction(TransactionKey, Timer),
    Retransmit2xx(CallHandle),
    AckTimeout(CallHandle),
}

/// The SIP user-agent server for all calls. See the module docs for the contract:
/// feed input, then drain [`Endpoint::poll_output`] and sleep until [`Endpoint::poll_timeout`].
pub struct Endpoint {
    config: EndpointConfig,
    layer: TransactionLayer,
    /// Where each transaction's messages go.
    routes: HashMap<TransactionKey, (Transport, SocketAddr)>,
    timers: crate::timer_queue::TimerQueue<TimerKey>,
    calls: HashMap<CallHandle, Call>,
    /// (Call-ID, our tag) → call, for in-dialog requests.
    dialogs: HashMap<(Bytes, Bytes), CallHandle>,
    /// Pending INVITE server transactions → call, for CANCEL.
    invites: HashMap<TransactionKey, CallHandle>,
    /// Our BYE client transactions → call.
    byes: HashMap<TransactionKey, CallHandle>,
    output: VecDeque<Output>,
    next_handle: u64,
    rng: StdRng,
    stats: EndpointStats,
}

impl Endpoint {
    /// A new endpoint; `seed` makes tags and branches reproducible in tests.
    pub fn new(config: EndpointConfig, seed: u64) -> Self {
        Self {
            layer: TransactionLayer::new(config.timers),
            config,
            routes: HashMap::new(),
            timers: Default::default(),
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            invites: HashMap::new(),
            byes: HashMap::new(),
            output: VecDeque::new(),
            next_handle: 1,
            rng: StdRng::seed_from_u64(seed),
            stats: EndpointStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Calls alive (including those ending).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Timers armed, for leak checks.
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Transactions in flight (client, server), for leak checks.
    pub fn transaction_count(&self) -> (usize, usize) {
        self.layer.len()
    }

    /// Takes a UDP datagram. Unparseable bytes are counted and dropped (there is nobody to
    /// answer); keep-alive CRLFs are ignored.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return;
        }
        match sipx_sip::parse_datagram(Bytes::copy_from_slice(bytes), &Limits::datagram()) {
            Ok(message) => self.handle_message(now, Transport::Udp, from, message),
            Err(error) => {
                self.stats.unparseable += 1;
                debug!(%from, %error, "dropped unparseable SIP datagram");
            }
        }
    }

    /// Takes a message framed by a stream transport (TCP).
    pub fn handle_message(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        message: Message,
    ) {
        match message {
            Message::Request(request) => self.on_wire_request(now, transport, from, request),
            Message::Response(response) => {
                if let Dispatch::Matched { key, outputs } = self
                    .layer
                    .receive(Message::Response(response), transport.reliability())
                {
                    self.apply(now, &key, outputs);
                }
            }
        }
    }

    fn on_wire_request(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        request: Request,
    ) {
        let findings: Vec<_> = sipx_sip::validate_request(&request)
            .into_iter()
            .filter(|f| !f.is_repairable())
            .collect();
        if let Some(finding) = findings.first() {
            self.stats.rejected_invalid += 1;
            debug!(%from, ?finding, "invalid SIP request");
            if request.method != Method::Ack {
                let reason = match finding.status() {
                    505 => "Version Not Supported".to_owned(),
                    _ => format!("Bad Request ({finding:?})"),
                };
                let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
                if let Some(r) = headers::simple_response(
                    &request,
                    finding.status(),
                    &reason,
                    None,
                    &self.config.user_agent,
                ) {
                    self.transmit(transport, from, Message::Response(r));
                }
            }
            return;
        }
        match self
            .layer
            .receive(Message::Request(request), transport.reliability())
        {
            Dispatch::Created { key, outputs } => {
                self.routes.insert(key.clone(), (transport, from));
                self.apply(now, &key, outputs);
            }
            Dispatch::Matched { key, outputs } => self.apply(now, &key, outputs),
            Dispatch::Unmatched(message) => {
                if let Message::Request(request) = *message {
                    if request.method == Method::Ack {
                        self.on_ack(now, &request);
                    } else if let Some(r) = headers::simple_response(
                        &request,
                        400,
                        "Bad Request (no transaction key)",
                        None,
                        &self.config.user_agent,
                    ) {
                        self.transmit(transport, from, Message::Response(r));
                    }
                }
            }
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Transaction(tx, timer) => {
                    let outputs = self.layer.on_timer(&tx, timer);
                    self.apply(now, &tx, outputs);
                }
                TimerKey::Retransmit2xx(handle) => self.retransmit_2xx(now, handle),
                TimerKey::AckTimeout(handle) => self.ack_timeout(now, handle),
            }
        }
    }

    /// When [`Endpoint::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// The next thing to send or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.output.pop_front()
    }

    /// Carries out what a transaction asked for.
    fn apply(&mut self, now: Instant, key: &TransactionKey, outputs: Vec<sipx_sip::Output>) {
        for output in outputs {
            match output {
                sipx_sip::Output::Send(message) => {
                    if let Some(&(transport, dest)) = self.routes.get(key) {
                        self.transmit(transport, dest, *message);
                    }
                }
                sipx_sip::Output::SetTimer { timer, after } => {
                    self.timers
                        .set(TimerKey::Transaction(key.clone(), timer), now + after);
                }
                sipx_sip::Output::ClearTimer(timer) => {
                    self.timers
                        .clear(&TimerKey::Transaction(key.clone(), timer));
                }
                sipx_sip::Output::ToTu(event) => self.on_tu_event(now, key, *event),
                sipx_sip::Output::Terminated(reason) => self.on_terminated(now, key, reason),
                _ => {}
            }
        }
    }

    fn on_terminated(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        reason: sipx_sip::transaction::Reason,
    ) {
        for timer in Timer::ALL {
            self.timers
                .clear(&TimerKey::Transaction(key.clone(), timer));
        }
        self.routes.remove(key);
        if let Some(handle) = self.byes.remove(key) {
            // Our BYE is over, answered or not (§15.1.1: a timeout ends the dialog too).
            self.forget(handle);
        }
        if let Some(handle) = self.invites.remove(key) {
            // The INVITE transaction died before the application answered it.
            if self
                .calls
                .get(&handle)
                .is_some_and(|c| c.state == CallState::Offered)
            {
                debug!(call = %handle, ?reason, "INVITE transaction ended unanswered");
                self.end(now, handle, EndReason::LocalHangup);
            }
        }
    }

    fn on_tu_event(&mut self, now: Instant, key: &TransactionKey, event: TuEvent) {
        match event {
            TuEvent::Request(request) => self.on_request(now, key, *request),
            TuEvent::Ack(request) => self.on_ack(now, &request),
            // A final answer to our BYE ends the dialog at once; the transaction lingers on
            // Timer K only to absorb retransmitted answers.
            TuEvent::Response(response) if response.status.is_final() => {
                if let Some(handle) = self.byes.remove(key) {
                    self.forget(handle);
                }
            }
            // A BYE that times out or cannot be sent ends the call in on_terminated.
            TuEvent::Response(_) | TuEvent::Timeout | TuEvent::TransportError => {}
            _ => {}
        }
    }

    fn on_request(&mut self, now: Instant, key: &TransactionKey, request: Request) {
        match request.method {
            Method::Invite => self.on_invite(now, key, request),
            Method::Bye => self.on_bye(now, key, &request),
            Method::Cancel => self.on_cancel(now, key, &request),
            Method::Update => self.on_update(now, key, &request),
            Method::Options => self.respond(now, key, &request, 200, "OK"),
            Method::Info => {
                let known = self.dialog_of(&request).is_some();
                let (code, reason) = if known {
                    (200, "OK")
                } else {
                    (481, "Call/Transaction Does Not Exist")
                };
                self.respond(now, key, &request, code, reason);
            }
            _ => self.respond(now, key, &request, 405, "Method Not Allowed"),
        }
    }

    /// Sends a simple final response on a server transaction.
    fn respond(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        code: u16,
        reason: &str,
    ) {
        let tag = self
            .dialog_of(request)
            .and_then(|h| self.calls.get(&h))
            .map(|c| c.local_tag.clone());
        if let Some(r) = headers::simple_response(
            request,
            code,
            reason,
            tag.as_deref(),
            &self.config.user_agent,
        ) {
            self.send_response(now, key, r);
        }
    }

    fn send_response(&mut self, now: Instant, key: &TransactionKey, response: Response) {
        let outputs = self.layer.send_response(key, response);
        self.apply(now, key, outputs);
    }

    fn dialog_of(&self, request: &Request) -> Option<CallHandle> {
        let ids = RequestIds::of(request)?;
        let to_tag = ids.to_tag?;
        self.dialogs.get(&(ids.call_id, to_tag)).copied()
    }

    fn on_invite(&mut self, now: Instant, key: &TransactionKey, request: Request) {
        let Some(ids) = RequestIds::of(&request) else {
            return self.respond(now, key, &request, 400, "Bad Request");
        };
        if ids.to_tag.is_some() {
            return self.on_reinvite(now, key, &request, &ids);
        }
        if let Some(required) = headers::raw(&request, &HeaderName::Require) {
            return self.reject_required(now, key, &request, required);
        }
        let Some(remote_target) = headers::contact_uri(&request) else {
            return self.respond(now, key, &request, 400, "Bad Request (Contact missing)");
        };
        let Some(room) = request
            .uri
            .decoded_user()
            .map(|u| String::from_utf8_lossy(&u).into_owned())
        else {
            return self.respond(now, key, &request, 404, "Not Found");
        };
        let media = match self.read_offer(&request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, &request, code),
        };
        let Some(&(transport, source)) = self.routes.get(key) else {
            return;
        };
        let handle = CallHandle(self.next_handle);
        self.next_handle += 1;
        let local_tag = format!("{:016x}", self.rng.r#gen::<u64>());
        let mut local_party = headers::raw(&request, &HeaderName::To)
            .unwrap_or_default()
            .to_vec();
        local_party.extend_from_slice(format!(";tag={local_tag}").as_bytes());
        let caller = request
            .headers
            .typed::<sipx_sip::headers::From>()
            .and_then(Result::ok)
            .map(|f| String::from_utf8_lossy(&f.uri.to_bytes()).into_owned())
            .unwrap_or_default();
        info!(call = %handle, %room, %source, ?transport, "incoming call");
        debug!(call = %handle, %caller, "caller");
        let call = Call {
            state: CallState::Offered,
            invite: Some((key.clone(), request.clone())),
            call_id: ids.call_id.clone(),
            local_tag: local_tag.clone(),
            local_party: Bytes::from(local_party),
            remote_party: headers::raw(&request, &HeaderName::From).unwrap_or_default(),
            remote_target,
            route_set: headers::raw_all(&request, &HeaderName::RecordRoute),
            flow: (transport, source),
            remote_cseq: ids.cseq,
            local_cseq: self.rng.gen_range(1..10_000),
            room: room.clone(),
            local_media: None,
            media: media.clone(),
            sdp_session_id: self.rng.gen_range(1..u32::MAX as u64),
            sdp_version: 1,
            pending_ack: None,
        };
        self.calls.insert(handle, call);
        self.dialogs
            .insert((ids.call_id, Bytes::from(local_tag)), handle);
        self.invites.insert(key.clone(), handle);
        self.output.push_back(Output::Event(Event::IncomingCall {
            call: handle,
            room,
            caller,
            source,
            media,
        }));
    }

    /// The offer in a request, negotiated; Ok(None) for no offer; Err(status) to refuse.
    fn read_offer(&self, request: &Request) -> Result<Option<NegotiatedMedia>, u16> {
        if request.body().is_empty() {
            return Ok(None);
        }
        if !headers::has_sdp(request) {
            return Err(415);
        }
        match sdp::negotiate_offer(request.body(), &self.config.codecs) {
            Ok(media) => Ok(Some(media)),
            Err(SdpError::Syntax(_)) => Err(400),
            Err(SdpError::NoAudio | SdpError::NoCommonCodec) => Err(488),
        }
    }

    /// 488 says what we accept (RFC 3261 §21.4.26: Warning 305 and our capabilities as SDP),
    /// 415 names the body types we take, 400 a broken SDP.
    fn reject_offer(&mut self, now: Instant, key: &TransactionKey, request: &Request, code: u16) {
        let Some(mut b) = headers::response(request, code, reason_phrase(code)) else {
            return;
        };
        let ua = self.config.user_agent.clone();
        b = match code {
            488 => {
                let names: Vec<&str> = self.config.codecs.iter().map(|c| c.name).collect();
                let capabilities = LocalMedia {
                    rtp: SocketAddr::new(self.config.local_addr.ip(), 0),
                };
                let body = sdp::write_offer(&capabilities, &self.config.codecs, 0, 0);
                let Ok(b) = b
                    .header(
                        HeaderName::Warning,
                        format!(
                            "305 {} \"Incompatible media format; we accept {}\"",
                            self.config.local_addr.ip(),
                            names.join(", ")
                        ),
                    )
                    .and_then(|b| b.header(HeaderName::Accept, headers::ACCEPT))
                    .and_then(|b| b.header(HeaderName::ContentType, "application/sdp"))
                else {
                    return;
                };
                b.body(body)
            }
            415 => match b.header(HeaderName::Accept, headers::ACCEPT) {
                Ok(b) => b,
                Err(_) => return,
            },
            _ => b,
        };
        let Ok(b) = b.header(HeaderName::Server, ua) else {
            return;
        };
        self.send_response(now, key, b.build());
    }

    /// RFC 3261 §8.2.2.3: we support no extension that may be required.
    fn reject_required(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        required: Bytes,
    ) {
        let Some(b) = headers::response(request, 420, "Bad Extension") else {
            return;
        };
        if let Ok(b) = b.header(HeaderName::Unsupported, required) {
            self.send_response(now, key, b.build());
        }
    }

    /// Accepts an offered call: 200 OK with our SDP answer (or our offer, for an offerless
    /// INVITE), retransmitted until the ACK arrives.
    pub fn accept(
        &mut self,
        now: Instant,
        handle: CallHandle,
        local: LocalMedia,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        if call.state != CallState::Offered {
            return Err(CallError::WrongState(handle));
        }
        let (key, request) = call.invite.take().ok_or(CallError::WrongState(handle))?;
        call.local_media = Some(local);
        call.state = CallState::Answered;
        self.invites.remove(&key);
        self.answer_invite(now, handle, &key, &request);
        Ok(())
    }

    /// Sends the 2xx for an INVITE or re-INVITE of `handle` and starts waiting for the ACK.
    fn answer_invite(
        &mut self,
        now: Instant,
        handle: CallHandle,
        key: &TransactionKey,
        request: &Request,
    ) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(local) = call.local_media.clone() else {
            return;
        };
        call.sdp_version += 1;
        let (body, answer_in_ack) = match &call.media {
            Some(media) if headers::has_sdp(request) => (
                sdp::write_answer(&local, media, call.sdp_session_id, call.sdp_version),
                false,
            ),
            _ => (
                sdp::write_offer(
                    &local,
                    &self.config.codecs,
                    call.sdp_session_id,
                    call.sdp_version,
                ),
                true,
            ),
        };
        let contact = Self::contact(self.config.local_addr, call.flow.0, &call.room);
        let Some(response) = headers::response(request, 200, "OK")
            .and_then(|b| headers::with_to_tag(b, request, &call.local_tag))
            .and_then(|b| b.header(HeaderName::Contact, contact).ok())
            .and_then(|b| b.header(HeaderName::Allow, headers::ALLOW).ok())
            .and_then(|b| {
                b.header(HeaderName::Server, self.config.user_agent.clone())
                    .ok()
            })
            .and_then(|b| b.header(HeaderName::ContentType, "application/sdp").ok())
            .map(|b| b.body(body).build())
        else {
            return;
        };
        let bytes = Message::Response(response.clone()).to_bytes();
        call.pending_ack = Some(PendingAck {
            bytes,
            interval: self.config.timers.t1,
            answer_in_ack,
            cseq: RequestIds::of(request).map_or(0, |ids| ids.cseq),
        });
        if call.flow.0 == Transport::Udp {
            self.timers
                .set(TimerKey::Retransmit2xx(handle), now + self.config.timers.t1);
        }
        self.timers.set(
            TimerKey::AckTimeout(handle),
            now + self.config.timers.timeout(),
        );
        self.send_response(now, key, response);
    }

    fn contact(addr: SocketAddr, transport: Transport, room: &str) -> String {
        let user: String = room
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.'))
            .collect();
        match transport {
            Transport::Udp => format!("<sip:{user}@{addr}>"),
            Transport::Tcp => format!("<sip:{user}@{addr};transport=tcp>"),
        }
    }

    fn retransmit_2xx(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(pending) = call.pending_ack.as_mut() else {
            return;
        };
        let (transport, dest) = call.flow;
        let bytes = pending.bytes.clone();
        pending.interval = (pending.interval * 2).min(self.config.timers.t2);
        let next = now + pending.interval;
        self.timers.set(TimerKey::Retransmit2xx(handle), next);
        self.output.push_back(Output::Transmit(Transmit {
            transport,
            dest,
            bytes,
        }));
    }

    /// §13.3.1.4: no ACK within 64·T1 → the dialog is confirmed and then torn down with BYE.
    fn ack_timeout(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.pending_ack.take().is_none() {
            return;
        }
        warn!(call = %handle, "no ACK for our 2xx; hanging up");
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.send_bye(now, handle);
        self.output.push_back(Output::Event(Event::Ended {
            call: handle,
            reason: EndReason::AckTimeout,
        }));
    }

    fn on_ack(&mut self, now: Instant, ack: &Request) {
        let Some(handle) = self.dialog_of(ack) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let cseq = RequestIds::of(ack).map_or(0, |ids| ids.cseq);
        let Some(pending) = call.pending_ack.as_ref() else {
            return;
        };
        if pending.cseq != cseq {
            return;
        }
        let pending = call.pending_ack.take().expect("checked above");
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.timers.clear(&TimerKey::AckTimeout(handle));
        let first_ack = call.state == CallState::Answered;
        if call.state == CallState::Answered {
            call.state = CallState::Confirmed;
        }
        if pending.answer_in_ack {
            match sdp::read_answer(ack.body(), &self.config.codecs) {
                Ok(media) if headers::has_sdp(ack) => {
                    call.media = Some(media.clone());
                    self.output.push_back(Output::Event(Event::MediaChanged {
                        call: handle,
                        media,
                    }));
                }
                _ if call.media.is_some() => {}
                _ => {
                    info!(call = %handle, "ACK without a usable SDP answer; hanging up");
                    self.send_bye(now, handle);
                    return self.output.push_back(Output::Event(Event::Ended {
                        call: handle,
                        reason: EndReason::BadAnswer,
                    }));
                }
            }
        }
        if first_ack {
            self.output
                .push_back(Output::Event(Event::Established { call: handle }));
        }
    }

    fn on_reinvite(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        ids: &RequestIds,
    ) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if call.state == CallState::Ending {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        }
        if ids.cseq <= call.remote_cseq {
            return self.respond(
                now,
                key,
                request,
                500,
                "Server Internal Error (CSeq out of order)",
            );
        }
        let media = match self.read_offer(request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, request, code),
        };
        let call = self.calls.get_mut(&handle).expect("looked up above");
        call.remote_cseq = ids.cseq;
        if let Some(target) = headers::contact_uri(request) {
            call.remote_target = target;
        }
        // A new INVITE replaces the wait for an ACK of the previous 2xx.
        call.pending_ack = None;
        if let Some(media) = media {
            call.media = Some(media.clone());
            self.output.push_back(Output::Event(Event::MediaChanged {
                call: handle,
                media,
            }));
        }
        self.answer_invite(now, handle, key, request);
    }

    fn on_update(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        let media = match self.read_offer(request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, request, code),
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(ids) = RequestIds::of(request) else {
            return;
        };
        call.remote_cseq = call.remote_cseq.max(ids.cseq);
        let mut b = headers::response(request, 200, "OK");
        if let (Some(media), Some(local)) = (media, call.local_media.clone()) {
            call.media = Some(media.clone());
            call.sdp_version += 1;
            let body = sdp::write_answer(&local, &media, call.sdp_session_id, call.sdp_version);
            b = b
                .and_then(|b| b.header(HeaderName::ContentType, "application/sdp").ok())
                .map(|b| b.body(body));
            self.output.push_back(Output::Event(Event::MediaChanged {
                call: handle,
                media,
            }));
        }
        let contact = Self::contact(self.config.local_addr, call.flow.0, &call.room);
        if let Some(r) = b
            .and_then(|b| b.header(HeaderName::Contact, contact).ok())
            .and_then(|b| {
                b.header(HeaderName::Server, self.config.user_agent.clone())
                    .ok()
            })
        {
            self.send_response(now, key, r.build());
        }
    }

    fn on_bye(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        self.respond(now, key, request, 200, "OK");
        if self
            .calls
            .get(&handle)
            .is_some_and(|c| c.state != CallState::Ending)
        {
            info!(call = %handle, "caller hung up");
            self.end(now, handle, EndReason::RemoteHangup);
        }
    }

    /// RFC 3261 §9.2: CANCEL ends an INVITE we have not answered; otherwise it does nothing.
    fn on_cancel(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let invite_key = TransactionKey::for_cancelled_invite(request);
        let pending = invite_key
            .as_ref()
            .and_then(|k| self.invites.get(k).copied());
        let exists = invite_key
            .as_ref()
            .is_some_and(|k| self.layer.server_state(k).is_some());
        if !exists && pending.is_none() {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        }
        self.respond(now, key, request, 200, "OK");
        let (Some(handle), Some(invite_key)) = (pending, invite_key) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.state != CallState::Offered {
            return;
        }
        let tag = call.local_tag.clone();
        if let Some((_, invite)) = call.invite.take() {
            self.invites.remove(&invite_key);
            if let Some(r) = headers::simple_response(
                &invite,
                487,
                "Request Terminated",
                Some(&tag),
                &self.config.user_agent,
            ) {
                self.send_response(now, &invite_key, r);
            }
        }
        info!(call = %handle, "caller cancelled");
        self.end(now, handle, EndReason::Cancelled);
    }

    /// Rejects an offered call with a final status (e.g. 404 unknown room, 486 full).
    pub fn reject(&mut self, now: Instant, handle: CallHandle, code: u16) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        if call.state != CallState::Offered || !(300..700).contains(&code) {
            return Err(CallError::WrongState(handle));
        }
        let tag = call.local_tag.clone();
        if let Some((key, invite)) = call.invite.take() {
            self.invites.remove(&key);
            if let Some(r) = headers::simple_response(
                &invite,
                code,
                reason_phrase(code),
                Some(&tag),
                &self.config.user_agent,
            ) {
                self.send_response(now, &key, r);
            }
        }
        self.end(now, handle, EndReason::Rejected(code));
        Ok(())
    }

    /// Ends a call from our side: rejects it if unanswered (480), sends BYE otherwise.
    pub fn hangup(&mut self, now: Instant, handle: CallHandle) -> Result<(), CallError> {
        let call = self
            .calls
            .get(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        match call.state {
            CallState::Offered => self.reject(now, handle, 480),
            CallState::Ending => Err(CallError::WrongState(handle)),
            CallState::Answered | CallState::Confirmed => {
                self.send_bye(now, handle);
                self.output.push_back(Output::Event(Event::Ended {
                    call: handle,
                    reason: EndReason::LocalHangup,
                }));
                Ok(())
            }
        }
    }

    /// Hangs up every call (graceful shutdown). Returns how many were ended.
    pub fn hangup_all(&mut self, now: Instant) -> usize {
        let mut handles: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state != CallState::Ending)
            .map(|(h, _)| *h)
            .collect();
        handles.sort();
        handles
            .into_iter()
            .filter(|h| self.hangup(now, *h).is_ok())
            .count()
    }

    fn send_bye(&mut self, now: Instant, handle: CallHandle) {
        let branch = format!("z9hG4bK{:016x}", self.rng.r#gen::<u64>());
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.state = CallState::Ending;
        call.pending_ack = None;
        call.local_cseq += 1;
        let (transport, dest) = call.flow;
        let via = format!(
            "SIP/2.0/{} {};branch={branch};rport",
            transport.via_name(),
            self.config.local_addr
        );
        let Some(bye) = headers::dialog_request(headers::DialogRequest {
            method: Method::Bye,
            target: &call.remote_target,
            via,
            from: &call.local_party,
            to: &call.remote_party,
            call_id: &call.call_id,
            cseq: call.local_cseq,
            route_set: &call.route_set,
            user_agent: &self.config.user_agent,
        }) else {
            return self.forget(handle);
        };
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.timers.clear(&TimerKey::AckTimeout(handle));
        match self.layer.send_request(bye, transport.reliability()) {
            Some((key, outputs)) => {
                self.routes.insert(key.clone(), (transport, dest));
                self.byes.insert(key.clone(), handle);
                self.apply(now, &key, outputs);
            }
            None => self.forget(handle),
        }
    }

    /// Announces the end and drops the call.
    fn end(&mut self, _now: Instant, handle: CallHandle, reason: EndReason) {
        self.forget(handle);
        self.output.push_back(Output::Event(Event::Ended {
            call: handle,
            reason,
        }));
    }

    fn forget(&mut self, handle: CallHandle) {
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.timers.clear(&TimerKey::AckTimeout(handle));
        if let Some(call) = self.calls.remove(&handle) {
            self.dialogs
                .remove(&(call.call_id.clone(), Bytes::from(call.local_tag.clone())));
            if let Some((key, _)) = call.invite {
                self.invites.remove(&key);
            }
        }
    }

    fn transmit(&mut self, transport: Transport, dest: SocketAddr, message: Message) {
        self.output.push_back(Output::Transmit(Transmit {
            transport,
            dest,
            bytes: message.to_bytes(),
        }));
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        415 => "Unsupported Media Type",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Error",
    }
}

/// The default timer values (T1 500 ms, T2 4 s, T4 5 s).
pub fn default_timers() -> Timers {
    Timers::default()
}
