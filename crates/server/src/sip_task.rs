//! The SIP task: owns the endpoint machine, the UDP socket and the TCP connections, and
//! moves what happens between the endpoint, the conference machine (admission, PINs,
//! invitations, moderator commands: `konferenz_conference::Conference`) and the rooms on
//! the mixer threads. It decides nothing itself: `conference.rs` carries out what the
//! machine asks, `media.rs` starts and updates callers' media in rooms, `rooms.rs` is the
//! registry of running rooms, `registrar.rs` the built-in registrar.

mod browser;
mod conference;
mod media;
mod registrar;
mod rooms;

pub use registrar::{RegistrarSetup, load_bindings, trunk_registration};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use konferenz_conference::{CallId, CallerKey, Conference, Entry, MenuConfig};
use konferenz_sip::{CallHandle, Endpoint, Event, Output, Transport};
use konferenz_store::Store;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info};

use crate::bus::Bus;
use crate::config::{DialinConfig, TrunkConfig};
use crate::control::Request;
use crate::prompts::PromptLibrary;
use crate::room::{RoomCommand, RoomEvent, RoomSettings};
use crate::room_index::IndexUpdate;
use crate::rtp_ports::{PortPair, PortPool};
use crate::tcp::TcpEvent;
use rooms::Rooms;

/// Room events waiting for the SIP task at most (joins, PINs, talking, timeouts).
const ROOM_EVENTS: usize = 4096;

/// Everything the SIP task needs from `serve`.
pub struct SipTask {
    pub endpoint: Endpoint,
    pub udp: Arc<UdpSocket>,
    pub tcp_events: mpsc::Receiver<TcpEvent>,
    pub ports: PortPool,
    pub media_ip: IpAddr,
    pub store: Store,
    pub room_settings: RoomSettings,
    pub library: Arc<PromptLibrary>,
    pub dialin: DialinConfig,
    pub default_language: konferenz_conference::Language,
    pub conference: Conference,
    pub trunk: TrunkConfig,
    pub bus: Bus,
    /// Commands from the control boundary (HTTP API, CLI through it).
    pub commands: mpsc::Receiver<Request>,
    /// The room index, kept current from the store.
    pub index: mpsc::Receiver<IndexUpdate>,
    /// Where the conference machine's store writes go.
    pub persist: crate::persist::Persister,
    pub shutdown: watch::Receiver<bool>,
    /// The built-in registrar and our registration at the PBX.
    pub registrar: RegistrarSetup,
    /// The threads the rooms run on.
    pub mixer: crate::mixer::MixerThreads,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// When new INVITEs are turned away (`sip.overload_queue_kib`).
    pub overload: crate::overload::OverloadGuard,
    /// Browsers joining (from the HTTP API).
    pub browser_requests: mpsc::Receiver<crate::browser::BrowserRequest>,
    /// The WebRTC task (None when `webrtc.listen` is off).
    pub webrtc: Option<crate::webrtc::WebRtc>,
}

/// The media plumbing of one call (who it is and where it may go is the conference
/// machine's business).
struct CallMedia {
    /// The room hosting the caller's media (the dialled one until a transfer).
    room: Option<konferenz_conference::RoomNumber>,
    port: Option<u16>,
    /// Sockets bound at accept, handed to the room when media is known.
    sockets: Option<PortPair>,
    /// How the caller enters, decided at admission; taken at join.
    entry: Option<(Entry, MenuConfig)>,
    /// The room mixes (or menus) this call.
    joined: bool,
    /// Our SSRC towards this caller, stable across re-INVITEs.
    ssrc: u32,
    /// Our SRTP master key and salt for this call (used when the SDP exchange agrees on
    /// SRTP; random per call from the thread's CSPRNG, never logged).
    srtp_key: [u8; konferenz_sip::sdp::SDES_KEY_LEN],
}

