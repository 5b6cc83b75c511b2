//! One participant of a room: its sockets and media leg, and where it stands — still
//! in the voice menu (hearing prompts, typing the PIN) or in the conference (mixed).

use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use konferenz_conference::{Language, Menu, TalkDetector};
use konferenz_media::{Frame, InbandDetector, LegStats, MAX_PACKET, MediaLeg, PromptPlayer};
use konferenz_sip::CallHandle;

use super::MediaTarget;
use crate::rtp_ports::PortPair;
use crate::udp_batch::RecvBatch;

/// Where a participant stands.
#[derive(Debug)]
pub enum Mode {
    /// In the voice menu: hears prompts, is not mixed; `playing` while a menu prompt plays.
    Menu { menu: Box<Menu>, playing: bool },
    /// In the conference.
    Joined,
}

/// How a caller's phone sends keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtmfSource {
    Rfc4733,
    Info,
    Inband,
}

/// A caller's media inside a room. Moves between rooms whole (a shared dial-in
/// number's lobby hands callers to the room their PIN opened).
pub struct Participant {
    pub call: CallHandle,
    pub sockets: PortPair,
    pub leg: MediaLeg,
    pub target: MediaTarget,
    /// The RTCP destination: latched from received RTCP, else RTP port + 1.
    pub rtcp_remote: Option<SocketAddr>,
    pub joined: Instant,
    pub timed_out: bool,
    pub mode: Mode,
    /// Prompts for this caller: the menu's, the join announcement, join/leave tones.
    pub prompts: PromptPlayer,
    /// In-band DTMF, for phones that send neither RFC 4733 nor INFO (menu only).
    pub inband: InbandDetector,
    /// The way this caller's keys arrive, once the first one has.
    pub dtmf_source: Option<DtmfSource>,
    pub language: Language,
    /// Muted by a moderator: still hears the room, is not mixed into it.
    pub muted: bool,
    /// Whether they are talking (reported to the conference on change).
    pub talk: TalkDetector,
    /// The leg's counters as last added to the server's metrics.
    pub reported: LegStats,
    /// Whose RTP and RTCP are heard.
    pub rtp_latch: Latch,
    pub rtcp_latch: Latch,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("call", &self.call)
            .field("joined", &self.is_joined())
            .finish()
    }
}

impl Participant {
    pub fn new(
        call: CallHandle,
        sockets: PortPair,
        leg: MediaLeg,
        target: MediaTarget,
        now: Instant,
        mode: Mode,
        language: Language,
    ) -> Self {
        Self {
            call,
            rtcp_remote: target.remote.map(rtcp_of),
            sockets,
            leg,
            target,
            joined: now,
            timed_out: false,
            mode,
            prompts: PromptPlayer::new(),
            inband: InbandDetector::new(),
            dtmf_source: None,
            muted: false,
            talk: TalkDetector::default(),
            language,
            reported: LegStats::default(),
            rtp_latch: Latch::default(),
            rtcp_latch: Latch::default(),
        }
    }

    pub fn is_joined(&self) -> bool {
        matches!(self.mode, Mode::Joined)
    }

    /// Applies renegotiated media.
    pub fn update(&mut self, target: MediaTarget) {
        self.leg.reconfigure(target.config);
        self.rtcp_remote = target.remote.map(rtcp_of);
        self.target = target;
    }

    /// Reads every datagram waiting on the RTP socket (and with `rtcp` the RTCP socket)
    /// into the leg.
    pub fn receive(&mut self, now: Instant, batch: &mut RecvBatch, rtcp: bool) {
        drain(
            &self.sockets.rtp,
            &mut self.leg,
            now,
            batch,
            &mut self.target.remote,
            &mut self.rtp_latch,
        );
        if rtcp {
            drain(
                &self.sockets.rtcp,
                &mut self.leg,
                now,
                batch,
                &mut self.rtcp_remote,
                &mut self.rtcp_latch,
            );
        }
    }

    /// Sends one frame of audio (if sending) and an RTCP report when due.
    pub fn send(&mut self, now: Instant, frame: &Frame, buf: &mut [u8; MAX_PACKET]) {
        if self.target.send
            && let Some(remote) = self.target.remote
        {
            let n = self.leg.encode_frame(frame, buf);
            if let Err(e) = self.sockets.rtp.send_to(&buf[..n], remote) {
                tracing::debug!(call = %self.call, error = %e, "RTP send failed");
            }
        }
        if let Some(n) = self.leg.poll_rtcp(now, buf)
            && let Some(remote) = self.rtcp_remote
        {
            let _ = self.sockets.rtcp.send_to(&buf[..n], remote);
        }
    }
}

/// The RTCP address that goes with an RTP address (RFC 3550 §11).
fn rtcp_of(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))
}

/// A stream's latched source (symmetric RTP): the first valid packet's address becomes
/// where we send, and only that source is heard while it keeps sending. A stranger sending
/// to the port cannot take the stream over; a phone whose address changed (NAT rebinding)
/// is followed once its old address has been silent for [`RELATCH_AFTER`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Latch {
    source: Option<SocketAddr>,
    last: Option<Instant>,
    /// Packets dropped because they came from elsewhere while the source was live.
    pub foreign: u64,
}

/// How long the latched source must be silent before another may take its place.
pub const RELATCH_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

impl Latch {
    /// Whether a packet from `from` may be heard now.
    fn admits(&self, now: Instant, from: SocketAddr) -> bool {
        match (self.source, self.last) {
            (Some(source), Some(last)) if source != from => {
                now.saturating_duration_since(last) >= RELATCH_AFTER
            }
            _ => true,
        }
    }

    /// A valid packet from `from` was heard.
    fn heard(&mut self, now: Instant, from: SocketAddr) {
        self.source = Some(from);
        self.last = Some(now);
    }
}

/// Reads every datagram waiting on `socket` into the leg, from the latched source only
/// (see [`Latch`]); packets go back to where that source sends from (phones behind NAT
/// send from elsewhere than their SDP says).
fn drain(
    socket: &UdpSocket,
    leg: &mut MediaLeg,
    now: Instant,
    batch: &mut RecvBatch,
    remote: &mut Option<SocketAddr>,
    latch: &mut Latch,
) {
    // Bounded so a flood on one socket cannot starve the tick.
    for _ in 0..16 {
        let n = batch.recv(socket).unwrap_or(0);
        for i in 0..n {
            let (bytes, from) = batch.get(i);
            let Some(from) = from else { continue };
            if !latch.admits(now, from) {
                latch.foreign += 1;
                continue;
            }
            if leg.receive(now, bytes).is_ok() {
                latch.heard(now, from);
                if *remote != Some(from) {
                    *remote = Some(from);
                }
            }
        }
        if n < crate::udp_batch::BATCH {
            break;
        }
    }
}
