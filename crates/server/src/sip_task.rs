//! The SIP task: owns the endpoint machine, the UDP socket and the TCP connections, turns
//! the endpoint's events into room commands and carries out what rooms report. Admission
//! (room lookup, PIN checks, the guessing throttle) is in `admission.rs`, the registry of
//! rooms (run on the mixer threads) in `rooms.rs`.

mod admission;
mod invitations;
mod registrar;
mod rooms;

pub use invitations::SipCommand;
pub use registrar::{RegistrarSetup, load_bindings, trunk_registration};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use konferenz_conference::{CallerKey, Entry, MenuConfig, ParticipantState, RoomNumber, Throttle};
use konferenz_media::{Codec, LegConfig};
use konferenz_sip::{CallHandle, Direction, Endpoint, Event, NegotiatedMedia, Output, Transport};
use konferenz_store::Store;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info};

use crate::config::{DialinConfig, PromptsConfig, TrunkConfig};
use crate::participants::Participants;
use crate::prompts::PromptLibrary;
use crate::room::{MediaTarget, RoomCommand, RoomEvent, RoomSettings};
use crate::rtp_ports::{PortPair, PortPool};
use crate::tcp::TcpEvent;
use admission::{Lookup, PinLookup};
use rooms::Rooms;

/// Everything the SIP task needs from `serve`.
pub struct SipTask {
    pub endpoint: Endpoint,
    pub udp: Arc<UdpSocket>,
    pub tcp_events: mpsc::UnboundedReceiver<TcpEvent>,
    pub ports: PortPool,
    pub media_ip: IpAddr,
    pub store: Store,
    pub room_settings: RoomSettings,
    pub library: Arc<PromptLibrary>,
    pub dialin: DialinConfig,
    pub prompts: PromptsConfig,
    pub throttle: Throttle,
    pub trunk: TrunkConfig,
    pub participants: Participants,
    /// Commands from the HTTP API, and a sender for the ring timers.
    pub commands: (
        mpsc::UnboundedSender<SipCommand>,
        mpsc::UnboundedReceiver<SipCommand>,
    ),
    pub shutdown: watch::Receiver<bool>,
    /// The built-in registrar and our registration at the PBX.
    pub registrar: RegistrarSetup,
    /// The threads the rooms run on.
    pub mixer: crate::mixer::MixerThreads,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What the SIP task knows about one call.
struct CallEntry {
    /// What the caller dialled (a room or a shared number).
    dialled: String,
    /// The room hosting the caller's media (the dialled one until a transfer).
    room: Option<RoomNumber>,
    caller: CallerKey,
    shared: bool,
    port: Option<u16>,
    /// Sockets bound at accept, handed to the room when media is known.
    sockets: Option<PortPair>,
    /// How the caller enters, decided at admission; taken at join.
    entry: Option<(Entry, MenuConfig)>,
    joined: bool,
    /// Our SSRC towards this caller, stable across re-INVITEs.
    ssrc: u32,
    /// Who this is, for "hang up and block": the caller ID of a dial-in, the number of an
    /// invitation.
    identity: Option<String>,
    /// We placed this call (an invitation), rather than answered it.
    invited: bool,
}

struct State {
    endpoint: Endpoint,
    udp: Arc<UdpSocket>,
    tcp_writers: HashMap<SocketAddr, mpsc::UnboundedSender<Bytes>>,
    ports: PortPool,
    media_ip: IpAddr,
    store: Store,
    dialin: DialinConfig,
    shared_numbers: Vec<RoomNumber>,
    prompts: PromptsConfig,
    throttle: Throttle,
    rooms: Rooms,
    calls: HashMap<CallHandle, CallEntry>,
    lookups: mpsc::UnboundedSender<Lookup>,
    pin_lookups: mpsc::UnboundedSender<PinLookup>,
    trunk: TrunkConfig,
    participants: Participants,
    commands: mpsc::UnboundedSender<SipCommand>,
    /// Per room: identities hung up with "block", refused when they call again.
    blocked: HashMap<RoomNumber, std::collections::HashSet<String>>,
    registrar: registrar::Registrar,
}

impl SipTask {
    /// Runs until shutdown, then hangs up every call and waits briefly for the BYEs.
    pub async fn run(self) {
        let (room_events_tx, mut room_events) = mpsc::unbounded_channel();
        let (lookups_tx, mut lookups) = mpsc::unbounded_channel();
        let (pin_tx, mut pin_lookups) = mpsc::unbounded_channel();
        let mut tcp_events = self.tcp_events;
        let (commands_tx, mut commands) = self.commands;
        let mut shutdown = self.shutdown;
        let (users_tx, mut user_lookups) = mpsc::unbounded_channel();
        let registrar = registrar::Registrar::new(&self.registrar, users_tx);
        let mut sip_metrics = self.metrics.sip_publisher();
        let mut state = State {
            endpoint: self.endpoint,
            udp: self.udp,
            tcp_writers: HashMap::new(),
            ports: self.ports,
            media_ip: self.media_ip,
            store: self.store,
            shared_numbers: self.dialin.shared(),
            dialin: self.dialin,
            prompts: self.prompts,
            throttle: self.throttle,
            rooms: Rooms::new(
                self.room_settings,
                self.library,
                room_events_tx,
                self.metrics.media.clone(),
                self.mixer,
            ),
            calls: HashMap::new(),
            lookups: lookups_tx,
            pin_lookups: pin_tx,
            trunk: self.trunk,
            participants: self.participants,
            commands: commands_tx,
            blocked: HashMap::new(),
            registrar,
        };
        let trunk_registration = self.registrar.trunk_registration.and_then(|r| {
            state
                .endpoint
                .register(Instant::now(), r)
                .map_err(|e| tracing::warn!(error = %e, "cannot register at the trunk"))
                .ok()
        });
        let mut buf = vec![0u8; 65_535];
        let mut stopping_until: Option<Instant> = None;
        let mut prune = tokio::time::interval(Duration::from_secs(60));
        loop {
            let wake = state
                .endpoint
                .poll_timeout()
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
                Some(event) = room_events.recv() => state.on_room_event(event),
                Some(lookup) = lookups.recv() => state.on_lookup(lookup),
                Some(lookup) = pin_lookups.recv() => state.on_pin_lookup(lookup),
                Some(lookup) = user_lookups.recv() => state.on_user_lookup(lookup),
                Some(command) = commands.recv() => state.on_command(command),
                _ = tokio::time::sleep_until(wake.unwrap_or(far)) => {
                    state.endpoint.handle_timeout(Instant::now());
                }
                _ = prune.tick() => state.throttle.prune(Instant::now()),
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
            sip_metrics.publish(&state.endpoint);
            if stopping_until.is_some() && state.endpoint.call_count() == 0 {
                break;
            }
        }
        state.rooms.close_all();
    }
}

impl State {
    async fn drain_outputs(&mut self) {
        while let Some(output) = self.endpoint.poll_output() {
            match output {
                Output::Transmit(t) => self.transmit(t).await,
                Output::Event(event) => self.on_event(event),
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
            Transport::Tcp => match self.tcp_writers.get(&t.dest) {
                Some(writer) => {
                    let _ = writer.send(t.bytes);
                }
                None => debug!(dest = %t.dest, "no TCP connection to send on; dropped"),
            },
        }
    }

    fn on_tcp(&mut self, event: TcpEvent) {
        match event {
            TcpEvent::Opened { peer, writer } => {
                self.tcp_writers.insert(peer, writer);
            }
            TcpEvent::Message { peer, message } => {
                self.endpoint
                    .handle_message(Instant::now(), Transport::Tcp, peer, *message);
            }
            TcpEvent::Closed { peer } => {
                self.tcp_writers.remove(&peer);
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
            } => self.on_incoming(call, room, &caller, source, media),
            Event::Established { call } => debug!(call = %call, "call established"),
            // Only calls the server places produce these, and it places none yet (the
            // invitation command arrives with the outgoing-calls work).
            Event::Progress { call, .. } => {
                if self.participants.state(call.0) == Some(ParticipantState::Calling) {
                    self.participants.set(call.0, ParticipantState::Ringing);
                }
            }
            Event::Answered { call, media } => {
                self.participants.set(call.0, ParticipantState::Connected);
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
                    self.rooms.send(room, RoomCommand::Dtmf { call, digit });
                }
            }
        }
    }

