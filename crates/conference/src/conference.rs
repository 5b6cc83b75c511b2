//! `Conference`: the admission and control rules of every room, without I/O — who may
//! enter (room lookup against an in-memory index kept current from the store, block list,
//! lock, the PIN throttle, the menu's entry), PIN verdicts, invitations with their ring
//! timer and re-dial, how a call's end maps to a participant state, moderator commands
//! (see `conference/control.rs`), and the room-wide mute that also reaches later joiners.
//!
//! Shaped like `sip::Endpoint`: inputs take `now`; the driver then drains
//! [`Conference::poll_output`] (hang up a call, mute in the mixer, persist, publish an
//! event) and sleeps until [`Conference::poll_timeout`]. The machine is the one record of
//! which call is in which room; finished calls leave it at once (their history is the
//! event stream's business).

mod control;
mod scheduled;

pub use scheduled::ScheduledRoom;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::call_id::CallId;
use crate::dialable::Dialable;
use crate::event::EventKind;
use crate::menu::{Entry, PinVerdict, Refusal};
use crate::participant::ParticipantState;
use crate::pin::Pin;
use crate::prompt::Language;
use crate::room_number::RoomNumber;
use crate::throttle::{CallerKey, Throttle, ThrottleConfig, ThrottleEvent};

/// How often expired blocks and throttle records are swept.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The rules' settings, from the configuration.
#[derive(Clone, Debug)]
pub struct ConferenceConfig {
    /// How long an invitation rings before it is given up (no-answer).
    pub ring_timeout: Duration,
    /// Prompt language of rooms without their own.
    pub default_language: Language,
    /// Whether callers may switch language, for rooms without their own setting.
    pub language_switch: bool,
    /// Shared dial-in numbers: the PIN selects the room.
    pub shared_numbers: Vec<RoomNumber>,
    pub throttle: ThrottleConfig,
    pub limits: CallLimits,
}

/// How many calls may be under way at once; 0: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallLimits {
    /// Calls in all (callers and invitations); beyond: `503`, invitations refused.
    pub calls: usize,
    /// Calls in one room (its voice menu included); beyond: "this conference is full".
    pub per_room: usize,
    /// Calls from one IP address; beyond: `503`.
    pub per_source: usize,
}

impl CallLimits {
    pub(crate) fn reached(limit: usize, count: usize) -> bool {
        limit != 0 && count >= limit
    }
}

impl Default for ConferenceConfig {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::from_secs(45),
            default_language: Language::English,
            language_switch: true,
            shared_numbers: Vec::new(),
            throttle: ThrottleConfig::default(),
            limits: CallLimits::default(),
        }
    }
}

/// What the machine knows of a stored room (the in-memory index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomInfo {
    pub number: RoomNumber,
    pub pin: Option<Pin>,
    pub language: Option<Language>,
    pub language_switch: Option<bool>,
    /// The room-wide mute: whoever joins is muted (kept with the room).
    pub muted: bool,
}

impl RoomInfo {
    /// A room with just a number.
    pub fn new(number: RoomNumber) -> Self {
        Self {
            number,
            pin: None,
            language: None,
            language_switch: None,
            muted: false,
        }
    }
}

/// The answer to an arriving call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Refuse with this SIP status (404 no such room, 403 blocked).
    Reject { status: u16 },
    /// Answer; the caller's media starts in `room`'s voice menu with `entry`.
    Accept {
        room: RoomNumber,
        entry: Entry,
        language: Language,
        language_switch: bool,
    },
}

/// How a call ended, as the SIP layer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// A BYE (either side), a CANCEL, or a hang-up by us.
    Normal,
    /// Our INVITE got this final failure response.
    Failed { status: u16, reason: String },
    /// The callee answered with SDP we cannot use.
    BadAnswer,
}

/// A write the store must make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Persist {
    /// The room-wide mute changed.
    RoomMuted { room: RoomNumber, muted: bool },
    /// `who` may not enter `room` (for `lasts`, or for good). `invited`: `who` is a number
    /// we dialled (trusted); else a dial-in's caller ID (best effort).
    Block {
        room: RoomNumber,
        who: String,
        invited: bool,
        lasts: Option<Duration>,
    },
    /// The block of `who` in `room` was lifted.
    Unblock { room: RoomNumber, who: String },
}

