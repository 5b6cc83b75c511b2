//! `Room`: the rules of one conference room's audio, ticked every 20 ms by its driver —
//! who hears whom (everyone but themselves; muted and menu callers are not mixed), the
//! voice menu of callers not in yet, prompts over the mix, join/leave tones (one chime for
//! many joiners), on-hold music while someone is alone, talking detection, dead-call
//! detection, and whose packets are heard (the source latch).
//!
//! The room owns no sockets: each participant carries an opaque transport handle `T`
//! (the server's RTP/RTCP socket pair, a test's fake), and the driver passes a
//! [`MediaIo`] to [`Room::tick`] that reads and sends for it. So the same rules run on
//! loopback sockets in the server and on an in-memory network in tests. The tick allocates
//! nothing per packet (except inside rtc-srtp on encrypted calls), takes no lock and never
//! blocks (as long as the `MediaIo` does not).

mod io;
mod participant;
mod shared;

use std::sync::Arc;
use std::time::{Duration, Instant};

use konferenz_media::{
    FRAME_SAMPLES, Frame, FrameKind, LegConfig, LegStats, LoopPlayer, MAX_PACKET, MediaLeg, Mixer,
};
use tracing::{debug, info};

pub use io::{LATE_TICK, LEG_FLUSH_TICKS, MediaIo, NoMetrics, RoomMetrics};
use participant::{Audio, DtmfSource, Mode};
pub use participant::{Latch, Participant, RELATCH_AFTER};
use shared::SharedMix;

use crate::call_id::CallId;
use crate::menu::{Entry, HangUpReason, Menu, MenuConfig, Output as MenuOutput, PinVerdict};
use crate::pin::Pin;
use crate::prompt::join_announcement;
use crate::prompt_set::PromptSet;
use crate::room_number::RoomNumber;

/// RTCP is read every this many ticks (200 ms), RTP every tick.
const RTCP_READ_TICKS: u64 = 10;

/// What the SIP side tells a room.
#[derive(Debug)]
pub enum RoomCommand<T> {
    /// A caller's media starts; it enters through the voice menu.
    Join {
        call: CallId,
        /// The caller's transport (sockets), moved into the room with them.
        io: T,
        media: MediaTarget,
        entry: Entry,
        menu: MenuConfig,
        /// Unix time at the command's `now` (the driver reads the clock), for the wall-clock
        /// time in RTCP sender reports.
        wallclock: Duration,
    },
    /// A caller whose PIN (entered elsewhere, on a shared number) opened this room.
    Adopt { participant: Box<Participant<T>> },
    /// Re-negotiated media (re-INVITE/UPDATE, hold/resume).
    Update { call: CallId, media: MediaTarget },
    /// A key from a SIP INFO.
    Dtmf { call: CallId, digit: char },
    /// The answer to a `RoomEvent::CheckPin`.
    PinChecked { call: CallId, verdict: PinVerdict },
    /// Stop (or resume) mixing this participant's audio.
    Mute { call: CallId, muted: bool },
    /// The participant left; its sockets are dropped.
    Leave { call: CallId },
    /// Everyone in the conference hears these phrases over the mix, each in their language
    /// (a scheduled end approaching).
    Announce(Vec<crate::prompt::Phrase>),
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
    /// SRTP keys when the call's media is encrypted (SDES over TLS).
    pub srtp: Option<konferenz_media::srtp::Keys>,
}

