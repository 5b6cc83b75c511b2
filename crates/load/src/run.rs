//! The run: one thread, one loop. SIP in and out, a 20 ms tick on absolute deadlines
//! (start + k·20 ms) that sends every stream's frame in one sendmmsg per socket, recvmmsg
//! on the shared RTP sockets, and the phases set-up → hold → hang-up.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use konferenz_media::FRAME_DURATION;
use konferenz_media::rtp::is_rtcp;
use konferenz_sip::{
    CallHandle, Direction, Endpoint, EndpointConfig, NegotiatedMedia, PCMA, PCMU, default_timers,
};

use crate::audio::{EncodedFrames, Law};
use crate::config::{Config, Mode};
use crate::janus::{JanusControl, JanusEvent, JanusSetup};
use crate::net::{RecvBatch, SendBatch, bind_rtp_pair, set_buffers, wait_readable};
use crate::report::Report;
use crate::session::Room;
use crate::sip::{CallRec, CallState, SipCounters};
use crate::stats::Lateness;
use crate::watch::{ProcSample, ServerReport, fetch_metrics};

/// Quiet every member of a room must have heard before its first burst.
const QUIET_BEFORE: Duration = Duration::from_millis(500);
/// How long to wait for the answers to our BYEs at the end.
const HANGUP_WAIT: Duration = Duration::from_secs(8);
/// … and for Janus to detach every handle (one HTTP request each).
const JANUS_HANGUP_WAIT: Duration = Duration::from_secs(60);

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
    /// The next slot of `tick` to send.
    slot: usize,
    /// Bursts started this tick whose talker's slot has not been sent yet: (room, talker, id).
    started: Vec<(usize, usize, u64)>,
    /// How long each slot took to build and send (first packet to last).
    pub(crate) send_time: Lateness,
    pub(crate) send_time_window: Lateness,
    pub(crate) lateness: Lateness,
    /// The same, only for ticks inside the measured window.
    pub(crate) lateness_window: Lateness,
    /// Our own CPU time (utime, stime in s) at the window's start and end.
    pub(crate) own_cpu: [Option<(f64, f64)>; 2],
    /// When the measured window ended (hang-up started).
    pub(crate) window_end: Option<Instant>,
    /// RTP datagrams from sources we do not know.
    pub(crate) stray: u64,
    phase: Phase,
    pub(crate) hold: Option<(Instant, Instant)>,
    /// Since when every room bursts (or the quiet wait gave up): `duration` counts from here.
    pub(crate) measuring: Option<Instant>,
    /// Janus mode: the HTTP control thread, and whether it has hung everyone up.
    pub(crate) janus: Option<JanusControl>,
    janus_hung_up: bool,
    /// RTP packets built for sending, and those of them dropped on purpose (`--loss`).
    pub(crate) packets_built: u64,
    pub(crate) packets_dropped: u64,
    loss_rng: u64,
    /// `--watch-pid` samples and `--metrics-url` scrapes at the window's start and end.
    watch: [Option<ProcSample>; 2],
    scrapes: [Option<MetricsFetch>; 2],
    pub(crate) server: Option<ServerReport>,
}

