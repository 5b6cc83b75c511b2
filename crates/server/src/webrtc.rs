//! The WebRTC task: browsers as participants. One UDP socket serves every browser (ICE-lite:
//! our one host candidate in each answer; a datagram goes to the peer whose `accepts()`
//! takes it, others are dropped and counted). Each browser is a str0m `Rtc` ([`Peer`]);
//! its audio reaches its room as plain RTP over a [`BrowserLink`], so the room treats it
//! like any other leg (jitter buffer, Opus decoding, mixing, muting, timeouts).
//!
//! The SIP task admits browsers (it owns the conference machine), answers their offers
//! (str0m is sans-IO: an answer is a computation) and hands this task the new peer, a
//! replacement (a reconnect: a new offer for the same participant) or a close.

mod link;
mod peer;

pub use link::{BROWSER_ADDR, BrowserLink, Packet};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use konferenz_conference::CallId;
use str0m::Input;
use str0m::net::{Protocol, Receive};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use peer::Peer;
pub use peer::{Answer, OfferError};

/// Control messages waiting for the task at most.
const CONTROL_QUEUE: usize = 256;
/// Packets from all rooms waiting for the task at most.
const OUTBOUND_QUEUE: usize = 4096;
/// A peer whose ICE stays disconnected this long is closed (the participant stays until
/// the room's media timeout, so a reconnecting browser keeps its place).
const DISCONNECTED_GRACE: Duration = Duration::from_secs(15);

/// What the HTTP request for a browser join gets back.
#[derive(Debug)]
pub struct Answered {
    pub call: CallId,
    pub sdp: String,
}

