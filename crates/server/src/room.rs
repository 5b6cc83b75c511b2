//! One task per conference room: drains its participants' RTP sockets, mixes on an absolute
//! 20 ms clock and sends each participant everyone else. The tick allocates nothing, takes
//! no lock and never awaits I/O (sockets are non-blocking and drained in a batch).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use konferenz_media::{
    FRAME_DURATION, FRAME_SAMPLES, Frame, FrameKind, LegConfig, MAX_PACKET, MediaLeg, Mixer,
};
use konferenz_sip::CallHandle;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::rtp_ports::PortPair;

/// What the SIP side tells a room.
#[derive(Debug)]
pub enum RoomCommand {
    /// A participant's media starts.
    Join {
        call: CallHandle,
        sockets: PortPair,
        media: MediaTarget,
    },
    /// Re-negotiated media (re-INVITE/UPDATE, hold/resume).
    Update {
        call: CallHandle,
        media: MediaTarget,
    },
    /// The participant left; its sockets are dropped.
    Leave { call: CallHandle },
    /// The room is empty and forgotten by the SIP side: end the task.
    Close,
}

/// Where and how to send a participant's audio.
#[derive(Clone, Copy, Debug)]
pub struct MediaTarget {
    pub config: LegConfig,
    /// The peer's RTP address from SDP; replaced by where its packets actually come from.
    pub remote: Option<SocketAddr>,
    /// False while the peer holds the call (sendonly/inactive) or gave no address.
    pub send: bool,
}

/// What a room tells the SIP side.
#[derive(Debug)]
pub enum RoomEvent {
    /// No RTP/RTCP from this participant for the configured time: hang it up.
    MediaTimeout { call: CallHandle },
}

/// Room settings from the config.
#[derive(Clone, Copy, Debug)]
pub struct RoomSettings {
    /// 0 disables dead-call detection.
    pub media_timeout: Duration,
    /// Bounds of the adaptive jitter buffer (`rtp.jitter_min_ms`, `rtp.jitter_max_ms`).
    pub jitter_min: Duration,
    pub jitter_max: Duration,
}

struct Participant {
    call: CallHandle,
    sockets: PortPair,
    leg: MediaLeg,
    target: MediaTarget,
    /// The RTCP destination: latched from received RTCP, else RTP port + 1.
    rtcp_remote: Option<SocketAddr>,
    joined: Instant,
    timed_out: bool,
}

/// Counters a room keeps about its own clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct TickStats {
    pub ticks: u64,
    /// Ticks that started more than 2 ms after their deadline.
    pub late: u64,
    /// Whole ticks skipped after a stall (the clock is re-anchored instead of bursting).
    pub skipped: u64,
}

/// The room's state, separate from the task so a test can tick it by hand.
pub struct Room {
    number: String,
    settings: RoomSettings,
    participants: Vec<Participant>,
    mixer: Mixer,
    mixer_capacity: usize,
    inputs: Vec<Frame>,
    outputs: Vec<Frame>,
    talking: Vec<bool>,
    packet: Box<[u8; MAX_PACKET]>,
    pub stats: TickStats,
}

impl Room {
    pub fn new(number: String, settings: RoomSettings) -> Self {
        Self {
            number,
            settings,
            participants: Vec::new(),
            mixer: Mixer::with_capacity(16),
            mixer_capacity: 16,
            inputs: Vec::new(),
            outputs: Vec::new(),
            talking: Vec::new(),
            packet: Box::new([0; MAX_PACKET]),
            stats: TickStats::default(),
        }
    }

    /// Applies a command; returns false on `Close`.
    pub fn command(&mut self, now: Instant, command: RoomCommand) -> bool {
        match command {
            RoomCommand::Join {
                call,
                sockets,
                media,
            } => self.join(now, call, sockets, media),
            RoomCommand::Update { call, media } => {
                if let Some(p) = self.participants.iter_mut().find(|p| p.call == call) {
                    p.leg.reconfigure(media.config);
                    p.rtcp_remote = media.remote.map(rtcp_of);
                    p.target = media;
                }
            }
            RoomCommand::Leave { call } => {
                if let Some(i) = self.participants.iter().position(|p| p.call == call) {
                    let p = self.participants.swap_remove(i);
                    let stats = p.leg.stats();
                    info!(room = %self.number, call = %call, participants = self.participants.len(), "left");
                    debug!(call = %call, ?stats, "media statistics");
                    self.resize();
                }
            }
            RoomCommand::Close => return false,
        }
        true
    }

    fn join(&mut self, now: Instant, call: CallHandle, sockets: PortPair, target: MediaTarget) {
        let mut leg = MediaLeg::new(target.config, now);
        leg.set_jitter_bounds(self.settings.jitter_min, self.settings.jitter_max);
        // RTCP sender reports carry wall-clock (NTP) time; the room is the one place that
        // may read it.
        if let Ok(since_epoch) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
        {
            leg.set_wallclock(now, since_epoch);
        }
        self.participants.push(Participant {
            call,
            sockets,
            leg,
            rtcp_remote: target.remote.map(rtcp_of),
            target,
            joined: now,
            timed_out: false,
        });
        info!(room = %self.number, call = %call, participants = self.participants.len(), "joined");
        self.resize();
    }

