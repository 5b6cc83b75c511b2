//! The run: one thread, one loop. SIP in and out, a 20 ms tick on absolute deadlines
//! (start + k·20 ms) that sends every stream's frame in one sendmmsg per socket, recvmmsg
//! on the shared RTP sockets, and the phases set-up → hold → hang-up.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use konferenz_media::FRAME_DURATION;
use konferenz_media::rtp::is_rtcp;
use konferenz_sip::{CallHandle, Endpoint, EndpointConfig, PCMA, PCMU, default_timers};

use crate::audio::{EncodedFrames, Law};
use crate::config::{Config, Mode};
use crate::net::{RecvBatch, SendBatch, bind_rtp_pair, set_buffers, wait_readable};
use crate::report::Report;
use crate::session::Room;
use crate::sip::{CallRec, CallState, SipCounters};
use crate::stats::Lateness;

/// Quiet every member of a room must have heard before its first burst.
const QUIET_BEFORE: Duration = Duration::from_millis(500);
/// How long to wait for the answers to our BYEs at the end.
const HANGUP_WAIT: Duration = Duration::from_secs(8);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Setup,
    Hold { since: Instant },
    HangUp { since: Instant },
}

/// All state of a run.
pub struct Runner {
    pub(crate) cfg: Config,
    pub(crate) endpoint: Endpoint,
    pub(crate) sip: UdpSocket,
    pub(crate) sip_addr: SocketAddr,
    rtp: Vec<(UdpSocket, UdpSocket)>,
    pub(crate) rtp_addrs: Vec<SocketAddr>,
    batches: Vec<SendBatch>,
    recv: RecvBatch,
    frames_ulaw: EncodedFrames,
    frames_alaw: EncodedFrames,
    pub(crate) calls: Vec<CallRec>,
    pub(crate) by_handle: HashMap<CallHandle, usize>,
    pub(crate) by_source: HashMap<(usize, SocketAddr), usize>,
    pub(crate) rooms: Vec<Room>,
    pub(crate) sip_stats: SipCounters,
    pub(crate) hanging_up: bool,
    start: Instant,
    tick: u64,
    pub(crate) lateness: Lateness,
    /// RTP datagrams from sources we do not know.
    pub(crate) stray: u64,
    phase: Phase,
    pub(crate) hold: Option<(Instant, Instant)>,
    /// Since when every room bursts (or the quiet wait gave up): `duration` counts from here.
    pub(crate) measuring: Option<Instant>,
}