/// What a room tells the SIP side.
#[derive(Debug)]
pub enum RoomEvent<T> {
    /// No RTP/RTCP from this participant for the configured time: hang it up.
    MediaTimeout { call: CallId },
    /// The caller typed a PIN: look it up (and count it) and answer with `PinChecked`.
    CheckPin { call: CallId, pin: Pin },
    /// The voice menu is done with this caller: hang up.
    HangUp { call: CallId, reason: HangUpReason },
    /// The caller's PIN opened another room: hand the participant over.
    Transfer {
        participant: Box<Participant<T>>,
        room: RoomNumber,
    },
    /// The caller is in the conference now.
    Joined { call: CallId },
    /// A joined participant started or stopped talking.
    Talking { call: CallId, talking: bool },
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

/// One room's audio rules and state; see the module docs.
pub struct Room<T> {
    number: RoomNumber,
    settings: RoomSettings,
    library: Arc<PromptSet>,
    participants: Vec<Participant<T>>,
    mixer: Mixer,
    mixer_capacity: usize,
    inputs: Vec<Frame>,
    outputs: Vec<Frame>,
    talking: Vec<bool>,
    music: LoopPlayer,
    scratch: Box<Frame>,
    packet: Box<[u8; MAX_PACKET]>,
    /// The common mix encoded once per codec and tick for everyone not talking.
    shared: SharedMix,
    events: Vec<RoomEvent<T>>,
    pub stats: TickStats,
    /// Where counters go (the server's `/metrics`); must not block or allocate.
    metrics: Arc<dyn RoomMetrics>,
}

impl<T> Room<T> {
    /// A room playing `music` to a participant who is alone.
    pub fn new(
        number: RoomNumber,
        settings: RoomSettings,
        library: Arc<PromptSet>,
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
            shared: SharedMix::default(),
            events: Vec::with_capacity(8),
            stats: TickStats::default(),
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Reports to these metrics instead of none.
    pub fn with_metrics(mut self, metrics: Arc<dyn RoomMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The room's number.
    pub fn number(&self) -> &RoomNumber {
        &self.number
    }

    /// Its metrics (the driver counts rooms and skipped ticks there).
    pub fn metrics(&self) -> &Arc<dyn RoomMetrics> {
        &self.metrics
    }

    /// Participants (in the menu or joined).
    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// Whether nobody is here.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    /// A participant's media counters (dropped foreign datagrams included).
    pub fn participant_stats(&self, call: CallId) -> Option<LegStats> {
        self.participants
            .iter()
            .find(|p| p.call == call)
            .map(|p| p.stats())
    }

    /// Applies a command; returns false on `Close`.
    pub fn command(&mut self, now: Instant, command: RoomCommand<T>) -> bool {
        match command {
            RoomCommand::Join {
                call,
                io,
                media,
                entry,
                menu,
                wallclock,
            } => {
                let mut leg = MediaLeg::new(media.config, now);
                leg.set_jitter_bounds(self.settings.jitter_min, self.settings.jitter_max);
                // RTCP sender reports carry wall-clock (NTP) time, read by the driver.
                leg.set_wallclock(now, wallclock);
                let language = menu.language;
                let mut menu = Box::new(Menu::new(entry, menu));
                menu.start(now);
                let mode = Mode::Menu {
                    menu,
                    playing: false,
                };
                self.add(Participant::new(call, io, leg, media, now, mode, language));
                let i = self.participants.len() - 1;
                self.run_menu(now, i);
            }
            RoomCommand::Adopt { participant } => {
                self.add(*participant);
                let i = self.participants.len() - 1;
                self.enter(i);
            }
            RoomCommand::Update { call, media } => {
                self.shared.prepare(media.config.codec);
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
            RoomCommand::Announce(phrases) => {
                for p in self.participants.iter_mut().filter(|p| p.is_joined()) {
                    for phrase in &phrases {
                        let _ = p
                            .prompts
                            .enqueue(self.library.get(phrase.in_language(p.language)));
                    }
                }
            }
            RoomCommand::Leave { call } => {
                if let Some(mut p) = self.remove(call) {
                    debug!(call = %call, stats = ?p.leg.stats(), "media statistics");
                    self.metrics.leg(p.stats(), &mut p.reported);
                    if p.is_joined() {
                        self.metrics.participants(-1);
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

    fn add(&mut self, participant: Participant<T>) {
        self.participants.push(participant);
        self.resize();
    }

    fn remove(&mut self, call: CallId) -> Option<Participant<T>> {
        let i = self.index(call)?;
        let p = self.participants.swap_remove(i);
        self.resize();
        Some(p)
    }

    fn index(&self, call: CallId) -> Option<usize> {
        self.participants.iter().position(|p| p.call == call)
    }

    fn find(&mut self, call: CallId) -> Option<&mut Participant<T>> {
        self.participants.iter_mut().find(|p| p.call == call)
    }

    fn joined_count(&self) -> usize {
        self.participants.iter().filter(|p| p.is_joined()).count()
    }

    /// Buffers grow only on join/leave, never in the tick.
    fn resize(&mut self) {
        for p in &self.participants {
            self.shared.prepare(p.leg.codec());
        }
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
        filter: impl Fn(&Participant<T>) -> bool,
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
        self.metrics.participants(1);
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

    /// One 20 ms step: receive (through `io`), run menus, mix, send. Events go to `events`.
    pub fn tick(&mut self, now: Instant, io: &mut impl MediaIo<T>, events: &mut Vec<RoomEvent<T>>) {
        self.stats.ticks += 1;
        if self.stats.ticks.is_multiple_of(LEG_FLUSH_TICKS) {
            for p in &mut self.participants {
                self.metrics.leg(p.stats(), &mut p.reported);
            }
        }
        // RTCP comes every few seconds: it is read every 10th tick (staggered).
        let tick = self.stats.ticks;
        for (i, p) in self.participants.iter_mut().enumerate() {
            let rtcp = (tick + i as u64).is_multiple_of(RTCP_READ_TICKS);
            p.receive(now, io, rtcp);
        }
        // Menus first: a transfer removes a participant, so walk from the end.
        for i in (0..self.participants.len()).rev() {
            self.menu_input(now, i);
        }
        for (i, p) in self.participants.iter_mut().enumerate() {
            let kind = p.leg.pull_frame(now, &mut self.inputs[i]);
            self.talking[i] = p.is_joined() && !p.muted && kind != FrameKind::Silence;
            let level = if self.talking[i] {
                crate::talk::frame_level(&self.inputs[i])
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
            let mut common = false;
            match &mut p.mode {
                Mode::Joined if prompt_playing => add_into(out, &self.inputs[i]),
                Mode::Joined if alone => out.copy_from_slice(&*self.scratch),
                // Not talking: hears everyone, like every other silent listener.
                Mode::Joined => common = !self.talking[i],
                Mode::Menu { menu, playing } => {
                    out.copy_from_slice(&self.inputs[i]);
                    if *playing && !prompt_playing {
                        *playing = false;
                        menu.prompt_finished(now);
                    }
                }
            }
            let shared = if common {
                self.shared.payload(tick, p.leg.codec(), &self.outputs[i])
            } else {
                None
            };
            let audio = match shared {
                Some(payload) => Audio::Encoded(payload),
                None => Audio::Frame(&self.outputs[i]),
            };
            p.send(now, io, audio, &mut self.packet);
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
        if lateness > LATE_TICK {
            self.stats.late += 1;
        }
        self.metrics.tick_started(lateness);
    }

    /// The room ends: its participants and itself leave the gauges.
    pub fn closed(&mut self) {
        for p in &mut self.participants {
            self.metrics.leg(p.stats(), &mut p.reported);
        }
        let joined = self.joined_count() as i64;
        self.metrics.participants(-joined);
        self.metrics.room_closed();
    }

    /// Events produced outside `tick` (by commands).
    pub fn take_events(&mut self, events: &mut Vec<RoomEvent<T>>) {
        events.append(&mut self.events);
    }
}

/// `out += add`, saturating (a tone over the conference).
fn add_into(out: &mut Frame, add: &Frame) {
    for (o, a) in out.iter_mut().zip(add) {
        *o = o.saturating_add(*a);
    }
}
