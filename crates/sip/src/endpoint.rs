//! The SIP endpoint: one sans-IO state machine for all calls. Datagrams, stream messages,
//! timer expiries and application commands go in; `Transmit`s, `Event`s and the next
//! deadline come out. Transactions (RFC 3261 §17, RFC 6026) are sipx-sip's machines; the
//! transaction user — dialogs, offer/answer, 2xx retransmission, CANCEL — is ours.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sipx_sip::transaction::Dispatch;
use sipx_sip::{
    Limits, Message, Method, Reliability, Request, Response, Timer, Timers, TransactionKey,
    TransactionLayer, TuEvent,
};
mod inspect;
mod invite;
mod outgoing;
mod registrar;
mod registration;
mod srtp;
mod teardown;

pub use outgoing::OutgoingCall;
pub use registrar::{RegisterAnswer, RegisterContact, RegisterRequest};
pub use registration::Registration;
pub use srtp::SrtpPolicy;

use tracing::debug;

use crate::call::{Call, CallHandle, CallState};
use crate::headers::{self, RequestIds};
use crate::sdp::{CodecSpec, NegotiatedMedia};
use crate::stats::{TransactionSide, TransactionStats, key_method};

/// The transport a message arrived on or leaves by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TCP with TLS (RFC 3261 §26.2; `sip:…;transport=tls`).
    Tls,
}

impl Transport {
    fn reliability(self) -> Reliability {
        match self {
            Self::Udp => Reliability::Unreliable,
            Self::Tcp | Self::Tls => Reliability::Reliable,
        }
    }

    fn via_name(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
        }
    }

    /// The `transport` URI parameter for our Contact on this transport.
    fn uri_param(self) -> &'static str {
        match self {
            Self::Udp => "",
            Self::Tcp => ";transport=tcp",
            Self::Tls => ";transport=tls",
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
    /// The ACK (or the callee's 2xx) carried no usable SDP answer to our offer.
    BadAnswer,
    /// A call we placed failed: busy (486), declined (603), not found (404), timeout (408,
    /// also Timer B), … with the status and reason phrase.
    Failed { status: u16, reason: String },
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
    /// A call we placed got a provisional answer (180 ringing, 183 with early media).
    Progress {
        call: CallHandle,
        status: u16,
        early_media: Option<NegotiatedMedia>,
    },
    /// A call we placed was answered (we sent the ACK); `media` is the callee's answer.
    Answered {
        call: CallHandle,
        media: NegotiatedMedia,
    },
    /// The ACK for our 2xx arrived: the call is confirmed.
    Established { call: CallHandle },
    /// A re-INVITE, UPDATE or the ACK's answer changed the negotiated media.
    MediaChanged {
        call: CallHandle,
        media: NegotiatedMedia,
    },
    /// A DTMF key arrived in a SIP INFO (RFC 4733 digits come with the RTP instead).
    Dtmf { call: CallHandle, digit: char },
    /// The call is over; the handle is dead. Sent exactly once per announced call.
    Ended { call: CallHandle, reason: EndReason },
    /// A phone wants to register; answer with [`Endpoint::answer_register`].
    Register(RegisterRequest),
    /// Our registration `id` at a PBX succeeded for `expires` seconds (refreshed by itself).
    Registered { id: u64, expires: u32 },
    /// Our registration `id` failed with this status; it is retried after `retry_in`.
    RegistrationFailed {
        id: u64,
        status: u16,
        reason: String,
        retry_in: std::time::Duration,
    },
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
    /// Our SIP-over-TLS port, when we listen for TLS (Via and Contact on TLS flows).
    pub tls_port: Option<u16>,
    /// When calls are encrypted (SDES keys travel only over TLS).
    pub srtp: SrtpPolicy,
}