    /// Starts the caller's media in its room (at accept, or when the ACK brings the answer).
    fn on_media(&mut self, call: CallHandle, media: NegotiatedMedia) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(target) = media_target(entry.ssrc, &media) else {
            tracing::warn!(call = %call, codec = media.codec.name, "negotiated a codec the mixer cannot use");
            return;
        };
        if entry.joined {
            if let Some(room) = &entry.room {
                self.rooms.send(
                    room,
                    RoomCommand::Update {
                        call,
                        media: target,
                    },
                );
            }
            return;
        }
        let (Some(sockets), Some((entry_kind, menu)), Some(room)) =
            (entry.sockets.take(), entry.entry.take(), entry.room.clone())
        else {
            return;
        };
        entry.joined = true;
        self.rooms.join(
            &room,
            RoomCommand::Join {
                call,
                sockets,
                media: target,
                entry: entry_kind,
                menu,
            },
        );
    }

    fn on_ended(&mut self, call: CallHandle, reason: konferenz_sip::EndReason) {
        debug!(call = %call, ?reason, "call ended");
        self.invitation_ended(call, &reason);
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
            RoomEvent::MediaTimeout { call } => {
                info!(call = %call, "no media from the caller; hanging up");
                let _ = self.endpoint.hangup(now, call);
            }
            RoomEvent::HangUp { call, reason } => {
                info!(call = %call, ?reason, "voice menu ended the call");
                let _ = self.endpoint.hangup(now, call);
            }
            RoomEvent::CheckPin { call, pin } => self.check_pin(call, pin),
            RoomEvent::Joined { call } => {
                // Dial-ins are listed beside invitations once they are in the room, so they
                // can be muted, hung up and blocked the same way.
                if self.participants.state(call.0).is_none()
                    && let Some(entry) = self.calls.get(&call)
                    && let Some(room) = &entry.room
                {
                    let who = entry
                        .identity
                        .clone()
                        .unwrap_or_else(|| "unknown".to_owned());
                    self.participants
                        .add(call.0, room, &who, ParticipantState::Connected);
                }
            }
            RoomEvent::Transfer { participant, room } => {
                let call = participant.call;
                let Some(entry) = self.calls.get_mut(&call) else {
                    return;
                };
                if let Some(old) = entry.room.replace(room.clone()) {
                    self.rooms.leave_without_command(&old);
                }
                self.rooms.join(&room, RoomCommand::Adopt { participant });
            }
        }
    }
}

/// Maps negotiated SDP onto what the media leg needs.
fn media_target(ssrc: u32, media: &NegotiatedMedia) -> Option<MediaTarget> {
    let codec = match media.codec.name {
        "PCMU" => Codec::Pcmu,
        "PCMA" => Codec::Pcma,
        _ => return None,
    };
    let send = media.remote_rtp.is_some()
        && matches!(
            media.remote_direction,
            Direction::SendRecv | Direction::RecvOnly
        );
    Some(MediaTarget {
        config: LegConfig {
            codec,
            payload_type: media.payload_type,
            dtmf_payload_type: media.dtmf_payload_type,
            ssrc,
        },
        remote: media.remote_rtp,
        send,
    })
}
