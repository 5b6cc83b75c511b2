//! A conference room on real sockets: the rules are `konferenz_conference::Room`; here is
//! its transport — each participant's RTP/RTCP socket pair (`PortPair`) and the
//! [`SocketIo`] that reads them with one `recvmmsg` per socket and tick and sends with
//! `send_to` — and the metrics it reports to.

use std::net::SocketAddr;

use konferenz_conference::MediaIo;
use konferenz_media::LegStats;

use crate::metrics::MediaMetrics;
use crate::rtp_ports::PortPair;
use crate::udp_batch::{BATCH, RecvBatch};

pub use konferenz_conference::{MediaTarget, RoomSettings};

/// A room whose participants carry their sockets.
pub type Room = konferenz_conference::Room<PortPair>;
/// A command to a room on sockets.
pub type RoomCommand = konferenz_conference::RoomCommand<PortPair>;
/// An event of a room on sockets.
pub type RoomEvent = konferenz_conference::RoomEvent<PortPair>;

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

impl MediaIo<PortPair> for SocketIo {
    fn receive(&mut self, io: &PortPair, rtcp: bool, mut take: impl FnMut(SocketAddr, &[u8])) {
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

    fn send(&mut self, io: &PortPair, rtcp: bool, to: SocketAddr, bytes: &[u8]) {
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