impl Runner {
    pub fn new(cfg: Config) -> io::Result<Runner> {
        let sip = UdpSocket::bind((cfg.local_ip, cfg.sip_port))?;
        sip.set_nonblocking(true)?;
        set_buffers(&sip, 4 << 20);
        let sip_addr = sip.local_addr()?;
        let rtp = (0..cfg.rtp_sockets.max(1))
            .map(|_| bind_rtp_pair(cfg.local_ip))
            .collect::<io::Result<Vec<_>>>()?;
        let rtp_addrs = rtp
            .iter()
            .map(|(s, _)| s.local_addr())
            .collect::<io::Result<Vec<_>>>()?;
        let codecs = match cfg.codec {
            Law::Ulaw => vec![PCMU, PCMA],
            Law::Alaw => vec![PCMA, PCMU],
        };
        let endpoint = Endpoint::new(
            EndpointConfig {
                local_addr: sip_addr,
                user_agent: "konferenz-load".into(),
                codecs,
                timers: default_timers(),
            },
            u64::from(std::process::id()),
        );
        let rooms = match cfg.mode {
            Mode::Call { .. } => (0..cfg.rooms.max(1) as u64)
                .map(|r| Room::new((cfg.room_base + r).to_string()))
                .collect(),
            Mode::Answer => Vec::new(),
        };
        // Wake-ups as close to the deadline as the kernel allows (default slack is 50 µs).
        // SAFETY: prctl with an integer argument only affects this thread.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong);
        }
        Ok(Runner {
            frames_ulaw: EncodedFrames::new(Law::Ulaw, cfg.noise),
            frames_alaw: EncodedFrames::new(Law::Alaw, cfg.noise),
            batches: (0..rtp.len()).map(|_| SendBatch::default()).collect(),
            recv: RecvBatch::default(),
            cfg,
            endpoint,
            sip,
            sip_addr,
            rtp,
            rtp_addrs,
            calls: Vec::new(),
            by_handle: HashMap::new(),
            by_source: HashMap::new(),
            rooms,
            sip_stats: SipCounters::default(),
            hanging_up: false,
            start: Instant::now(),
            tick: 0,
            lateness: Lateness::default(),
            stray: 0,
            phase: Phase::Setup,
            hold: None,
            measuring: None,
        })
    }

    /// The SIP address the tool listens on (for answer mode).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    fn deadline(&self, k: u64) -> Instant {
        self.start + FRAME_DURATION * k as u32
    }

    /// The first tick whose deadline is at or after `t`.
    pub(crate) fn tick_at(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.start).as_micros() as u64;
        since.div_ceil(FRAME_DURATION.as_micros() as u64)
    }

    /// Runs until every call is hung up; returns the report.
    pub fn run(mut self) -> io::Result<Report> {
        self.start = Instant::now();
        let mut placed = 0usize;
        let mut ready = Vec::new();
        loop {
            let now = Instant::now();
            if matches!(self.cfg.mode, Mode::Call { .. }) && self.phase == Phase::Setup {
                while placed < self.cfg.calls && now >= self.call_time(placed) {
                    self.place_call(now, placed);
                    placed += 1;
                }
            }
            if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                self.endpoint.handle_timeout(now);
            }
            self.drain_sip(now);
            while self.deadline(self.tick) <= Instant::now() {
                self.send_tick();
            }
            if self.advance_phase(Instant::now(), placed) {
                break;
            }
            let mut wake = self.deadline(self.tick);
            if let Some(t) = self.endpoint.poll_timeout() {
                wake = wake.min(t);
            }
            if placed < self.cfg.calls
                && self.phase == Phase::Setup
                && matches!(self.cfg.mode, Mode::Call { .. })
            {
                wake = wake.min(self.call_time(placed));
            }
            let timeout = wake.saturating_duration_since(Instant::now());
            let mut sockets: Vec<&UdpSocket> = vec![&self.sip];
            sockets.extend(self.rtp.iter().map(|(s, _)| s));
            wait_readable(&sockets, timeout, &mut ready);
            let ready = std::mem::take(&mut ready);
            if ready[0] {
                self.read_sip()?;
            }
            for (i, _) in ready.iter().enumerate().skip(1).filter(|(_, r)| **r) {
                self.read_rtp(i - 1)?;
            }
        }
        Ok(Report::build(&self))
    }

    fn call_time(&self, i: usize) -> Instant {
        self.start + Duration::from_secs_f64(i as f64 / self.cfg.rate.max(0.001))
    }

    /// Moves through the phases; true when the run is over.
    fn advance_phase(&mut self, now: Instant, placed: usize) -> bool {
        match self.phase {
            Phase::Setup => {
                let settled = self.calls.iter().all(|c| {
                    c.state != CallState::Setup
                        && !c.stream.as_ref().is_some_and(|s| s.entering_keys())
                });
                let timed_out = match self.cfg.mode {
                    Mode::Call { .. } => {
                        placed == self.cfg.calls
                            && now >= self.call_time(placed) + self.cfg.setup_timeout
                    }
                    Mode::Answer => self
                        .sip_stats
                        .first_invite
                        .is_some_and(|t| now >= t + self.cfg.setup_timeout),
                };
                let all_there = self.calls.len() >= self.cfg.calls;
                if (all_there && settled) || timed_out {
                    self.phase = Phase::Hold { since: now };
                    self.hold = Some((now + self.cfg.warmup, now + self.cfg.duration));
                }
                false
            }
            Phase::Hold { since } => {
                if self.measuring.is_none() {
                    let quiet = self
                        .rooms
                        .iter()
                        .filter(|r| r.members.len() >= 2)
                        .all(|r| r.first_burst.is_some());
                    if quiet || now >= since + self.cfg.warmup + self.cfg.quiet_timeout {
                        self.measuring = Some(now);
                    }
                }
                if self.measuring.is_some_and(|m| now >= m + self.cfg.duration) {
                    self.hangup_all(now);
                    self.phase = Phase::HangUp { since: now };
                }
                false
            }
            Phase::HangUp { since } => {
                self.endpoint.call_count() == 0 || now >= since + HANGUP_WAIT
            }
        }
    }

    /// Sends tick `self.tick` for every live stream and records how late it went out.
    fn send_tick(&mut self) {
        let k = self.tick;
        self.tick += 1;
        let deadline = self.deadline(k);
        let bursting = matches!(self.phase, Phase::Hold { .. })
            && self.hold.is_some_and(|(from, _)| deadline >= from);
        let mut started = Vec::new();
        if bursting {
            let every = (self.cfg.burst_interval.as_micros() / FRAME_DURATION.as_micros()) as u64;
            let now = Instant::now();
            for r in 0..self.rooms.len() {
                let calls = &self.calls;
                // A room's first burst waits until every member hears quiet: join tones
                // and announcements are over.
                let quiet = |&c: &usize| {
                    calls[c]
                        .stream
                        .as_ref()
                        .is_some_and(|s| s.quiet_for(now) >= QUIET_BEFORE)
                };
                if self.rooms[r].bursts == 0 && !self.rooms[r].members.iter().all(quiet) {
                    continue;
                }
                let eligible = |c: usize| {
                    calls[c].state == CallState::Up
                        && calls[c].stream.as_ref().is_some_and(|s| !s.entering_keys())
                };
                if let Some(b) = self.rooms[r].maybe_start_burst(k, every.max(1), eligible) {
                    self.rooms[r].first_burst.get_or_insert(now);
                    started.push((r, b));
                }
            }
        }
        let mut any = false;
        for (i, call) in self.calls.iter_mut().enumerate() {
            if call.state == CallState::Ended {
                continue;
            }
            let Some(stream) = call.stream.as_mut() else {
                continue;
            };
            let frames = match stream.law {
                Law::Ulaw => &self.frames_ulaw,
                Law::Alaw => &self.frames_alaw,
            };
            let burst = self.rooms[call.room].burst_frame(i, k);
            stream.build(k, frames, burst, &mut self.batches[stream.socket]);
            any = true;
        }
        let sent_at = Instant::now();
        for (batch, (socket, _)) in self.batches.iter_mut().zip(&self.rtp) {
            if !batch.is_empty() {
                let _ = batch.flush(socket);
            }
        }
        if any {
            self.lateness
                .record(Instant::now().saturating_duration_since(deadline));
        }
        for (r, (talker, id)) in started {
            let room = &mut self.rooms[r];
            for &m in &room.members {
                if m == talker {
                    continue;
                }
                if let Some(s) = self.calls[m].stream.as_mut()
                    && s.expect_burst(id, sent_at)
                {
                    room.missed += 1;
                }
            }
        }
        for call in self
            .calls
            .iter_mut()
            .filter(|c| c.state == CallState::Up && !self.hanging_up)
        {
            if let Some(s) = call.stream.as_mut()
                && s.burst_overdue(sent_at)
            {
                self.rooms[call.room].missed += 1;
            }
        }
    }

    fn read_sip(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 65536];
        loop {
            match self.sip.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let now = Instant::now();
                    self.on_sip_datagram(now, from, &buf[..n]);
                    self.drain_sip(now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn read_rtp(&mut self, socket: usize) -> io::Result<()> {
        loop {
            let n = self.recv.recv(&self.rtp[socket].0)?;
            if n == 0 {
                return Ok(());
            }
            let now = Instant::now();
            for d in 0..n {
                let (src, bytes) = self.recv.get(d);
                if is_rtcp(bytes) {
                    continue;
                }
                let Some(&call) = src.and_then(|s| self.by_source.get(&(socket, s))) else {
                    // After our BYEs the server sends a few more frames; not stray.
                    self.stray += u64::from(!self.hanging_up);
                    continue;
                };
                let room = self.calls[call].room;
                if let Some(delay) = self.calls[call]
                    .stream
                    .as_mut()
                    .and_then(|s| s.receive(now, bytes))
                {
                    self.rooms[room].delays_ms.push(delay);
                }
            }
            if n < crate::net::RECV_BATCH {
                return Ok(());
            }
        }
    }
}