type MetricsFetch = std::thread::JoinHandle<Option<std::collections::BTreeMap<String, f64>>>;

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
                tls_port: None,
                srtp: konferenz_sip::SrtpPolicy::default(),
            },
            u64::from(std::process::id()),
        );
        let rooms = match cfg.mode {
            Mode::Call { .. } | Mode::Janus { .. } => (0..cfg.rooms.max(1) as u64)
                .map(|r| Room::new((cfg.room_base + r).to_string()))
                .collect(),
            Mode::Answer => Vec::new(),
        };
        let loss_seed = cfg.loss_seed;
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
            slot: 0,
            started: Vec::new(),
            send_time: Lateness::default(),
            send_time_window: Lateness::default(),
            lateness: Lateness::default(),
            lateness_window: Lateness::default(),
            own_cpu: [None, None],
            window_end: None,
            stray: 0,
            phase: Phase::Setup,
            hold: None,
            measuring: None,
            janus: None,
            janus_hung_up: false,
            packets_built: 0,
            packets_dropped: 0,
            loss_rng: loss_seed,
            watch: [None, None],
            scrapes: [None, None],
            server: None,
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
        if let Mode::Janus { url, sampling_rate } = &self.cfg.mode {
            let setup = JanusSetup {
                url: url.clone(),
                rooms: (0..self.cfg.rooms.max(1) as u64)
                    .map(|r| self.cfg.room_base + r)
                    .collect(),
                sampling_rate: *sampling_rate,
                rate: self.cfg.rate,
            };
            let locals = (0..self.cfg.calls).map(|i| self.rtp_addr(i)).collect();
            let rooms = self.rooms.len();
            self.calls = (0..self.cfg.calls)
                .map(|i| CallRec {
                    handle: None,
                    room: i % rooms,
                    started: self.start,
                    state: CallState::Setup,
                    stream: None,
                })
                .collect();
            self.janus = Some(JanusControl::start(setup, locals));
        }
        loop {
            let now = Instant::now();
            self.drain_janus(now);
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
            while self.slot_deadline(self.tick, self.slot) <= Instant::now() {
                self.send_slot();
            }
            if self.advance_phase(Instant::now(), placed) {
                break;
            }
            let mut wake = self.slot_deadline(self.tick, self.slot);
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
        self.server = self.server_report();
        Ok(Report::build(&self))
    }

    /// Samples the watched server at the window's start (0) or end (1).
    fn watch_server(&mut self, at: usize) {
        self.own_cpu[at] = Some(own_cpu());
        if at == 1 {
            self.window_end = Some(Instant::now());
        }
        if let Some(pid) = self.cfg.watch_pid {
            self.watch[at] = crate::watch::sample(pid);
        }
        if let Some(url) = &self.cfg.metrics_url {
            let fetch = fetch_metrics(url.clone());
            if at == 1 {
                // The window is over; the scrape must land before our hang-up changes things.
                while !fetch.is_finished() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            self.scrapes[at] = Some(fetch);
        }
        eprintln!(
            "konferenz-load: measuring {}",
            if at == 0 { "started" } else { "done" }
        );
    }

    fn server_report(&mut self) -> Option<ServerReport> {
        let [a, b] = std::mem::take(&mut self.scrapes);
        let join = |h: Option<MetricsFetch>| h.and_then(|h| h.join().ok().flatten());
        let metrics = join(a).zip(join(b));
        let (Some(pid), [Some(start), Some(end)]) = (self.cfg.watch_pid, self.watch) else {
            return None;
        };
        let participants = self.calls.iter().filter(|c| c.stream.is_some()).count();
        Some(ServerReport::build(pid, start, end, participants, metrics))
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
                    Mode::Janus { .. } => {
                        now >= self.call_time(self.cfg.calls) + self.cfg.setup_timeout
                    }
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
                        self.watch_server(0);
                    }
                }
                if self.measuring.is_some_and(|m| now >= m + self.cfg.duration) {
                    self.watch_server(1);
                    self.hangup_all(now);
                    self.phase = Phase::HangUp { since: now };
                }
                false
            }
            Phase::HangUp { since } => match self.cfg.mode {
                Mode::Janus { .. } => self.janus_hung_up || now >= since + JANUS_HANGUP_WAIT,
                _ => self.endpoint.call_count() == 0 || now >= since + HANGUP_WAIT,
            },
        }
    }

    /// Deadline of slot `j` of tick `k`: the tick's streams are spread over `send_slots`
    /// equal slots of the 20 ms frame (stream `i` in slot `i mod send_slots`), as real phones
    /// are not in phase; each slot is one sendmmsg per socket.
    fn slot_deadline(&self, k: u64, j: usize) -> Instant {
        self.deadline(k) + FRAME_DURATION * j as u32 / self.slots() as u32
    }

    fn slots(&self) -> usize {
        self.cfg.send_slots.max(1)
    }

    /// Sends slot `self.slot` of tick `self.tick` and moves on to the next slot.
    fn send_slot(&mut self) {
        let (k, j) = (self.tick, self.slot);
        let slots = self.slots();
        self.slot += 1;
        if self.slot == slots {
            self.slot = 0;
            self.tick += 1;
        }
        let deadline = self.slot_deadline(k, j);
        let began = Instant::now();
        if j == 0 {
            self.start_bursts(k);
        }
        let mut any = false;
        for i in (j..self.calls.len()).step_by(slots) {
            let call = &mut self.calls[i];
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
            let batch = &mut self.batches[stream.socket];
            stream.build(k, frames, burst, batch);
            self.packets_built += 1;
            if self.cfg.loss_pct > 0.0 {
                // Top 53 bits as a uniform number in [0, 1).
                let u = (next_random(&mut self.loss_rng) >> 11) as f64 / (1u64 << 53) as f64;
                if u * 100.0 < self.cfg.loss_pct {
                    batch.drop_last();
                    self.packets_dropped += 1;
                }
            }
            any = true;
        }
        let sent_at = Instant::now();
        for (batch, (socket, _)) in self.batches.iter_mut().zip(&self.rtp) {
            if !batch.is_empty() {
                let _ = batch.flush(socket);
            }
        }
        if any {
            let done = Instant::now();
            let late = began.saturating_duration_since(deadline);
            let took = done.saturating_duration_since(began);
            self.lateness.record(late);
            self.send_time.record(took);
            if self.measuring.is_some() && self.own_cpu[1].is_none() {
                self.lateness_window.record(late);
                self.send_time_window.record(took);
            }
        }
        // Listeners wait for the bursts whose talker sent in this slot.
        let mut waiting = std::mem::take(&mut self.started);
        waiting.retain(|&(r, talker, id)| {
            if talker % slots != j {
                return true;
            }
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
            false
        });
        self.started = waiting;
        if j == 0 {
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
    }

    /// At the start of tick `k`: starts the rooms' bursts that are due.
    fn start_bursts(&mut self, k: u64) {
        let deadline = self.deadline(k);
        let bursting = matches!(self.phase, Phase::Hold { .. })
            && self.hold.is_some_and(|(from, _)| deadline >= from);
        if !bursting {
            return;
        }
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
            if let Some((talker, id)) = self.rooms[r].maybe_start_burst(k, every.max(1), eligible) {
                self.rooms[r].first_burst.get_or_insert(now);
                self.started.push((r, talker, id));
            }
        }
    }

    /// Acts on what the Janus control thread reports.
    fn drain_janus(&mut self, now: Instant) {
        while let Some(event) = self.janus.as_ref().and_then(|j| j.try_event()) {
            match event {
                JanusEvent::Joining { index } => {
                    self.sip_stats.first_invite.get_or_insert(now);
                    if let Some(c) = self.calls.get_mut(index) {
                        c.started = now;
                    }
                }
                JanusEvent::Joined {
                    index,
                    remote,
                    setup_ms,
                } => {
                    if self.calls.get(index).map(|c| c.state) != Some(CallState::Setup) {
                        continue;
                    }
                    self.calls[index].state = CallState::Up;
                    self.sip_stats.setup_ms.push(setup_ms);
                    self.sip_stats.answered += 1;
                    self.sip_stats.last_answer = Some(now);
                    let media = NegotiatedMedia {
                        remote_rtp: Some(remote),
                        codec: PCMU,
                        payload_type: 0,
                        dtmf_payload_type: None,
                        remote_direction: Direction::SendRecv,
                        srtp: None,
                        secure_profile: false,
                    };
                    self.start_stream(now, index, &media);
                }
                JanusEvent::Failed { index, why } => {
                    *self.sip_stats.failures.entry(why).or_default() += 1;
                    if let Some(c) = index.and_then(|i| self.calls.get_mut(i))
                        && c.state == CallState::Setup
                    {
                        c.state = CallState::Ended;
                    }
                }
                JanusEvent::HungUp { ok } => {
                    *self.sip_stats.bye_answers.entry(200).or_default() += ok;
                    self.janus_hung_up = true;
                }
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

/// SplitMix64: the next number of the seeded loss pattern.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Our process's (utime, stime) in seconds.
fn own_cpu() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (s(u.ru_utime), s(u.ru_stime))
}