/// Why a browser could not join (mapped to HTTP answers by the API).
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error(transparent)]
    Offer(#[from] OfferError),
    #[error("this browser call is not in the conference (any more)")]
    NoSuchCall,
    #[error(transparent)]
    Refused(#[from] konferenz_conference::CommandError),
    #[error("joining from the browser is not enabled on this server")]
    Disabled,
}

enum Control {
    /// The peer of a call the SIP task admitted.
    Adopt {
        call: CallId,
        answer: Answer,
        end: link::PeerEnd,
    },
    /// A new peer connection for an existing call (the browser reconnects).
    Replace { call: CallId, answer: Answer },
    /// The call ended.
    Close { call: CallId },
}

/// The SIP task's handle on the WebRTC task.
#[derive(Clone)]
pub struct WebRtc {
    control: mpsc::Sender<Control>,
    outbound: mpsc::Sender<(CallId, Packet)>,
    local: SocketAddr,
}

/// Counters (logged when the task stops).
#[derive(Debug, Default)]
struct WebRtcStats {
    /// Datagrams no peer accepted.
    foreign: u64,
    peers_created: u64,
}

impl WebRtc {
    /// Binds `listen` and starts the task; browsers are told to reach `public` (the
    /// listen address when None) on the bound port.
    pub async fn start(
        listen: SocketAddr,
        public: Option<std::net::IpAddr>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<WebRtc> {
        let socket = UdpSocket::bind(listen).await?;
        let bound = socket.local_addr()?;
        let local = SocketAddr::new(public.unwrap_or(bound.ip()), bound.port());
        let (control, control_rx) = mpsc::channel(CONTROL_QUEUE);
        let (outbound, outbound_rx) = mpsc::channel(OUTBOUND_QUEUE);
        let task = Task {
            socket,
            local,
            peers: HashMap::new(),
            idle: HashMap::new(),
            stats: WebRtcStats::default(),
        };
        tokio::spawn(task.run(control_rx, outbound_rx, shutdown));
        tracing::info!(%bound, candidate = %local, "WebRTC (browsers) listening");
        Ok(WebRtc {
            control,
            outbound,
            local,
        })
    }

    /// Answers a browser's offer with a new peer connection (ICE-lite, our one candidate);
    /// also returns the payload type the browser uses for Opus.
    pub fn answer(&self, offer: &str) -> Result<(Answer, u8), OfferError> {
        let mut answer = Answer::new(offer, self.local, Instant::now())?;
        let payload_type = answer.opus_payload_type().unwrap_or(111);
        Ok((answer, payload_type))
    }

    /// Starts the admitted call's peer; returns the room's end of its link.
    pub fn adopt(&self, call: CallId, answer: Answer) -> Option<BrowserLink> {
        let (room_end, end) = link::link(call, self.outbound.clone());
        self.control
            .try_send(Control::Adopt { call, answer, end })
            .is_ok()
            .then_some(room_end)
    }

    /// A reconnecting browser's new peer connection for `call`.
    pub fn replace(&self, call: CallId, answer: Answer) -> bool {
        self.control
            .try_send(Control::Replace { call, answer })
            .is_ok()
    }

    /// The call ended: its peer goes.
    pub fn close(&self, call: CallId) {
        let _ = self.control.try_send(Control::Close { call });
    }
}

struct Task {
    socket: UdpSocket,
    /// Our candidate's address: the destination of every datagram as str0m sees it (the
    /// socket may be bound to a wildcard or behind a NAT).
    local: SocketAddr,
    peers: HashMap<CallId, Peer>,
    /// Links of calls whose peer connection is over (the browser may reconnect).
    idle: HashMap<CallId, link::PeerEnd>,
    stats: WebRtcStats,
}

impl Task {
    async fn run(
        mut self,
        mut control: mpsc::Receiver<Control>,
        mut outbound: mpsc::Receiver<(CallId, Packet)>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut buf = vec![0u8; 2048];
        let mut batch = Vec::with_capacity(64);
        loop {
            let wake = self
                .peers
                .values()
                .map(|p| p.timeout)
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        self.on_datagram(from, &buf[..n]);
                    }
                }
                _n @ 1.. = outbound.recv_many(&mut batch, 64) => {
                    let now = Instant::now();
                    for (call, packet) in batch.drain(..) {
                        if let Some(peer) = self.peers.get_mut(&call) {
                            peer.send(packet.bytes(), now);
                            self.drain(call);
                        }
                    }
                }
                Some(message) = control.recv() => self.on_control(message),
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => self.on_timeout(),
                _ = shutdown.changed() => break,
            }
        }
        for peer in self.peers.values_mut() {
            peer.rtc.disconnect();
        }
        tracing::debug!(
            peers = self.stats.peers_created,
            foreign = self.stats.foreign,
            "WebRTC task stopped"
        );
    }

    fn on_datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        let Ok(receive) = Receive::new(Protocol::Udp, from, self.local, bytes) else {
            self.stats.foreign += 1;
            return;
        };
        let input = Input::Receive(Instant::now(), receive);
        let Some(call) = self
            .peers
            .iter()
            .find(|(_, p)| p.rtc.accepts(&input))
            .map(|(c, _)| *c)
        else {
            self.stats.foreign += 1;
            return;
        };
        if let Some(peer) = self.peers.get_mut(&call)
            && let Err(e) = peer.rtc.handle_input(input)
        {
            tracing::debug!(%call, error = %e, "browser datagram refused");
        }
        self.drain(call);
    }

    fn on_timeout(&mut self) {
        let now = Instant::now();
        let due: Vec<CallId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.timeout <= now)
            .map(|(c, _)| *c)
            .collect();
        for call in due {
            if let Some(peer) = self.peers.get_mut(&call) {
                if peer
                    .disconnected_since
                    .is_some_and(|t| now.duration_since(t) > DISCONNECTED_GRACE)
                {
                    tracing::info!(%call, "browser unreachable; its connection is closed");
                    peer.rtc.disconnect();
                }
                let _ = peer.rtc.handle_input(Input::Timeout(now));
            }
            self.drain(call);
        }
    }

    /// Runs a peer's output; a peer that is over is removed (its participant stays until
    /// the browser reconnects or the room's media timeout ends the call).
    fn drain(&mut self, call: CallId) {
        let Some(peer) = self.peers.get_mut(&call) else {
            return;
        };
        let socket = &self.socket;
        let alive = peer.drain(|_, to, bytes| {
            let _ = socket.try_send_to(bytes, to);
        });
        if !alive {
            tracing::debug!(%call, "browser peer connection over");
            if let Some(peer) = self.peers.remove(&call) {
                self.idle.insert(call, peer.end);
            }
        }
    }

    fn on_control(&mut self, message: Control) {
        let now = Instant::now();
        match message {
            Control::Adopt { call, answer, end } => {
                self.stats.peers_created += 1;
                self.peers.insert(call, Peer::new(call, answer, end, now));
                self.drain(call);
            }
            Control::Replace { call, answer } => {
                // The old connection's link end moves to the new peer.
                let end = match self.peers.remove(&call) {
                    Some(old) => Some(old.end),
                    None => self.idle.remove(&call),
                };
                if let Some(end) = end {
                    tracing::info!(%call, "browser reconnects with a new peer connection");
                    self.peers.insert(call, Peer::new(call, answer, end, now));
                    self.drain(call);
                }
            }
            Control::Close { call } => {
                self.idle.remove(&call);
                if let Some(mut peer) = self.peers.remove(&call) {
                    peer.rtc.disconnect();
                    let socket = &self.socket;
                    peer.drain(|_, to, bytes| {
                        let _ = socket.try_send_to(bytes, to);
                    });
                }
            }
        }
    }
}
