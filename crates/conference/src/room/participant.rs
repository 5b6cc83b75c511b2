//! One participant of a room: its transport handle (opaque to the room), media leg and
//! source latch, and where it stands — still in the voice menu (hearing prompts, typing
//! the PIN) or in the conference (mixed).

use std::net::SocketAddr;
use std::time::Instant;

use konferenz_media::{Frame, InbandDetector, LegStats, MAX_PACKET, MediaLeg, PromptPlayer};

use super::{MediaIo, MediaTarget};
use crate::call_id::CallId;
use crate::menu::Menu;
use crate::prompt::Language;
use crate::talk::TalkDetector;

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
pub struct Participant<T> {
    pub call: CallId,
    /// The driver's transport for this participant (its sockets); the room never looks in.
    pub io: T,
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

impl<T> std::fmt::Debug for Participant<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("call", &self.call)
            .field("joined", &self.is_joined())
            .finish()
    }
}

impl<T> Participant<T> {
    pub fn new(
        call: CallId,
        io: T,
        leg: MediaLeg,
        target: MediaTarget,
        now: Instant,
        mode: Mode,
        language: Language,
    ) -> Self {
        Self {
            call,
            rtcp_remote: target.remote.map(rtcp_of),
            io,
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

    /// Reads every datagram waiting for this participant's RTP (and with `rtcp` its RTCP)
    /// into the leg, from the latched source only.
    pub fn receive(&mut self, now: Instant, io: &mut impl MediaIo<T>, rtcp: bool) {
        let Self {
            io: handle,
            leg,
            target,
            rtp_latch,
            rtcp_latch,
            rtcp_remote,
            ..
        } = self;
        io.receive(handle, false, |from, bytes| {
            take(leg, now, from, bytes, &mut target.remote, rtp_latch)
        });
        if rtcp {
            io.receive(handle, true, |from, bytes| {
                take(leg, now, from, bytes, rtcp_remote, rtcp_latch)
            });
        }
    }

    /// Sends one frame of audio (if sending) and an RTCP report when due.
    pub fn send(
        &mut self,
        now: Instant,
        io: &mut impl MediaIo<T>,
        frame: &Frame,
        buf: &mut [u8; MAX_PACKET],
    ) {
        if self.target.send
            && let Some(remote) = self.target.remote
        {
            let n = self.leg.encode_frame(frame, buf);
            io.send(&self.io, false, remote, &buf[..n]);
        }
        if let Some(n) = self.leg.poll_rtcp(now, buf)
            && let Some(remote) = self.rtcp_remote
        {
            io.send(&self.io, true, remote, &buf[..n]);
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

/// One datagram from `from`: heard if the latch admits it (see [`Latch`]); a valid packet
/// (re)latches and sets where we send to (phones behind NAT send from elsewhere than their
/// SDP says).
fn take(
    leg: &mut MediaLeg,
    now: Instant,
    from: SocketAddr,
    bytes: &[u8],
    remote: &mut Option<SocketAddr>,
    latch: &mut Latch,
) {
    if !latch.admits(now, from) {
        latch.foreign += 1;
        return;
    }
    if leg.receive(now, bytes).is_ok() {
        latch.heard(now, from);
        if *remote != Some(from) {
            *remote = Some(from);
        }
    }
}
