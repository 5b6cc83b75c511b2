//! The room's two ports to the outside: [`MediaIo`] reads and sends a participant's RTP
//! and RTCP for it (sockets in the server, an in-memory network in tests), and
//! [`RoomMetrics`] takes its counters (atomics in the server). Both are called from the
//! 20 ms tick, so implementations must not block, lock or allocate per packet.

use std::net::SocketAddr;
use std::time::Duration;

use konferenz_media::LegStats;

/// Rooms hand their legs' counters to [`RoomMetrics::leg`] every this many ticks (1 s).
pub const LEG_FLUSH_TICKS: u64 = 50;

/// Ticks starting more than this after their deadline count as late.
pub const LATE_TICK: Duration = Duration::from_millis(2);

/// Reads and sends a participant's packets; `T` is the participant's transport handle.
pub trait MediaIo<T> {
    /// Hands every datagram waiting for the participant (its RTP, or with `rtcp` its RTCP)
    /// with its source to `take`. May stop early to bound the work of one tick.
    fn receive(&mut self, io: &T, rtcp: bool, take: impl FnMut(SocketAddr, &[u8]));

    /// Sends `bytes` from the participant's RTP (or RTCP) port to `to`. Failures are the
    /// implementation's to count or log; the room goes on.
    fn send(&mut self, io: &T, rtcp: bool, to: SocketAddr, bytes: &[u8]);
}

/// Where a room's counters go.
pub trait RoomMetrics: Send + Sync {
    /// A leg's counters now; add what changed since `reported` and update it.
    fn leg(&self, now: LegStats, reported: &mut LegStats);
    /// Participants in the conference (past the menu) changed by `delta`.
    fn participants(&self, delta: i64);
    /// A tick started `lateness` after its deadline.
    fn tick_started(&self, lateness: Duration);
    /// The room ended.
    fn room_closed(&self);
}

/// Counts nothing (tests, tools).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMetrics;

impl RoomMetrics for NoMetrics {
    fn leg(&self, now: LegStats, reported: &mut LegStats) {
        *reported = now;
    }
    fn participants(&self, _: i64) {}
    fn tick_started(&self, _: Duration) {}
    fn room_closed(&self) {}
}