/// What the machine asks the driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// End this call (BYE, or CANCEL while ringing).
    HangUp(CallId),
    /// Stop or resume mixing this participant in its room.
    Mute {
        room: RoomNumber,
        call: CallId,
        muted: bool,
    },
    /// Publish this on the event bus.
    Event { room: RoomNumber, kind: EventKind },
    /// Play these phrases to everyone in the room (over the conference), each in their
    /// own language.
    Announce {
        room: RoomNumber,
        phrases: Vec<crate::prompt::Phrase>,
    },
    /// Write this to the store.
    Persist(Persist),
    /// The PIN throttle locked a caller or a room out (log it at warn level).
    Throttle(ThrottleEvent),
}

/// One live call.
#[derive(Clone, Debug)]
struct Call {
    /// What was dialled (a room or a shared number); None for an invitation.
    dialled: Option<RoomNumber>,
    /// The room the caller is in (or in the menu of, or invited into).
    room: RoomNumber,
    caller: Option<CallerKey>,
    /// The invited number, else the caller ID (`unknown` if anonymous).
    number: String,
    invited: bool,
    /// Listed state; None while not listed (a refused caller hearing why).
    state: Option<ParticipantState>,
    joined: bool,
    muted: bool,
    ring_deadline: Option<Instant>,
}

/// A running conference's live settings (gone when it ends).
#[derive(Clone, Debug, Default)]
struct Live {
    locked: bool,
    /// Left unmuted by the room-wide mute.
    mute_except: Option<CallId>,
}

/// A block: this caller may not enter this room again (until `until`).
#[derive(Clone, Debug)]
struct Block {
    until: Option<Instant>,
}

/// The conference rules of all rooms. See the module docs.
#[derive(Debug)]
pub struct Conference {
    config: ConferenceConfig,
    throttle: Throttle,
    rooms: HashMap<RoomNumber, RoomInfo>,
    pins: HashMap<Pin, RoomNumber>,
    calls: HashMap<CallId, Call>,
    live: HashMap<RoomNumber, Live>,
    /// Per room: blocked numbers / caller IDs.
    blocked: HashMap<RoomNumber, HashMap<String, Block>>,
    outputs: VecDeque<Output>,
    next_prune: Option<Instant>,
    /// Invitations still ringing, by when they give up (also in their `Call`).
    ringing: BTreeSet<(Instant, CallId)>,
    /// Scheduled conferences by their room.
    scheduled: HashMap<RoomNumber, ScheduledRoom>,
}

impl Conference {
    pub fn new(config: ConferenceConfig) -> Self {
        Self {
            throttle: Throttle::new(config.throttle),
            config,
            rooms: HashMap::new(),
            pins: HashMap::new(),
            calls: HashMap::new(),
            live: HashMap::new(),
            blocked: HashMap::new(),
            outputs: VecDeque::new(),
            next_prune: None,
            ringing: BTreeSet::new(),
            scheduled: HashMap::new(),
        }
    }

    /// Replaces the index of stored rooms (at start, and whenever the store changed).
    /// Running conferences in a removed room go on; nobody new gets in.
    pub fn set_rooms(&mut self, rooms: impl IntoIterator<Item = RoomInfo>) {
        self.rooms.clear();
        self.pins.clear();
        for room in rooms {
            if let Some(pin) = room.pin {
                self.pins.insert(pin, room.number.clone());
            }
            self.rooms.insert(room.number.clone(), room);
        }
    }

    /// A block kept in the store (at start): `who` may not enter `room` for `remaining`
    /// (for good if None).
    pub fn restore_block(
        &mut self,
        now: Instant,
        room: RoomNumber,
        who: &str,
        remaining: Option<Duration>,
    ) {
        self.schedule_prune(now);
        self.blocked.entry(room).or_default().insert(
            who.to_owned(),
            Block {
                until: remaining.map(|d| now + d),
            },
        );
    }

    /// A stored room, from the index.
    pub fn room(&self, number: &RoomNumber) -> Option<&RoomInfo> {
        self.rooms.get(number)
    }

