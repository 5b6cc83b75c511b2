//! The SIP task: owns the endpoint machine, the UDP socket and the TCP connections, turns
//! the endpoint's events into room commands and carries out what rooms report.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use konferenz_conference::RoomNumber;
use konferenz_media::{Codec, LegConfig};
use konferenz_sip::{
    CallHandle, Direction, Endpoint, Event, LocalMedia, NegotiatedMedia, Output, Transport,
};
use konferenz_store::Store;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::room::{self, MediaTarget, Room, RoomCommand, RoomEvent, RoomSettings};
use crate::rtp_ports::PortPool;
use crate::tcp::TcpEvent;

/// Everything the SIP task needs from `serve`.
pub struct SipTask {
    pub endpoint: Endpoint,
    pub udp: Arc<UdpSocket>,
    pub tcp_events: mpsc::UnboundedReceiver<TcpEvent>,
    pub ports: PortPool,
    pub media_ip: IpAddr,
    pub store: Store,
    pub room_settings: RoomSettings,
    pub shutdown: watch::Receiver<bool>,
}

struct RoomEntry {
    commands: mpsc::UnboundedSender<RoomCommand>,
    members: usize,
}

struct CallEntry {
    room: String,
    port: Option<u16>,
    /// Sockets bound at accept, handed to the room when media is known.
    sockets: Option<crate::rtp_ports::PortPair>,
    joined: bool,
    /// Our SSRC towards this caller, stable across re-INVITEs.
    ssrc: u32,
}

/// The outcome of looking a dialled room up in the database.
struct Lookup {
    call: CallHandle,
    media: Option<NegotiatedMedia>,
    found: Result<bool, String>,
}

struct State {
    endpoint: Endpoint,
    udp: Arc<UdpSocket>,
    tcp_writers: HashMap<SocketAddr, mpsc::UnboundedSender<Bytes>>,
    ports: PortPool,
    media_ip: IpAddr,
    store: Store,
    room_settings: RoomSettings,
    rooms: HashMap<String, RoomEntry>,
    calls: HashMap<CallHandle, CallEntry>,
    room_events: mpsc::UnboundedSender<RoomEvent>,
    lookups: mpsc::UnboundedSender<Lookup>,
}

impl SipTask {
    /// Runs until shutdown, then hangs up every call and waits briefly for the BYEs.
    pub async fn run(self) {
        let (room_events_tx, mut room_events) = mpsc::unbounded_channel();
        let (lookups_tx, mut lookups) = mpsc::unbounded_channel();
        let mut tcp_events = self.tcp_events;
        let mut shutdown = self.shutdown;
        let mut state = State {
            endpoint: self.endpoint,
            udp: self.udp,
            tcp_writers: HashMap::new(),
            ports: self.ports,
            media_ip: self.media_ip,
            store: self.store,
            room_settings: self.room_settings,
            rooms: HashMap::new(),
            calls: HashMap::new(),
            room_events: room_events_tx,
            lookups: lookups_tx,
        };
        let mut buf = vec![0u8; 65_535];
        let mut stopping_until: Option<Instant> = None;
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
                _ = tokio::time::sleep_until(wake.unwrap_or(far)) => {
                    state.endpoint.handle_timeout(Instant::now());
                }
                changed = shutdown.changed(), if stopping_until.is_none() => {
                    let _ = changed;
                    let ended = state.endpoint.hangup_all(Instant::now());
                    info!(calls = ended, "shutting down: hung up every call");
                    stopping_until = Some(Instant::now() + Duration::from_secs(2));
                }
                _ = tokio::time::sleep_until(stop_at), if stopping_until.is_some() => break,
            }
            state.drain_outputs().await;
            if stopping_until.is_some() && state.endpoint.call_count() == 0 {
                break;
            }
        }
        for (_, room) in state.rooms.drain() {
            let _ = room.commands.send(RoomCommand::Close);
        }
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
                call, room, media, ..
            } => self.on_incoming(call, room, media),
            Event::Established { call } => debug!(call = %call, "call established"),
            Event::MediaChanged { call, media } => self.on_media(call, media),
            Event::Ended { call, reason } => self.on_ended(call, reason),
            // Digits are never logged (they may be a PIN); the voice menu consumes them.
            Event::Dtmf { call, .. } => debug!(call = %call, "DTMF key via SIP INFO"),
        }
    }

    /// Looks the room up off the SIP loop; the answer comes back as a `Lookup`.
    fn on_incoming(&mut self, call: CallHandle, room: String, media: Option<NegotiatedMedia>) {
        self.calls.insert(
            call,
            CallEntry {
                room: room.clone(),
                port: None,
                sockets: None,
                joined: false,
                ssrc: rand::random(),
            },
        );
        let store = self.store.clone();
        let lookups = self.lookups.clone();
        tokio::spawn(async move {
            let found = match RoomNumber::parse(&room) {
                Err(_) => Ok(false),
                Ok(number) => store
                    .find_room(&number)
                    .await
                    .map(|r| r.is_some())
                    .map_err(|e| e.to_string()),
            };
            let _ = lookups.send(Lookup { call, media, found });
        });
    }

    fn on_lookup(&mut self, lookup: Lookup) {
        let now = Instant::now();
        let call = lookup.call;
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        match lookup.found {
            Ok(true) => {}
            Ok(false) => {
                info!(call = %call, room = %entry.room, "no such room");
                let _ = self.endpoint.reject(now, call, 404);
                return;
            }
            Err(error) => {
                warn!(call = %call, %error, "room lookup failed");
                let _ = self.endpoint.reject(now, call, 503);
                return;
            }
        }
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
        if self.endpoint.accept(now, call, local).is_err() {
            // The caller cancelled while we looked the room up.
            return;
        }
        if let Some(media) = lookup.media {
            self.on_media(call, media);
        }
    }

    fn on_media(&mut self, call: CallHandle, media: NegotiatedMedia) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(target) = media_target(entry.ssrc, &media) else {
            warn!(call = %call, codec = media.codec.name, "negotiated a codec the mixer cannot use");
            return;
        };
        if entry.joined {
            if let Some(room) = self.rooms.get(&entry.room) {
                let _ = room.commands.send(RoomCommand::Update {
                    call,
                    media: target,
                });
            }
            return;
        }
        let Some(sockets) = entry.sockets.take() else {
            return;
        };
        entry.joined = true;
        let number = entry.room.clone();
        let settings = self.room_settings;
        let events = self.room_events.clone();
        let room = self.rooms.entry(number.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(room::run(Room::new(number, settings), rx, events));
            RoomEntry {
                commands: tx,
                members: 0,
            }
        });
        room.members += 1;
        let _ = room.commands.send(RoomCommand::Join {
            call,
            sockets,
            media: target,
        });
    }

    fn on_ended(&mut self, call: CallHandle, reason: konferenz_sip::EndReason) {
        debug!(call = %call, ?reason, "call ended");
        let Some(entry) = self.calls.remove(&call) else {
            return;
        };
        drop(entry.sockets);
        if entry.joined
            && let Some(room) = self.rooms.get_mut(&entry.room)
        {
            let _ = room.commands.send(RoomCommand::Leave { call });
            room.members -= 1;
            if room.members == 0 {
                let _ = room.commands.send(RoomCommand::Close);
                self.rooms.remove(&entry.room);
            }
        }
        if let Some(port) = entry.port {
            self.ports.release(port);
        }
    }

    fn on_room_event(&mut self, event: RoomEvent) {
        match event {
            RoomEvent::MediaTimeout { call } => {
                info!(call = %call, "no media from the caller; hanging up");
                let _ = self.endpoint.hangup(Instant::now(), call);
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
