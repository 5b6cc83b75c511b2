//! A conference room on real sockets: the rules are `konferenz_conference::Room`; here is
//! its transport — each participant's [`MediaPath`]: a phone's RTP/RTCP socket pair
//! (`PortPair`) or a browser's link to the WebRTC task — and the [`SocketIo`] that reads
//! sockets with one `recvmmsg` per socket and tick and sends with `send_to` — and the
//! metrics it reports to.

use std::net::SocketAddr;

use konferenz_conference::MediaIo;
use konferenz_media::LegStats;

use crate::metrics::MediaMetrics;
use crate::rtp_ports::PortPair;
use crate::udp_batch::{BATCH, RecvBatch};
use crate::webrtc::BrowserLink;

pub use konferenz_conference::{MediaTarget, RoomSettings};

/// How a participant's media reaches the room.
#[derive(Debug)]
pub enum MediaPath {
    /// A phone: its own RTP and RTCP sockets.
    Sockets(PortPair),
    /// A browser: plain RTP to and from its peer connection on the WebRTC task (which
    /// does ICE, DTLS-SRTP and RTCP itself).
    Browser(BrowserLink),
}

/// A room whose participants carry their media paths.
pub type Room = konferenz_conference::Room<MediaPath>;
/// A command to a room on sockets.
pub type RoomCommand = konferenz_conference::RoomCommand<MediaPath>;
/// An event of a room on sockets.
pub type RoomEvent = konferenz_conference::RoomEvent<MediaPath>;

/// Batches read from one socket per tick at most, so a flood on one port cannot starve
/// the room (16 × [`BATCH`] datagrams).
const MAX_BATCHES: usize = 16;

/// Reads and sends participants' packets on their sockets; one per mixer thread (its
/// receive buffers are reused by every room the thread ticks).
pub struct SocketIo {
    batch: Box<RecvBatch>,
}

impl SocketIo {
    pub fn new() -> Self {
        Self {
            batch: RecvBatch::new(),
        }
    }
}

impl Default for SocketIo {
    fn default() -> Self {
        Self::new()
    }
}

impl MediaIo<MediaPath> for SocketIo {
    fn receive(&mut self, io: &MediaPath, rtcp: bool, mut take: impl FnMut(SocketAddr, &[u8])) {
        let io = match io {
            MediaPath::Sockets(io) => io,
            // RTCP stays between the browser and the WebRTC task.
            MediaPath::Browser(link) if !rtcp => return link.receive(take),
            MediaPath::Browser(_) => return,
        };
        let socket = if rtcp { &io.rtcp } else { &io.rtp };
        for _ in 0..MAX_BATCHES {
            let n = self.batch.recv(socket).unwrap_or(0);
            for i in 0..n {
                if let (bytes, Some(from)) = self.batch.get(i) {
                    take(from, bytes);
                }
            }
            if n < BATCH {
                break;
            }
        }
    }

    fn send(&mut self, io: &MediaPath, rtcp: bool, to: SocketAddr, bytes: &[u8]) {
        let io = match io {
            MediaPath::Sockets(io) => io,
            MediaPath::Browser(link) if !rtcp => return link.send(bytes),
            MediaPath::Browser(_) => return,
        };
        let socket = if rtcp { &io.rtcp } else { &io.rtp };
        if let Err(e) = socket.send_to(bytes, to) {
            tracing::debug!(%to, error = %e, "RTP send failed");
        }
    }
}

impl konferenz_conference::RoomMetrics for MediaMetrics {
    fn leg(&self, now: LegStats, reported: &mut LegStats) {
        self.add_leg(now, reported);
    }

    fn participants(&self, delta: i64) {
        self.participants.inc_by(delta);
    }

    fn tick_started(&self, lateness: std::time::Duration) {
        MediaMetrics::tick_started(self, lateness);
    }

    fn room_closed(&self) {
        self.rooms.dec();
    }
}

#[cfg(test)]
mod tests;