    /// Buffers grow only on join, never in the tick.
    fn resize(&mut self) {
        let n = self.participants.len();
        self.inputs.resize(n, [0; FRAME_SAMPLES]);
        self.outputs.resize(n, [0; FRAME_SAMPLES]);
        self.talking.resize(n, false);
        if n > self.mixer_capacity {
            self.mixer_capacity = n.next_power_of_two();
            self.mixer = Mixer::with_capacity(self.mixer_capacity);
        }
    }

    /// One 20 ms step: receive, mix, send. Reports calls whose media went silent.
    pub fn tick(&mut self, now: Instant, events: &mut Vec<RoomEvent>) {
        self.stats.ticks += 1;
        for p in &mut self.participants {
            drain(
                &p.sockets.rtp,
                &mut p.leg,
                now,
                self.packet.as_mut(),
                &mut p.target.remote,
            );
            drain(
                &p.sockets.rtcp,
                &mut p.leg,
                now,
                self.packet.as_mut(),
                &mut p.rtcp_remote,
            );
        }
        for (i, p) in self.participants.iter_mut().enumerate() {
            let kind = p.leg.pull_frame(now, &mut self.inputs[i]);
            self.talking[i] = kind != FrameKind::Silence;
        }
        self.mixer
            .mix(&self.inputs, &self.talking, &mut self.outputs);
        let timeout = self.settings.media_timeout;
        for (i, p) in self.participants.iter_mut().enumerate() {
            if p.target.send
                && let Some(remote) = p.target.remote
            {
                let n = p.leg.encode_frame(&self.outputs[i], &mut self.packet);
                if let Err(e) = p.sockets.rtp.send_to(&self.packet[..n], remote) {
                    debug!(call = %p.call, error = %e, "RTP send failed");
                }
            }
            if let Some(n) = p.leg.poll_rtcp(now, &mut self.packet)
                && let Some(remote) = p.rtcp_remote
            {
                let _ = p.sockets.rtcp.send_to(&self.packet[..n], remote);
            }
            if !timeout.is_zero() && !p.timed_out {
                let last = p.leg.last_received().unwrap_or(p.joined);
                if now.saturating_duration_since(last) >= timeout {
                    p.timed_out = true;
                    events.push(RoomEvent::MediaTimeout { call: p.call });
                }
            }
        }
    }
}

/// The RTCP address that goes with an RTP address (RFC 3550 §11).
fn rtcp_of(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))
}

/// Reads every datagram waiting on `socket` into the leg. Symmetric RTP: the source of
/// valid packets becomes the destination (phones behind NAT send from elsewhere than SDP says).
fn drain(
    socket: &UdpSocket,
    leg: &mut MediaLeg,
    now: Instant,
    buf: &mut [u8; MAX_PACKET],
    remote: &mut Option<SocketAddr>,
) {
    // Bounded so a flood on one socket cannot starve the tick.
    for _ in 0..64 {
        match socket.recv_from(buf) {
            Ok((n, from)) => {
                if leg.receive(now, &buf[..n]).is_ok() && *remote != Some(from) {
                    *remote = Some(from);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => break,
        }
    }
}

/// Runs a room until `Close`: ticks on absolute 20 ms deadlines (never `sleep(20ms)`, which
/// drifts), applies commands between ticks.
pub async fn run(
    mut room: Room,
    mut commands: mpsc::UnboundedReceiver<RoomCommand>,
    events: mpsc::UnboundedSender<RoomEvent>,
) {
    let mut deadline = tokio::time::Instant::now() + FRAME_DURATION;
    let mut pending = Vec::new();
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => {
                let Some(command) = command else { break };
                if !room.command(Instant::now(), command) {
                    break;
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let now = tokio::time::Instant::now();
                let lateness = now.saturating_duration_since(deadline);
                if lateness > Duration::from_millis(2) {
                    room.stats.late += 1;
                }
                room.tick(now.into_std(), &mut pending);
                for event in pending.drain(..) {
                    let _ = events.send(event);
                }
                deadline += FRAME_DURATION;
                if lateness > FRAME_DURATION * 5 {
                    // A stall (suspend, overload): re-anchor instead of bursting ticks.
                    let skipped = (lateness.as_millis() / FRAME_DURATION.as_millis()) as u64;
                    room.stats.skipped += skipped;
                    warn!(room = %room.number, skipped, "mixer clock stalled; re-anchored");
                    deadline = now + FRAME_DURATION;
                }
            }
        }
    }
    debug!(room = %room.number, stats = ?room.stats, "room closed");
}

#[cfg(test)]
mod tests;