    /// Calls in `room` now (its voice menu included).
    pub(super) fn calls_in(&self, room: &RoomNumber) -> usize {
        self.calls.values().filter(|c| &c.room == room).count()
    }

    /// Whether `number` is a shared dial-in number.
    pub fn is_shared(&self, number: &RoomNumber) -> bool {
        self.config.shared_numbers.contains(number)
    }

    /// Whether the room's conference is locked.
    pub fn is_locked(&self, room: &RoomNumber) -> bool {
        self.live.get(room).is_some_and(|l| l.locked)
    }

    /// The room a live call is in (or in the menu of, or invited into).
    pub fn room_of(&self, call: CallId) -> Option<&RoomNumber> {
        self.calls.get(&call).map(|c| &c.room)
    }

    /// Live calls (every state), for tests and metrics.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// A call arrives for `dialled` (the Request-URI's user part) from `caller`, with
    /// this caller ID. Decides at once from the index: no store round trip.
    pub fn incoming(
        &mut self,
        now: Instant,
        call: CallId,
        dialled: &str,
        caller: CallerKey,
        caller_id: Option<&str>,
    ) -> Admission {
        self.schedule_prune(now);
        let Ok(number) = RoomNumber::parse(dialled) else {
            return Admission::Reject { status: 404 };
        };
        let shared = self.is_shared(&number);
        let info = self.rooms.get(&number).cloned();
        if !shared && info.is_none() {
            return Admission::Reject { status: 404 };
        }
        let identity = caller_id.filter(|c| !c.is_empty()).unwrap_or("unknown");
        if self.is_blocked(now, &number, identity) {
            return Admission::Reject { status: 403 };
        }
        let limits = self.config.limits;
        let from_source = self
            .calls
            .values()
            .filter(|c| c.caller.is_some_and(|k| k.addr() == caller.addr()))
            .count();
        if CallLimits::reached(limits.calls, self.calls.len())
            || CallLimits::reached(limits.per_source, from_source)
        {
            return Admission::Reject { status: 503 };
        }
        let room_full = CallLimits::reached(limits.per_room, self.calls_in(&number));
        let (entry, language, language_switch) = match &info {
            Some(room) if !shared => {
                let entry = if self.is_locked(&number) {
                    Entry::Refused(Refusal::Locked)
                } else if room_full {
                    Entry::Refused(Refusal::Full)
                } else if room.pin.is_none() {
                    Entry::Room {
                        room: number.clone(),
                        pin_required: false,
                    }
                } else {
                    match self.throttle.admit(now, &caller, &number) {
                        Ok(()) => Entry::Room {
                            room: number.clone(),
                            pin_required: true,
                        },
                        Err(refusal) => Entry::Refused(refusal),
                    }
                };
                (
                    entry,
                    room.language.unwrap_or(self.config.default_language),
                    room.language_switch.unwrap_or(self.config.language_switch),
                )
            }
            // A shared number (checked above: it is one, or the room exists).
            _ => {
                let entry = match self.throttle.admit(now, &caller, &number) {
                    Ok(()) => Entry::Shared,
                    Err(refusal) => Entry::Refused(refusal),
                };
                (
                    entry,
                    self.config.default_language,
                    self.config.language_switch,
                )
            }
        };
        let state = match &entry {
            Entry::Room {
                pin_required: false,
                ..
            } => None,
            Entry::Refused(refusal) => {
                self.event(
                    &number,
                    EventKind::Refused {
                        call,
                        reason: refusal_name(*refusal),
                    },
                );
                None
            }
            _ => Some(ParticipantState::InMenu),
        };
        self.calls.insert(
            call,
            Call {
                dialled: Some(number.clone()),
                room: number.clone(),
                caller: Some(caller),
                number: identity.to_owned(),
                invited: false,
                state: None,
                joined: false,
                muted: false,
                ring_deadline: None,
            },
        );
        if let Some(state) = state {
            self.set_state(call, state);
        }
        if !shared && !matches!(entry, Entry::Refused(_)) {
            // A conference runs in this room (until its last call ends).
            self.live.entry(number.clone()).or_default();
        }
        Admission::Accept {
            room: number,
            entry,
            language,
            language_switch,
        }
    }