struct State {
    endpoint: Endpoint,
    udp: Arc<UdpSocket>,
    /// Writers of open TCP and TLS connections.
    tcp_writers: HashMap<crate::tcp::Flow, mpsc::Sender<Bytes>>,
    ports: PortPool,
    media_ip: IpAddr,
    store: Store,
    dialin: DialinConfig,
    default_language: konferenz_conference::Language,
    conference: Conference,
    rooms: Rooms,
    calls: HashMap<CallHandle, CallMedia>,
    trunk: TrunkConfig,
    bus: Bus,
    persist: crate::persist::Persister,
    registrar: registrar::Registrar,
    webrtc: Option<crate::webrtc::WebRtc>,
    browsers: HashMap<CallId, browser::BrowserCall>,
    next_browser_call: u64,
    /// Answers to commands, sent once the command's outputs (store writes, events) are
    /// queued: whoever got the answer and then flushes the store or reads it sees them.
    answers: Vec<(
        Reply,
        Result<crate::control::Answer, konferenz_conference::CommandError>,
    )>,
}

/// Where a command's answer goes.
type Reply = tokio::sync::oneshot::Sender<
    Result<crate::control::Answer, konferenz_conference::CommandError>,
>;

impl SipTask {
    /// Runs until shutdown, then hangs up every call and waits briefly for the BYEs.
    pub async fn run(self) {
        let (room_events_tx, mut room_events) = mpsc::channel(ROOM_EVENTS);
        let mut tcp_events = self.tcp_events;
        let mut commands = self.commands;
        let mut browser_requests = self.browser_requests;
        let mut index = self.index;
        let mut shutdown = self.shutdown;
        let (users_tx, mut user_lookups) = mpsc::channel(registrar::MAX_LOOKUPS);
        let registrar = registrar::Registrar::new(&self.registrar, users_tx);
        let mut sip_metrics = self.metrics.sip_publisher();
        let mut state = State {
            endpoint: self.endpoint,
            udp: self.udp,
            tcp_writers: HashMap::new(),
            ports: self.ports,
            media_ip: self.media_ip,
            store: self.store,
            dialin: self.dialin,
            default_language: self.default_language,
            conference: self.conference,
            rooms: Rooms::new(
                self.room_settings,
                self.library,
                room_events_tx,
                self.metrics.media.clone(),
                self.mixer,
            ),
            calls: HashMap::new(),
            trunk: self.trunk,
            bus: self.bus,
            persist: self.persist,
            registrar,
            webrtc: self.webrtc,
            browsers: HashMap::new(),
            next_browser_call: browser::FIRST_BROWSER_CALL,
            answers: Vec::new(),
        };
        let trunk_registration = self.registrar.trunk_registration.and_then(|r| {
            state
                .endpoint
                .register(Instant::now(), r)
                .map_err(|e| tracing::warn!(error = %e, "cannot register at the trunk"))
                .ok()
        });
        let mut overload = self.overload;
        let mut buf = vec![0u8; 65_535];
        let mut room_batch = Vec::with_capacity(64);
        let mut stopping_until: Option<Instant> = None;
        // Scheduled conferences: end warnings and closing, checked once a second.
        let mut schedule = tokio::time::interval(Duration::from_secs(1));
        let mut last_wall = jiff::Timestamp::now();
        loop {
            let wake = [
                state.endpoint.poll_timeout(),
                state.conference.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min()
            .map(tokio::time::Instant::from_std);
            let far = tokio::time::Instant::now() + Duration::from_secs(3600);
            let stop_at = stopping_until
                .map(tokio::time::Instant::from_std)
                .unwrap_or(far);
            tokio::select! {
                received = state.udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        state.endpoint.handle_datagram(Instant::now(), from, &buf[..n]);
                    }
                }
                Some(event) = tcp_events.recv() => state.on_tcp(event),
                // Everything the rooms have queued, in one wake-up.
                _n @ 1.. = room_events.recv_many(&mut room_batch, 64) => {
                    for event in room_batch.drain(..) {
                        state.on_room_event(event);
                    }
                }
                Some(lookup) = user_lookups.recv() => state.on_user_lookup(lookup),
                Some(request) = commands.recv() => state.on_command(request),
                Some(request) = browser_requests.recv() => state.on_browser(request),
                Some(update) = index.recv() => state.on_index(update),
                _ = schedule.tick() => {
                    let wall = jiff::Timestamp::now();
                    state.conference.schedule_tick(last_wall, wall);
                    last_wall = wall;
                }
                _ = tokio::time::sleep_until(wake.unwrap_or(far)) => {
                    let now = Instant::now();
                    state.endpoint.handle_timeout(now);
                    state.conference.handle_timeout(now);
                }
                changed = shutdown.changed(), if stopping_until.is_none() => {
                    let _ = changed;
                    if let Some(id) = trunk_registration {
                        state.endpoint.unregister(Instant::now(), id);
                    }
                    let ended = state.endpoint.hangup_all(Instant::now());
                    info!(calls = ended, "shutting down: hung up every call");
                    stopping_until = Some(Instant::now() + Duration::from_secs(2));
                }
                _ = tokio::time::sleep_until(stop_at), if stopping_until.is_some() => break,
            }
            state.drain_outputs().await;
            for (reply, answer) in state.answers.drain(..) {
                let _ = reply.send(answer);
            }
            let now = Instant::now();
            if overload.due(now)
                && let Some((queued, _)) = crate::udp_batch::receive_queue(&*state.udp)
                && let Some(overloaded) = overload.observe(now, queued)
            {
                state
                    .endpoint
                    .set_overloaded(overloaded.then_some(crate::overload::RETRY_AFTER_SECS));
                if overloaded {
                    tracing::warn!(
                        queued,
                        "SIP task behind: new calls get 503 until it catches up"
                    );
                } else {
                    info!("SIP task caught up: taking new calls again");
                }
            }
            sip_metrics.publish(&state.endpoint);
            if stopping_until.is_some() && state.endpoint.call_count() == 0 {
                break;
            }
        }
        state.rooms.close_all();
    }
}