/// Counters for logs and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams that did not parse as SIP (answered 400 where they were a request that
    /// could still be answered; see `rejected_invalid`).
    pub unparseable: u64,
    /// Requests answered 400/505 by validation, or 400 because they did not parse (those
    /// are counted in `unparseable` too).
    pub rejected_invalid: u64,
    /// Calls announced with [`Event::IncomingCall`].
    pub calls_in: u64,
    /// Calls placed with [`Endpoint::invite`].
    pub calls_out: u64,
    /// New INVITEs answered 503 while overloaded ([`Endpoint::set_overloaded`]).
    pub rejected_overload: u64,
    /// New INVITEs answered 503 because their source exceeded its rate
    /// ([`Endpoint::set_admission`]).
    pub rejected_rate: u64,
    /// New INVITEs not answered at all: their source kept going after its refusals.
    pub ignored_rate: u64,
}

/// Application commands that may be called with a dead handle return this.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    /// No such call, or it has ended.
    #[error("no call {0}")]
    NoSuchCall(CallHandle),
    /// The target of a call to place is not a SIP URI.
    #[error("not a SIP URI: {0}")]
    BadTarget(String),
    /// The command does not fit the call's state (e.g. accept twice).
    #[error("call {0} cannot do that in its current state")]
    WrongState(CallHandle),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TimerKey {
    Transaction(TransactionKey, Timer),
    Retransmit2xx(CallHandle),
    AckTimeout(CallHandle),
    /// Refresh or retry our registration at a PBX.
    Register(u64),
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
    /// (Call-ID, their From tag) → call: a second initial INVITE with these is a merged
    /// request (§8.2.2.2), e.g. one forked request reaching us by two paths.
    remote_index: HashMap<(Bytes, Bytes), CallHandle>,
    /// Pending INVITE server transactions → call, for CANCEL.
    invites: HashMap<TransactionKey, CallHandle>,
    /// Our INVITE client transactions → call.
    outgoing: HashMap<TransactionKey, CallHandle>,
    /// Our BYE client transactions → call.
    byes: HashMap<TransactionKey, CallHandle>,
    output: VecDeque<Output>,
    next_handle: u64,
    rng: StdRng,
    stats: EndpointStats,
    /// REGISTERs waiting for the application's answer, by id.
    registers: HashMap<u64, (TransactionKey, Request)>,
    /// Ids for REGISTER requests and our own registrations.
    next_register: u64,
    /// Our registrations at PBXs, by id, and their REGISTER transactions.
    client_registrations: HashMap<u64, registration::ClientRegistration>,
    register_clients: HashMap<TransactionKey, u64>,
    transactions: TransactionStats,
    /// While set, new INVITEs get 503 with this Retry-After (seconds).
    overloaded: Option<u32>,
    /// New INVITEs per source address.
    admission: crate::admission::Admission,
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
            remote_index: HashMap::new(),
            invites: HashMap::new(),
            byes: HashMap::new(),
            outgoing: HashMap::new(),
            output: VecDeque::new(),
            next_handle: 1,
            rng: StdRng::seed_from_u64(seed),
            stats: EndpointStats::default(),
            registers: HashMap::new(),
            next_register: 0,
            client_registrations: HashMap::new(),
            register_clients: HashMap::new(),
            transactions: TransactionStats::default(),
            overloaded: None,
            admission: crate::admission::Admission::new(crate::admission::AdmissionConfig {
                per_second: 0,
                ..Default::default()
            }),
        }
    }

    /// Per-source admission of new INVITEs (see [`crate::AdmissionConfig`]); off until set.
    pub fn set_admission(&mut self, config: crate::AdmissionConfig) {
        self.admission = crate::admission::Admission::new(config);
    }

    /// Overload protection: while `Some(seconds)`, every new INVITE (not a re-INVITE, not
    /// any other request) is answered `503 Service Unavailable` with `Retry-After: seconds`
    /// before any call state is made, so calls in progress keep their share of the server.
    pub fn set_overloaded(&mut self, retry_after: Option<u32>) {
        self.overloaded = retry_after;
    }

    /// Whether new INVITEs are being turned away.
    pub fn is_overloaded(&self) -> bool {
        self.overloaded.is_some()
    }

    /// Numbers calls from `first` on (e.g. after the highest id a previous run stored, so
    /// call ids stay unique across restarts).
    pub fn with_first_call_id(mut self, first: u64) -> Self {
        self.next_handle = first.max(1);
        self
    }

    /// Counters.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Final outcomes of transactions, by side, method and status.
    pub fn transaction_stats(&self) -> &TransactionStats {
        &self.transactions
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

    /// Takes a UDP datagram. Unparseable bytes are counted; a request among them whose
    /// method and header fields can still be read (a bad Content-Length, a malformed
    /// Request-Line) is answered 400 from its top Via, the rest dropped (there is nobody to
    /// answer). Keep-alive CRLFs are ignored.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return;
        }
        match sipx_sip::parse_datagram(Bytes::copy_from_slice(bytes), &Limits::datagram()) {
            Ok(message) => self.handle_message(now, Transport::Udp, from, message),
            Err(error) => {
                self.stats.unparseable += 1;
                match crate::bad_request::salvage(bytes) {
                    // Never answer an ACK (RFC 3261 §17.2.1).
                    Some(request) if request.method != Method::Ack => {
                        debug!(%from, %error, "unparseable SIP request; answering 400");
                        let reason = format!("Bad Request ({error})");
                        self.refuse(Transport::Udp, from, &request, 400, &reason);
                    }
                    _ => debug!(%from, %error, "dropped unparseable SIP datagram"),
                }
            }
        }
    }

    /// Answers a message a stream transport could not frame (`head`: its beginning, as
    /// [`crate::Refused`] has it) with `status` — 400, 413 or 513 — if it is a request whose
    /// header fields can still be read; the transport closes the connection after.
    pub fn refuse_unframeable(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        head: &[u8],
        status: u16,
    ) {
        self.stats.unparseable += 1;
        let Some(request) = crate::bad_request::salvage(head) else {
            debug!(%from, status, "unframeable SIP message, not answerable");
            return;
        };
        if request.method == Method::Ack {
            return;
        }
        let reason = match status {
            413 => "Request Entity Too Large",
            513 => "Message Too Large",
            _ => "Bad Request (cannot frame the message)",
        };
        self.refuse(transport, from, &request, status, reason);
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
            debug!(%from, ?finding, "invalid SIP request");
            if request.method != Method::Ack {
                let reason = match finding.status() {
                    505 => "Version Not Supported".to_owned(),
                    _ => format!("Bad Request ({finding:?})"),
                };
                self.refuse(transport, from, &request, finding.status(), &reason);
            } else {
                self.stats.rejected_invalid += 1;
            }
            return;
        }
        if !self.admitted(now, transport, from, &request) {
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
                        return;
                    }
                    self.transactions.count(
                        TransactionSide::Received,
                        request.method.as_bytes(),
                        400,
                    );
                    if let Some(r) = headers::simple_response(
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

    /// Whether a request may reach the transaction layer: a new INVITE (no To tag, not a
    /// retransmission) must pass its source's admission; a refused one is answered `503`
    /// with `Retry-After` statelessly, an ignored one not at all.
    fn admitted(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        request: &Request,
    ) -> bool {
        let in_dialog = RequestIds::of(request).is_none_or(|ids| ids.to_tag.is_some());
        if request.method != Method::Invite || in_dialog {
            return true;
        }
        if TransactionKey::from_request(request).is_some_and(|k| self.routes.contains_key(&k)) {
            return true;
        }
        match self.admission.check(now, from.ip()) {
            crate::admission::Verdict::Admit => true,
            crate::admission::Verdict::Refuse { retry_after } => {
                self.stats.rejected_rate += 1;
                self.transactions
                    .count(TransactionSide::Received, request.method.as_bytes(), 503);
                if let Some(r) = headers::retry_after_response(
                    request,
                    (
                        503,
                        "Service Unavailable (too many calls from your address)",
                    ),
                    retry_after,
                    &self.config.user_agent,
                ) {
                    self.transmit(transport, from, Message::Response(r));
                }
                false
            }
            crate::admission::Verdict::Ignore => {
                self.stats.ignored_rate += 1;
                false
            }
        }
    }

    /// Answers a request that is not let near a transaction (it failed validation, or did
    /// not parse at all) statelessly, to where it came from.
    fn refuse(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        request: &Request,
        status: u16,
        reason: &str,
    ) {
        self.stats.rejected_invalid += 1;
        self.transactions
            .count(TransactionSide::Received, request.method.as_bytes(), status);
        let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
        if let Some(r) =
            headers::simple_response(request, status, &reason, None, &self.config.user_agent)
        {
            self.transmit(transport, from, Message::Response(r));
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
                TimerKey::Register(id) => self.refresh_registration(now, id),
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
        self.outgoing.remove(key);
        self.register_clients.remove(key);
        self.registers.retain(|_, (k, _)| k != key);
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
        self.transactions.count_client(key, &event);
        if let Some(&id) = self.register_clients.get(key) {
            return self.on_register_event(now, id, event);
        }
        if let Some(&handle) = self.outgoing.get(key) {
            return match event {
                TuEvent::Response(response) => self.on_invite_response(now, handle, *response),
                TuEvent::Timeout | TuEvent::TransportError => self.on_invite_failed(now, handle),
                _ => {}
            };
        }
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
        if self.refused_on_inspection(now, key, &request) {
            return;
        }
        match request.method {
            Method::Invite => self.on_invite(now, key, request),
            Method::Bye => self.on_bye(now, key, &request),
            Method::Cancel => self.on_cancel(now, key, &request),
            Method::Update => self.on_update(now, key, &request),
            Method::Options => self.respond(now, key, &request, 200, "OK"),
            Method::Info => self.on_info(now, key, &request),
            Method::Register => self.on_register(now, key, request),
            _ => self.respond(now, key, &request, 405, "Method Not Allowed"),
        }
    }

    /// INFO in a dialog: DTMF bodies become [`Event::Dtmf`]; an empty INFO (a keep-alive
    /// probe) is fine; other bodies get 415 naming what we take.
    fn on_info(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let Some(call) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        if request.body().is_empty() {
            return self.respond(now, key, request, 200, "OK");
        }
        let content_type = request
            .headers
            .typed::<sipx_sip::headers::ContentType>()
            .and_then(Result::ok);
        let subtype = content_type
            .filter(|ct| ct.is("application", "dtmf-relay") || ct.is("application", "dtmf"))
            .map(|ct| {
                if ct.is("application", "dtmf") {
                    "dtmf"
                } else {
                    "dtmf-relay"
                }
            });
        let Some(subtype) = subtype else {
            return self.respond(now, key, request, 415, "Unsupported Media Type");
        };
        self.respond(now, key, request, 200, "OK");
        if let Some(digit) = crate::info::dtmf_digit(subtype, request.body()) {
            self.output
                .push_back(Output::Event(Event::Dtmf { call, digit }));
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
        if response.status.is_final() {
            let status = response.status.code();
            self.transactions
                .count(TransactionSide::Received, key_method(key), status);
        }
        let outputs = self.layer.send_response(key, response);
        self.apply(now, key, outputs);
    }

    fn dialog_of(&self, request: &Request) -> Option<CallHandle> {
        let ids = RequestIds::of(request)?;
        let to_tag = ids.to_tag?;
        self.dialogs.get(&(ids.call_id, to_tag)).copied()
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
            self.remote_index
                .remove(&(call.call_id.clone(), call.remote_tag.clone()));
            if let Some((key, _)) = call.invite {
                self.invites.remove(&key);
            }
            if let Some(outgoing) = call.outgoing {
                self.outgoing.remove(&outgoing.key);
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

pub(super) fn reason_phrase(code: u16) -> &'static str {
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
