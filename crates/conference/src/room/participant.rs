//! One participant of a room: its transport handle (opaque to the room), media leg and
//! source latch, and where it stands — still in the voice menu (hearing prompts, typing
//! the PIN) or in the conference (mixed).

use std::net::SocketAddr;
use std::time::Instant;

use konferenz_media::srtp::Srtp;
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
    /// SRTP/SRTCP when the call is encrypted: what arrives must authenticate before the
    /// leg (or the latch) sees it.
    pub srtp: Option<Box<Srtp>>,
}

/// The SRTP session for `target`'s keys (None for plain RTP, or keys the library refuses).
fn srtp_for(target: &MediaTarget) -> Option<Box<Srtp>> {
    let keys = target.srtp?;
    match Srtp::new(keys) {
        Ok(srtp) => Some(Box::new(srtp)),
        Err(error) => {
            tracing::warn!(%error, "SRTP keys refused; the call's media is dropped");
            None
        }
    }
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
        let signalled = target.remote;
        let srtp = srtp_for(&target);
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
            rtp_latch: Latch::signalled(signalled),
            rtcp_latch: Latch::signalled(signalled.map(rtcp_of)),
            srtp,
        }
    }

    /// The leg's counters with the latches' dropped datagrams.
    pub fn stats(&self) -> LegStats {
        LegStats {
            foreign: self.rtp_latch.foreign + self.rtcp_latch.foreign,
            ..self.leg.stats()
        }
    }

    pub fn is_joined(&self) -> bool {
        matches!(self.mode, Mode::Joined)
    }

    /// Applies renegotiated media.
    pub fn update(&mut self, target: MediaTarget) {
        // New keys (a re-INVITE may re-key, RFC 4568 §7.1.4) make a new session; the same
        // keys keep it, with its rollover counters and replay windows.
        if target.srtp != self.srtp.as_ref().map(|s| s.keys()) {
            self.srtp = srtp_for(&target);
        }
        self.leg.reconfigure(target.config);
        self.rtp_latch.signalled = target.remote;
        self.rtcp_latch.signalled = target.remote.map(rtcp_of);
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
            srtp,
            ..
        } = self;
        let encrypted = target.srtp.is_some();
        io.receive(handle, false, |from, bytes| {
            let mut leg = Receiver::new(leg, srtp, encrypted);
            take(&mut leg, now, from, bytes, &mut target.remote, rtp_latch)
        });
        if rtcp {
            let stream = rtp_latch.ssrc;
            io.receive(handle, true, |from, bytes| {
                let mut leg = Receiver::new(leg, srtp, encrypted);
                take_rtcp(&mut leg, now, from, bytes, rtcp_remote, rtcp_latch, stream)
            });
        }
    }

    /// Sends one frame of audio (if sending) and an RTCP report when due.
    pub fn send(
        &mut self,
        now: Instant,
        io: &mut impl MediaIo<T>,
        audio: Audio<'_>,
        buf: &mut [u8; MAX_PACKET],
    ) {
        if self.target.send
            && let Some(remote) = self.target.remote
        {
            let n = match audio {
                Audio::Frame(frame) => self.leg.encode_frame(frame, buf),
                Audio::Encoded([]) => 0,
                Audio::Encoded(payload) => self.leg.packetize(payload, buf),
            };
            if n > 0 {
                self.transmit(io, false, remote, &buf[..n]);
            }
        }
        if let Some(n) = self.leg.poll_rtcp(now, buf)
            && let Some(remote) = self.rtcp_remote
        {
            self.transmit(io, true, remote, &buf[..n]);
        }
    }

    /// Sends one packet of ours: as it is, or protected when the call is encrypted (never
    /// in the clear then: a call whose keys were refused sends nothing).
    fn transmit(&mut self, io: &mut impl MediaIo<T>, rtcp: bool, to: SocketAddr, packet: &[u8]) {
        match (&mut self.srtp, self.target.srtp.is_some()) {
            (None, false) => io.send(&self.io, rtcp, to, packet),
            (Some(srtp), _) => {
                let handle = &self.io;
                let _ = srtp.protect(packet, |datagram| io.send(handle, rtcp, to, datagram));
            }
            (None, true) => {}
        }
    }
}

/// What a participant hears in one tick.
pub enum Audio<'a> {
    /// A mix of its own, encoded with its leg's encoder.
    Frame(&'a Frame),
    /// The room's common mix, already encoded in the leg's codec.
    Encoded(&'a [u8]),
}

/// The RTCP address that goes with an RTP address (RFC 3550 §11).
fn rtcp_of(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))
}

/// A stream's latched source (symmetric RTP): where we send to, and the only source heard.
///
/// - The first valid packet latches its source, its SSRC and (RTP) sequence number; a
///   packet from the address the participant's SDP named takes over from any other source
///   (a stranger who raced the phone's first packet loses the stream at once).
/// - While latched, packets from other addresses are counted in [`Latch::foreign`] and
///   dropped, however many arrive.
/// - The stream moves to a new address (a NAT rebinding, a phone that changed networks)
///   only if the latched source has been silent for [`RELATCH_AFTER`] *and* the new
///   packet continues the stream: the same SSRC and (RTP) a sequence number at most
///   [`MAX_SEQ_GAP`] ahead of the last one heard. RTCP from elsewhere than the signalled
///   address latches (first, or after the silence) only if its sender SSRC is the RTP
///   stream's. An attacker who does not see the call's packets
///   would have to guess 48 bits (SSRC and sequence) in one go.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latch {
    source: Option<SocketAddr>,
    last: Option<Instant>,
    /// SSRC of the latched stream (RTCP: of its sender).
    ssrc: Option<u32>,
    /// Newest RTP sequence number heard from the latched source.
    seq: u16,
    /// The address the participant's SDP named (RTP) or its RTCP port.
    signalled: Option<SocketAddr>,
    /// Datagrams dropped because they came from a source other than the latched one.
    pub foreign: u64,
}