impl State {
    /// Carries out what the machines ask until both are quiet (one may feed the other).
    async fn drain_outputs(&mut self) {
        loop {
            let mut busy = false;
            while let Some(output) = self.endpoint.poll_output() {
                busy = true;
                match output {
                    Output::Transmit(t) => self.transmit(t).await,
                    Output::Event(event) => self.on_event(event),
                }
            }
            while let Some(output) = self.conference.poll_output() {
                busy = true;
                self.on_conference_output(output);
            }
            if !busy {
                return;
            }
        }
    }

    async fn transmit(&mut self, t: konferenz_sip::Transmit) {
        match t.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.send_to(&t.bytes, t.dest).await {
                    debug!(dest = %t.dest, error = %e, "SIP send failed");
                }
            }
            transport @ (Transport::Tcp | Transport::Tls) => {
                match self.tcp_writers.get(&(transport, t.dest)) {
                    Some(writer) => {
                        if writer.try_send(t.bytes).is_err() {
                            debug!(dest = %t.dest, ?transport, "connection not draining; message dropped");
                        }
                    }
                    None => {
                        debug!(dest = %t.dest, ?transport, "no connection to send on; dropped")
                    }
                }
            }
        }
    }

    fn on_tcp(&mut self, event: TcpEvent) {
        match event {
            TcpEvent::Opened { flow, writer } => {
                self.tcp_writers.insert(flow, writer);
            }
            TcpEvent::Message { flow, message } => {
                self.endpoint
                    .handle_message(Instant::now(), flow.0, flow.1, *message);
            }
            TcpEvent::Unframeable { flow, head, status } => {
                self.endpoint
                    .refuse_unframeable(flow.0, flow.1, &head, status);
            }
            TcpEvent::Closed { flow } => {
                self.tcp_writers.remove(&flow);
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::IncomingCall {
                call,
                room,
                caller,
                source,
                media,
            } => self.on_incoming(call, &room, &caller, source, media),
            Event::Established { call } => debug!(call = %call, "call established"),
            Event::Progress { call, .. } => self.conference.progress(CallId(call.0)),
            Event::Answered { call, media } => {
                self.conference.answered(CallId(call.0));
                self.on_media(call, media);
            }
            Event::MediaChanged { call, media } => self.on_media(call, media),
            Event::Ended { call, reason } => self.on_ended(call, reason),
            Event::Register(request) => self.on_register(request),
            Event::Registered { expires, .. } => {
                debug!(expires, "registration at the trunk confirmed");
            }
            Event::RegistrationFailed {
                status,
                reason,
                retry_in,
                ..
            } => tracing::warn!(
                status,
                reason = %reason,
                retry_in_secs = retry_in.as_secs(),
                "registration at the trunk failed; retrying"
            ),
            // Digits are never logged (they may be a PIN); the caller's menu takes them.
            Event::Dtmf { call, digit } => {
                if let Some(room) = self.calls.get(&call).and_then(|c| c.room.as_ref()) {
                    self.rooms.send(
                        room,
                        RoomCommand::Dtmf {
                            call: CallId(call.0),
                            digit,
                        },
                    );
                }
            }
        }
    }

    fn on_ended(&mut self, call: CallHandle, reason: konferenz_sip::EndReason) {
        debug!(call = %call, ?reason, "call ended");
        let end = match reason {
            konferenz_sip::EndReason::Failed { status, reason } => {
                konferenz_conference::End::Failed { status, reason }
            }
            konferenz_sip::EndReason::BadAnswer => konferenz_conference::End::BadAnswer,
            _ => konferenz_conference::End::Normal,
        };
        self.conference.ended(CallId(call.0), end);
        let Some(entry) = self.calls.remove(&call) else {
            return;
        };
        drop(entry.sockets);
        if entry.joined
            && let Some(room) = &entry.room
        {
            self.rooms.leave(room, call);
        }
        if let Some(port) = entry.port {
            self.ports.release(port);
        }
    }

    fn on_room_event(&mut self, event: RoomEvent) {
        let now = Instant::now();
        match event {
            RoomEvent::MediaTimeout { call } if self.is_browser(call) => {
                self.end_browser(call, "no media from the browser");
            }
            RoomEvent::MediaTimeout { call } => {
                info!(call = %call, "no media from the caller; hanging up");
                let _ = self.endpoint.hangup(now, CallHandle(call.0));
            }
            RoomEvent::HangUp { call, .. } if self.is_browser(call) => {
                self.end_browser(call, "menu ended it");
            }
            RoomEvent::HangUp { call, reason } => {
                info!(call = %call, ?reason, "voice menu ended the call");
                let _ = self.endpoint.hangup(now, CallHandle(call.0));
            }
            RoomEvent::CheckPin { call, pin } => {
                // Decided here and now: one hop from the room's tick and back.
                let wall = jiff::Timestamp::now();
                let verdict = self.conference.pin_entered(now, wall, call, &pin);
                if matches!(verdict, konferenz_conference::PinVerdict::Wrong) {
                    debug!(call = %call, "wrong PIN");
                }
                let handle = CallHandle(call.0);
                if let Some(room) = self.calls.get(&handle).and_then(|c| c.room.as_ref()) {
                    self.rooms
                        .send(room, RoomCommand::PinChecked { call, verdict });
                } else if let Some(room) = self.browser_room(call) {
                    self.rooms
                        .send(room, RoomCommand::PinChecked { call, verdict });
                }
            }
            RoomEvent::Joined { call } => self.conference.joined(call),
            RoomEvent::Talking { call, talking } => self.conference.talking(call, talking),
            RoomEvent::Transfer { participant, room } => {
                let handle = CallHandle(participant.call.0);
                let Some(entry) = self.calls.get_mut(&handle) else {
                    return;
                };
                if let Some(old) = entry.room.replace(room.clone()) {
                    self.rooms.leave_without_command(&old);
                }
                self.rooms.join(&room, RoomCommand::Adopt { participant });
            }
        }
    }

    /// The store's rooms changed: the machine's index and the rooms' music follow.
    fn on_index(&mut self, update: IndexUpdate) {
        for (room, music) in update.music {
            self.rooms.set_music(&room, music);
        }
        self.conference.set_rooms(update.rooms);
        self.conference.set_scheduled(update.scheduled);
    }

    fn caller_key(source: SocketAddr, caller_uri: &str) -> CallerKey {
        CallerKey::new(source.ip(), caller_uri)
    }
}
