//! One conference room, ticked every 20 ms by a mixer thread (see `mixer.rs`): drains its
//! participants' RTP sockets, runs the voice menu of callers who are not in yet, mixes and
//! sends each participant everyone else — plus prompts, join/leave tones, and on-hold music
//! while someone is alone.
//! The tick allocates nothing per packet, takes no lock and never awaits I/O (sockets are
//! non-blocking and drained in a batch).

mod participant;

use std::sync::Arc;
use std::time::{Duration, Instant};

use konferenz_conference::{
    Entry, HangUpReason, Menu, MenuConfig, Output as MenuOutput, Pin, PinVerdict, RoomNumber,
    join_announcement,
};
use konferenz_media::{
    FRAME_SAMPLES, Frame, FrameKind, LegConfig, LoopPlayer, MAX_PACKET, MediaLeg, Mixer,
};
use konferenz_sip::CallHandle;
use tracing::{debug, info};

pub use participant::Participant;
use participant::{DtmfSource, Mode};

use crate::metrics::{LEG_FLUSH_TICKS, MediaMetrics};

/// RTCP sockets are read every this many ticks (200 ms), RTP sockets every tick.
const RTCP_READ_TICKS: u64 = 10;
use crate::prompts::PromptLibrary;
use crate::rtp_ports::PortPair;

/// What the SIP side tells a room.
#[derive(Debug)]
pub enum RoomCommand {
    /// A caller's media starts; it enters through the voice menu.
    Join {
        call: CallHandle,
        sockets: PortPair,
        media: MediaTarget,
        entry: Entry,
        menu: MenuConfig,
    },
    /// A caller whose PIN (entered elsewhere, on a shared number) opened this room.
    Adopt { participant: Box<Participant> },
    /// Re-negotiated media (re-INVITE/UPDATE, hold/resume).
    Update {
        call: CallHandle,
        media: MediaTarget,
    },
    /// A key from a SIP INFO.
    Dtmf { call: CallHandle, digit: char },
    /// The answer to a `RoomEvent::CheckPin`.
    PinChecked {
        call: CallHandle,
        verdict: PinVerdict,
    },
    /// Stop (or resume) mixing this participant's audio.
    Mute { call: CallHandle, muted: bool },
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
    pub remote: Option<std::net::SocketAddr>,
    /// False while the peer holds the call (sendonly/inactive) or gave no address.
    pub send: bool,
}

/// What a room tells the SIP side.
#[derive(Debug)]
pub enum RoomEvent {
    /// No RTP/RTCP from this participant for the configured time: hang it up.
    MediaTimeout { call: CallHandle },
    /// The caller typed a PIN: look it up (and count it) and answer with `PinChecked`.
    CheckPin { call: CallHandle, pin: Pin },
    /// The voice menu is done with this caller: hang up.
    HangUp {
        call: CallHandle,
        reason: HangUpReason,
    },
    /// The caller's PIN opened another room: hand the participant over.
    Transfer {
        participant: Box<Participant>,
        room: RoomNumber,
    },
    /// The caller is in the conference now.
    Joined { call: CallHandle },
    /// A joined participant started or stopped talking.
    Talking { call: CallHandle, talking: bool },
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
    pub(crate) number: RoomNumber,
    settings: RoomSettings,
    library: Arc<PromptLibrary>,
    participants: Vec<Participant>,
    mixer: Mixer,
    mixer_capacity: usize,
    inputs: Vec<Frame>,
    outputs: Vec<Frame>,
    talking: Vec<bool>,
    music: LoopPlayer,
    scratch: Box<Frame>,
    packet: Box<[u8; MAX_PACKET]>,
    /// Receive buffers for one recvmmsg per socket and tick.
    recv: Box<crate::udp_batch::RecvBatch>,
    events: Vec<RoomEvent>,
    pub stats: TickStats,
    /// Shared with every room and `GET /metrics`; updated with relaxed atomic adds only.
    pub(crate) metrics: Arc<MediaMetrics>,
}