/// How long the latched source must be silent before the stream may move elsewhere.
pub const RELATCH_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// How far ahead a moved stream's first sequence number may be (packets lost in the move).
pub const MAX_SEQ_GAP: u16 = 1000;

/// SSRC and sequence number of an RTP packet (version 2), if it looks like one.
fn rtp_ids(bytes: &[u8]) -> Option<(u32, u16)> {
    if bytes.len() < 12 || bytes[0] >> 6 != 2 {
        return None;
    }
    let seq = u16::from_be_bytes([bytes[2], bytes[3]]);
    let ssrc = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    Some((ssrc, seq))
}

/// The sender SSRC of an RTCP compound packet (version 2), if it looks like one.
fn rtcp_ssrc(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 8 || bytes[0] >> 6 != 2 {
        return None;
    }
    Some(u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]))
}

impl Latch {
    /// A latch that prefers `signalled` (the SDP's address) as its source.
    pub fn signalled(signalled: Option<SocketAddr>) -> Self {
        Latch {
            signalled,
            ..Latch::default()
        }
    }

    /// The source heard now, if any.
    pub fn source(&self) -> Option<SocketAddr> {
        self.source
    }

    /// Whether an RTP packet from `from` with these ids may be heard now.
    fn admits_rtp(&self, now: Instant, from: SocketAddr, ids: Option<(u32, u16)>) -> bool {
        let Some(source) = self.source else {
            return true;
        };
        if source == from || self.signalled == Some(from) {
            return true;
        }
        let (Some((ssrc, seq)), Some(latched)) = (ids, self.ssrc) else {
            return false;
        };
        let ahead = seq.wrapping_sub(self.seq);
        self.silent(now) && ssrc == latched && (1..=MAX_SEQ_GAP).contains(&ahead)
    }

    /// Whether an RTCP packet from `from` may be heard now; `stream` is the SSRC of the
    /// participant's latched RTP stream. Besides the signalled address, only a sender that
    /// names that SSRC may latch (first) or move (after the silence) the RTCP source.
    fn admits_rtcp(
        &self,
        now: Instant,
        from: SocketAddr,
        ssrc: Option<u32>,
        stream: Option<u32>,
    ) -> bool {
        if self.source == Some(from) || self.signalled == Some(from) {
            return true;
        }
        let continues = ssrc.is_some() && ssrc == stream;
        match self.source {
            None => continues,
            Some(_) => continues && self.silent(now),
        }
    }

    fn silent(&self, now: Instant) -> bool {
        self.last
            .is_none_or(|last| now.saturating_duration_since(last) >= RELATCH_AFTER)
    }

    /// A valid packet from `from` was heard.
    fn heard(&mut self, now: Instant, from: SocketAddr, ssrc: Option<u32>, seq: Option<u16>) {
        self.source = Some(from);
        self.last = Some(now);
        if ssrc.is_some() {
            self.ssrc = ssrc;
        }
        if let Some(seq) = seq {
            self.seq = seq;
        }
    }
}

/// The leg as the latch sees it: datagrams go in decrypted, and only when they
/// authenticate, on an encrypted call.
struct Receiver<'a> {
    leg: &'a mut MediaLeg,
    srtp: &'a mut Option<Box<Srtp>>,
    encrypted: bool,
}

impl<'a> Receiver<'a> {
    fn new(leg: &'a mut MediaLeg, srtp: &'a mut Option<Box<Srtp>>, encrypted: bool) -> Self {
        Self {
            leg,
            srtp,
            encrypted,
        }
    }

    /// Whether the datagram was taken (authentic when encrypted, and valid media).
    fn receive(&mut self, now: Instant, datagram: &[u8]) -> bool {
        match (self.srtp.as_mut(), self.encrypted) {
            (None, false) => self.leg.receive(now, datagram).is_ok(),
            (Some(srtp), _) => {
                let mut taken = false;
                let leg = &mut *self.leg;
                let authentic = srtp.unprotect(datagram, |plain| {
                    taken = leg.receive(now, plain).is_ok();
                });
                authentic.is_ok() && taken
            }
            (None, true) => false,
        }
    }
}

/// One RTP datagram from `from`: heard if the latch admits it (see [`Latch`]); a valid
/// packet (re)latches and sets where we send to (phones behind NAT send from elsewhere than
/// their SDP says).
fn take(
    leg: &mut Receiver<'_>,
    now: Instant,
    from: SocketAddr,
    bytes: &[u8],
    remote: &mut Option<SocketAddr>,
    latch: &mut Latch,
) {
    let ids = rtp_ids(bytes);
    if !latch.admits_rtp(now, from, ids) {
        latch.foreign += 1;
        return;
    }
    if leg.receive(now, bytes) {
        latch.heard(now, from, ids.map(|i| i.0), ids.map(|i| i.1));
        if *remote != Some(from) {
            *remote = Some(from);
        }
    }
}

/// One RTCP datagram from `from`, by the same rules (see [`Latch`]).
fn take_rtcp(
    leg: &mut Receiver<'_>,
    now: Instant,
    from: SocketAddr,
    bytes: &[u8],
    remote: &mut Option<SocketAddr>,
    latch: &mut Latch,
    stream: Option<u32>,
) {
    let ssrc = rtcp_ssrc(bytes);
    if !latch.admits_rtcp(now, from, ssrc, stream) {
        latch.foreign += 1;
        return;
    }
    if leg.receive(now, bytes) {
        latch.heard(now, from, ssrc, None);
        if *remote != Some(from) {
            *remote = Some(from);
        }
    }
}