    /// The caller's menu submitted a PIN: the verdict, decided here and now (index,
    /// scheduled conferences' windows at wall-clock time `wall`, and the throttle). An
    /// admitted caller of a shared number now belongs to the room the PIN opened.
    pub fn pin_entered(
        &mut self,
        now: Instant,
        wall: jiff::Timestamp,
        call: CallId,
        pin: &Pin,
    ) -> PinVerdict {
        let Some(c) = self.calls.get(&call) else {
            return PinVerdict::Wrong;
        };
        let (Some(dialled), Some(caller)) = (c.dialled.clone(), c.caller) else {
            return PinVerdict::Wrong;
        };
        let mut outside_window = None;
        let found = if self.is_shared(&dialled) {
            match self.pins.get(pin).cloned() {
                Some(room) => Some(room),
                None => self.scheduled_pin(pin, wall).map(|(room, refusal)| {
                    outside_window = refusal;
                    room
                }),
            }
        } else {
            self.rooms
                .get(&dialled)
                .filter(|r| r.pin.as_ref() == Some(pin))
                .map(|r| r.number.clone())
        };
        // A scheduled PIN outside its window is a right PIN at the wrong time: not counted
        // as a guess, but a locked-out caller still hears only the lockout.
        let verdict = self.throttle.settle(now, &caller, &dialled, found.as_ref());
        while let Some(event) = self.throttle.poll_event() {
            self.outputs.push_back(Output::Throttle(event));
        }
        let PinVerdict::Admit(room) = verdict else {
            return verdict;
        };
        if let Some(refusal) = outside_window {
            return match self.scheduled.get(&room).and_then(|s| s.language) {
                Some(language) => PinVerdict::RefusedIn(refusal, language),
                None => PinVerdict::Refused(refusal),
            };
        }
        let number = self.calls[&call].number.clone();
        if self.is_locked(&room) {
            return PinVerdict::Refused(Refusal::Locked);
        }
        if room != dialled && CallLimits::reached(self.config.limits.per_room, self.calls_in(&room))
        {
            return PinVerdict::Refused(Refusal::Full);
        }
        // Blocked from the room its PIN opens: told the room is locked, and nothing more.
        if room != dialled && self.is_blocked(now, &room, &number) {
            return PinVerdict::Refused(Refusal::Locked);
        }
        self.live.entry(room.clone()).or_default();
        if room != dialled {
            // Leaves the shared number's menu listing, is listed in its room from now on.
            self.set_state(call, ParticipantState::Left);
            if let Some(c) = self.calls.get_mut(&call) {
                c.room = room.clone();
                c.state = None;
            }
            self.set_state(call, ParticipantState::InMenu);
        }
        PinVerdict::Admit(room)
    }

    /// The call is in the conference now (its room mixes it). Applies the room-wide mute.
    pub fn joined(&mut self, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.joined = true;
        let room = c.room.clone();
        if c.state != Some(ParticipantState::Connected) {
            self.set_state(call, ParticipantState::Connected);
        }
        let except = self.live.get(&room).and_then(|l| l.mute_except);
        let room_muted = self.rooms.get(&room).is_some_and(|r| r.muted);
        if room_muted && except != Some(call) {
            self.set_muted(call, true);
        }
    }

    /// An invitation's phone rings (180/183).
    pub fn progress(&mut self, call: CallId) {
        if self.state(call) == Some(&ParticipantState::Calling) {
            self.set_state(call, ParticipantState::Ringing);
        }
    }

    /// An invitation was answered; the call joins its room when media starts.
    pub fn answered(&mut self, call: CallId) {
        if let Some(c) = self.calls.get_mut(&call) {
            if let Some(at) = c.ring_deadline.take() {
                self.ringing.remove(&(at, call));
            }
            self.set_state(call, ParticipantState::Connected);
        }
    }

    /// The participant started or stopped talking (the room detects it).
    pub fn talking(&mut self, call: CallId, talking: bool) {
        if let Some(c) = self.calls.get(&call).filter(|c| c.joined) {
            let room = c.room.clone();
            self.event(&room, EventKind::Talking { call, talking });
        }
    }