impl Room {
    /// A room playing `music` to a participant who is alone.
    pub fn new(
        number: RoomNumber,
        settings: RoomSettings,
        library: Arc<PromptLibrary>,
        music: konferenz_media::Prompt,
    ) -> Self {
        Self {
            number,
            settings,
            music: LoopPlayer::new(music),
            library,
            participants: Vec::new(),
            mixer: Mixer::with_capacity(16),
            mixer_capacity: 16,
            inputs: Vec::new(),
            outputs: Vec::new(),
            talking: Vec::new(),
            scratch: Box::new([0; FRAME_SAMPLES]),
            packet: Box::new([0; MAX_PACKET]),
            recv: crate::udp_batch::RecvBatch::new(),
            events: Vec::with_capacity(8),
            stats: TickStats::default(),
            metrics: Arc::default(),
        }
    }

    /// Reports to the server's metrics instead of a private set.
    pub fn with_metrics(mut self, metrics: Arc<MediaMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Applies a command; returns false on `Close`.
    pub fn command(&mut self, now: Instant, command: RoomCommand) -> bool {
        match command {
            RoomCommand::Join {
                call,
                sockets,
                media,
                entry,
                menu,
            } => {
                let mut leg = MediaLeg::new(media.config, now);
                leg.set_jitter_bounds(self.settings.jitter_min, self.settings.jitter_max);
                // RTCP sender reports carry wall-clock (NTP) time; the room is a driver and
                // may read it.
                if let Ok(epoch) =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
                {
                    leg.set_wallclock(now, epoch);
                }
                let language = menu.language;
                let mut menu = Box::new(Menu::new(entry, menu));
                menu.start(now);
                let mode = Mode::Menu {
                    menu,
                    playing: false,
                };
                self.add(Participant::new(
                    call, sockets, leg, media, now, mode, language,
                ));
                let i = self.participants.len() - 1;
                self.run_menu(now, i);
            }
            RoomCommand::Adopt { participant } => {
                self.add(*participant);
                let i = self.participants.len() - 1;
                self.enter(i);
            }
            RoomCommand::Update { call, media } => {
                if let Some(p) = self.find(call) {
                    p.update(media);
                }
            }
            RoomCommand::Dtmf { call, digit } => {
                if let Some(i) = self.index(call) {
                    self.digit(now, i, digit, DtmfSource::Info);
                }
            }
            RoomCommand::PinChecked { call, verdict } => {
                if let Some(i) = self.index(call) {
                    if let Mode::Menu { menu, .. } = &mut self.participants[i].mode {
                        menu.pin_checked(now, verdict);
                    }
                    self.run_menu(now, i);
                }
            }
            RoomCommand::Mute { call, muted } => {
                if let Some(p) = self.find(call) {
                    p.muted = muted;
                }
            }
            RoomCommand::Leave { call } => {
                if let Some(mut p) = self.remove(call) {
                    debug!(call = %call, stats = ?p.leg.stats(), "media statistics");
                    self.metrics.add_leg(p.leg.stats(), &mut p.reported);
                    if p.is_joined() {
                        self.metrics.participants.dec();
                        info!(room = %self.number, call = %call, participants = self.joined_count(), "left");
                        let tone = self.library.leave_tone.clone();
                        self.tell_joined(|_| true, tone);
                    }
                }
            }
            RoomCommand::Close => return false,
        }
        true
    }

    fn add(&mut self, participant: Participant) {
        self.participants.push(participant);
        self.resize();
    }

    fn remove(&mut self, call: CallHandle) -> Option<Participant> {
        let i = self.index(call)?;
        let p = self.participants.swap_remove(i);
        self.resize();
        Some(p)
    }

    fn index(&self, call: CallHandle) -> Option<usize> {
        self.participants.iter().position(|p| p.call == call)
    }

    fn find(&mut self, call: CallHandle) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.call == call)
    }

    fn joined_count(&self) -> usize {
        self.participants.iter().filter(|p| p.is_joined()).count()
    }

    /// Buffers grow only on join/leave, never in the tick.
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

    /// Queues the tone `prompt` for every joined participant that `filter` picks, unless
    /// they are still to hear (or hearing) that tone: when ten people join at once, the
    /// others hear one chime, not ten in a row.
    fn tell_joined(
        &mut self,
        filter: impl Fn(&Participant) -> bool,
        prompt: konferenz_media::Prompt,
    ) {
        for p in self
            .participants
            .iter_mut()
            .filter(|p| p.is_joined() && filter(p) && !p.prompts.holds(&prompt))
        {
            let _ = p.prompts.enqueue(prompt.clone());
        }
    }

    /// Puts participant `i` into the conference: the others hear the join tone, the
    /// newcomer "you are now in the conference, N other participants".
    fn enter(&mut self, i: usize) {
        let others = self.joined_count();
        let call = self.participants[i].call;
        let tone = self.library.join_tone.clone();
        self.tell_joined(|p| p.call != call, tone);
        let p = &mut self.participants[i];
        p.mode = Mode::Joined;
        p.prompts.stop();
        for id in join_announcement(p.language, others) {
            let _ = p.prompts.enqueue(self.library.get(id));
        }
        self.metrics.participants.inc();
        info!(room = %self.number, call = %call, participants = others + 1, "joined");
        self.events.push(RoomEvent::Joined { call });
    }

    /// A key from one of the three ways phones send them. The first way a caller uses is
    /// the one listened to: a phone that sends RFC 4733 *and* in-band tones would otherwise
    /// type every digit twice, and speech can never type over RFC 4733.
    fn digit(&mut self, now: Instant, i: usize, digit: char, source: DtmfSource) {
        let p = &mut self.participants[i];
        if *p.dtmf_source.get_or_insert(source) != source {
            return;
        }
        if let Mode::Menu { menu, .. } = &mut p.mode {
            menu.digit(now, digit);
            self.run_menu(now, i);
        }
    }

    /// Carries out what participant `i`'s menu asks for. May remove the participant
    /// (transfer), so callers must not use `i` afterwards.
    fn run_menu(&mut self, now: Instant, i: usize) {
        loop {
            let p = &mut self.participants[i];
            let Mode::Menu { menu, playing } = &mut p.mode else {
                return;
            };
            if menu.poll_timeout().is_some_and(|at| now >= at) {
                menu.handle_timeout(now);
            }
            let Some(output) = menu.poll_output() else {
                return;
            };
            match output {
                MenuOutput::Play(id) => {
                    *playing = true;
                    let _ = p.prompts.enqueue(self.library.get(id));
                }
                MenuOutput::StopPrompt => {
                    *playing = false;
                    p.prompts.stop();
                }
                MenuOutput::CheckPin(pin) => {
                    self.events.push(RoomEvent::CheckPin { call: p.call, pin })
                }
                MenuOutput::HangUp(reason) => self.events.push(RoomEvent::HangUp {
                    call: p.call,
                    reason,
                }),
                MenuOutput::Join { room, language } => {
                    p.language = language;
                    if room == self.number {
                        return self.enter(i);
                    }
                    let participant = self.participants.swap_remove(i);
                    self.resize();
                    return self.events.push(RoomEvent::Transfer {
                        participant: Box::new(participant),
                        room,
                    });
                }
            }
        }
    }

    /// One 20 ms step: receive, run menus, mix, send. Events go to `events`.
    pub fn tick(&mut self, now: Instant, events: &mut Vec<RoomEvent>) {
        self.stats.ticks += 1;
        if self.stats.ticks.is_multiple_of(LEG_FLUSH_TICKS) {
            for p in &mut self.participants {
                self.metrics.add_leg(p.leg.stats(), &mut p.reported);
            }
        }
        // RTCP comes every few seconds: its socket is read every 10th tick (staggered).
        let tick = self.stats.ticks;
        for (i, p) in self.participants.iter_mut().enumerate() {
            let rtcp = (tick + i as u64).is_multiple_of(RTCP_READ_TICKS);
            p.receive(now, &mut self.recv, rtcp);
        }
        // Menus first: a transfer removes a participant, so walk from the end.
        for i in (0..self.participants.len()).rev() {
            self.menu_input(now, i);
        }
        for (i, p) in self.participants.iter_mut().enumerate() {
            let kind = p.leg.pull_frame(now, &mut self.inputs[i]);
            self.talking[i] = p.is_joined() && !p.muted && kind != FrameKind::Silence;
            let level = if self.talking[i] {
                konferenz_conference::frame_level(&self.inputs[i])
            } else {
                0
            };
            if p.is_joined()
                && let Some(talking) = p.talk.frame(level)
            {
                self.events.push(RoomEvent::Talking {
                    call: p.call,
                    talking,
                });
            }
            // In-band digits only matter in the menu (and cost a Goertzel bank per frame).
            if let Mode::Menu { menu, .. } = &mut p.mode
                && p.dtmf_source.is_none_or(|s| s == DtmfSource::Inband)
                && let Some(d) = p.inband.push_frame(&self.inputs[i])
            {
                p.dtmf_source = Some(DtmfSource::Inband);
                menu.digit(now, d.digit);
            }
        }
        self.mixer
            .mix(&self.inputs, &self.talking, &mut self.outputs);
        let alone = self.joined_count() == 1;
        if alone {
            self.music.next_frame(&mut self.scratch);
        } else {
            self.music.rewind();
        }
        let timeout = self.settings.media_timeout;
        for i in 0..self.participants.len() {
            let p = &mut self.participants[i];
            let out = &mut self.outputs[i];
            // An idle player would only write silence nobody in the conference uses.
            let prompt_playing = !(p.is_joined() && p.prompts.is_idle())
                && p.prompts.next_frame(&mut self.inputs[i]);
            match &mut p.mode {
                Mode::Joined if prompt_playing => add_into(out, &self.inputs[i]),
                Mode::Joined if alone => out.copy_from_slice(&*self.scratch),
                Mode::Joined => {}
                Mode::Menu { menu, playing } => {
                    out.copy_from_slice(&self.inputs[i]);
                    if *playing && !prompt_playing {
                        *playing = false;
                        menu.prompt_finished(now);
                    }
                }
            }
            p.send(now, &self.outputs[i], &mut self.packet);
            if !timeout.is_zero() && !p.timed_out {
                let last = p.leg.last_received().unwrap_or(p.joined);
                if now.saturating_duration_since(last) >= timeout {
                    p.timed_out = true;
                    self.events.push(RoomEvent::MediaTimeout { call: p.call });
                }
            }
        }
        for i in (0..self.participants.len()).rev() {
            self.run_menu(now, i);
        }
        events.append(&mut self.events);
    }

    /// RFC 4733 digits (in the menu; ignored in the conference for now) and menu timers.
    fn menu_input(&mut self, now: Instant, i: usize) {
        while let Some(d) = self.participants[i].leg.poll_dtmf() {
            if self.participants[i].is_joined() {
                continue;
            }
            self.digit(now, i, d.digit, DtmfSource::Rfc4733);
            if self.participants.get(i).is_none_or(|p| p.is_joined()) {
                return;
            }
        }
        if !self.participants[i].is_joined() {
            self.run_menu(now, i);
        }
    }

    /// The clock side of a tick: it starts `lateness` after its deadline.
    pub fn tick_started(&mut self, lateness: Duration) {
        if lateness > crate::metrics::LATE_TICK {
            self.stats.late += 1;
        }
        self.metrics.tick_started(lateness);
    }

    /// The room ends: its participants and itself leave the gauges.
    pub(crate) fn closed(&mut self) {
        for p in &mut self.participants {
            self.metrics.add_leg(p.leg.stats(), &mut p.reported);
        }
        let joined = self.joined_count() as i64;
        self.metrics.participants.dec_by(joined);
        self.metrics.rooms.dec();
    }

    /// Events produced outside `tick` (by commands).
    pub fn take_events(&mut self, events: &mut Vec<RoomEvent>) {
        events.append(&mut self.events);
    }
}

/// `out += add`, saturating (a tone over the conference).
fn add_into(out: &mut Frame, add: &Frame) {
    for (o, a) in out.iter_mut().zip(add) {
        *o = o.saturating_add(*a);
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod menu_tests;
