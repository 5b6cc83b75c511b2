//! The bridge between a browser's peer connection (on the WebRTC task) and its participant
//! in a room (on a mixer thread): plain RTP packets in fixed-size slots, passed through
//! bounded lock-free queues — no allocation and no lock per packet. Inbound the WebRTC
//! task writes and the room reads in its tick; outbound the room writes and the task is
//! woken (tokio's channel wakes it with an atomic waker).

use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;

use konferenz_conference::CallId;
use konferenz_media::MAX_PACKET;
use tokio::sync::mpsc;

/// Packets queued per direction and browser at most (320 ms): more means the other side
/// stalls, and the newest packets are dropped.
pub const QUEUE: usize = 16;

/// Where the room "sends" a browser's packets and the address its packets "come from":
/// the link ignores addresses; this one stands for the browser in the room's source latch.
pub const BROWSER_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9);

/// One RTP packet (header + payload), by value.
pub struct Packet {
    len: usize,
    bytes: [u8; MAX_PACKET],
}

impl Packet {
    /// A packet holding `bytes` (cut at [`MAX_PACKET`]).
    pub fn new(bytes: &[u8]) -> Self {
        let len = bytes.len().min(MAX_PACKET);
        let mut packet = Packet {
            len,
            bytes: [0; MAX_PACKET],
        };
        packet.bytes[..len].copy_from_slice(&bytes[..len]);
        packet
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The room's end: what the browser sent, and a way to send to it.
pub struct BrowserLink {
    call: CallId,
    inbound: std_mpsc::Receiver<Packet>,
    outbound: mpsc::Sender<(CallId, Packet)>,
}

impl std::fmt::Debug for BrowserLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BrowserLink({})", self.call)
    }
}

impl BrowserLink {
    /// Hands every packet waiting to `take` (from [`BROWSER_ADDR`]).
    pub fn receive(&self, mut take: impl FnMut(SocketAddr, &[u8])) {
        for _ in 0..QUEUE {
            match self.inbound.try_recv() {
                Ok(packet) => take(BROWSER_ADDR, packet.bytes()),
                Err(_) => return,
            }
        }
    }

    /// Queues one packet for the browser; dropped when the queue is full.
    pub fn send(&self, bytes: &[u8]) {
        let _ = self.outbound.try_send((self.call, Packet::new(bytes)));
    }
}

/// The WebRTC task's end for one browser: where its packets go.
pub struct PeerEnd {
    inbound: std_mpsc::SyncSender<Packet>,
}

impl PeerEnd {
    /// Passes one packet from the browser to the room; false when the room has gone.
    pub fn deliver(&self, bytes: &[u8]) -> bool {
        !matches!(
            self.inbound.try_send(Packet::new(bytes)),
            Err(std_mpsc::TrySendError::Disconnected(_))
        )
    }
}

/// A new link for `call`: the room's end and the task's end. `outbound` is the task's
/// one queue for packets from every room.
pub fn link(call: CallId, outbound: mpsc::Sender<(CallId, Packet)>) -> (BrowserLink, PeerEnd) {
    let (tx, rx) = std_mpsc::sync_channel(QUEUE);
    (
        BrowserLink {
            call,
            inbound: rx,
            outbound,
        },
        PeerEnd { inbound: tx },
    )
}