    /// The call is over: its final state, and the conference ends with its last member.
    pub fn ended(&mut self, call: CallId, end: End) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let listed = c.state.clone();
        let state = match end {
            End::Failed { status, reason } if c.invited => {
                ParticipantState::from_failure(status, &reason)
            }
            End::BadAnswer if c.invited => ParticipantState::Failed {
                status: 488,
                reason: "no usable SDP answer".into(),
            },
            _ if listed == Some(ParticipantState::NoAnswer) => ParticipantState::NoAnswer,
            _ => ParticipantState::Left,
        };
        if listed.is_some() && listed.as_ref() != Some(&state) {
            self.set_state(call, state);
        }
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        if let Some(at) = c.ring_deadline {
            self.ringing.remove(&(at, call));
        }
        let room = c.room;
        if !self.calls.values().any(|other| other.room == room) && self.live.remove(&room).is_some()
        {
            self.event(&room, EventKind::ConferenceEnded);
        }
    }

    /// Records an invitation the driver has placed (after [`crate::Reply::Place`]).
    pub fn invitation_placed(
        &mut self,
        now: Instant,
        call: CallId,
        room: RoomNumber,
        number: &Dialable,
    ) {
        self.schedule_prune(now);
        self.live.entry(room.clone()).or_default();
        let deadline = now + self.config.ring_timeout;
        self.ringing.insert((deadline, call));
        self.calls.insert(
            call,
            Call {
                dialled: None,
                room,
                caller: None,
                number: number.as_str().to_owned(),
                invited: true,
                state: None,
                joined: false,
                muted: false,
                ring_deadline: Some(deadline),
            },
        );
        self.set_state(call, ParticipantState::Calling);
    }

    /// Runs what is due: ring timeouts (no-answer, hang up), pruning.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, call)) = self.ringing.first()
            && now >= at
        {
            self.ringing.pop_first();
            if let Some(c) = self.calls.get_mut(&call) {
                c.ring_deadline = None;
            }
            if matches!(
                self.state(call),
                Some(ParticipantState::Calling | ParticipantState::Ringing)
            ) {
                self.set_state(call, ParticipantState::NoAnswer);
                self.outputs.push_back(Output::HangUp(call));
            }
        }
        if self.next_prune.is_some_and(|at| now >= at) {
            self.throttle.prune(now);
            for blocks in self.blocked.values_mut() {
                blocks.retain(|_, b| b.until.is_none_or(|until| now < until));
            }
            self.blocked.retain(|_, blocks| !blocks.is_empty());
            self.next_prune = Some(now + PRUNE_EVERY);
        }
    }

    /// When [`Conference::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ring = self.ringing.first().map(|&(at, _)| at);
        ring.into_iter().chain(self.next_prune).min()
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn schedule_prune(&mut self, now: Instant) {
        self.next_prune.get_or_insert(now + PRUNE_EVERY);
    }

    fn state(&self, call: CallId) -> Option<&ParticipantState> {
        self.calls.get(&call).and_then(|c| c.state.as_ref())
    }

    fn is_blocked(&self, now: Instant, room: &RoomNumber, who: &str) -> bool {
        self.blocked
            .get(room)
            .and_then(|b| b.get(who))
            .is_some_and(|b| b.until.is_none_or(|until| now < until))
    }

    fn set_state(&mut self, call: CallId, state: ParticipantState) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let kind = EventKind::participant(call, &c.number, &state, c.invited);
        let room = c.room.clone();
        c.state = Some(state);
        self.event(&room, kind);
    }

    fn set_muted(&mut self, call: CallId, muted: bool) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.muted == muted {
            return;
        }
        c.muted = muted;
        let room = c.room.clone();
        self.outputs.push_back(Output::Mute {
            room: room.clone(),
            call,
            muted,
        });
        self.event(&room, EventKind::Muted { call, muted });
    }

    fn event(&mut self, room: &RoomNumber, kind: EventKind) {
        self.outputs.push_back(Output::Event {
            room: room.clone(),
            kind,
        });
    }
}

/// A refusal's name in events.
fn refusal_name(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::CallerLocked | Refusal::RoomLocked => "throttled",
        Refusal::NotStarted | Refusal::StartsAt { .. } => "not-started",
        Refusal::Ended => "ended",
        Refusal::Locked => "locked",
        Refusal::Full => "full",
    }
}
