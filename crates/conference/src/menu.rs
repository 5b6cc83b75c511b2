//! The voice menu (IVR): one machine per caller, from answer until joined or hung up.
//!
//! # Rules (issue 3, "Dial-in with a PIN")
//! - A room with a PIN asks for it, followed by `#`. Digits accumulate; `#` submits; `*`
//!   clears what was typed so far. Any key pressed during a prompt interrupts it.
//! - No key within [`MenuConfig::digit_timeout`] (10 s) after the prompt: the prompt is
//!   repeated, [`MenuConfig::repeats`] times (twice), then goodbye and hang up. A silence
//!   also discards digits typed before it: the caller starts over after the repeated prompt.
//! - Wrong PIN: "that PIN is not valid, please try again"; after [`MenuConfig::attempts`]
//!   (3) wrong tries "too many attempts", goodbye, hang up. A submitted entry that cannot be
//!   a PIN (fewer than 4 or more than 12 digits) is a wrong try without asking anyone; `#`
//!   on its own just repeats the prompt.
//! - Language: while nothing is typed, `*` followed by a language's digit (`1` English,
//!   `2` German, see [`Language::switch_digit`]) switches the prompts, if the room allows
//!   it. With an empty entry `*` has nothing to clear, so the two uses never collide; a
//!   digit after `*` that selects no language is taken as the first PIN digit.
//! - A room without a PIN is joined at once; so is a room whose PIN was right. The newcomer's
//!   "you are now in the conference, N other participants" is played by the room
//!   ([`crate::join_announcement`]), which alone knows N at that moment.
//! - Every call ends within [`MenuConfig::time_limit`] plus a short goodbye grace, whatever
//!   the caller types, so a caller cannot hold a line open by typing slowly.
//!
//! # Driving it
//! Inputs are [`Menu::start`], [`Menu::digit`] (RFC 4733 event, SIP INFO or in-band: all the
//! same here), [`Menu::prompt_finished`], [`Menu::pin_checked`] and [`Menu::handle_timeout`].
//! After each input drain [`Menu::poll_output`] until `None`, then sleep until
//! [`Menu::poll_timeout`]. The menu plays one prompt at a time: it emits the next
//! [`Output::Play`] only after the driver reported the previous one finished. After the
//! driver carried out [`Output::StopPrompt`] it must not report that prompt finished.
//!
//! PINs are never checked here: on `#` the menu emits [`Output::CheckPin`] and waits; the
//! driver answers with [`Menu::pin_checked`] whenever its lookup is done (typically
//! through [`crate::Throttle::settle`], which also counts failures).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::pin::{PIN_MAX_DIGITS, Pin};
use crate::prompt::{Language, Phrase, PromptId};
use crate::room_number::RoomNumber;

mod types;

pub use types::{Entry, HangUpReason, MenuConfig, Output, PinVerdict, Refusal};

/// How long the goodbye sequence may take before the line is cut anyway.
const GOODBYE_GRACE: Duration = Duration::from_secs(30);
/// Longest accepted configured duration; keeps `Instant` arithmetic far from overflow.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Where the menu stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Created, not started.
    Idle,
    /// Asking for and collecting the PIN.
    Collecting,
    /// `CheckPin` emitted, waiting for the verdict.
    Checking,
    /// Playing the farewell; hangs up when it ends.
    Leaving(HangUpReason),
    /// Joined or hung up.
    Done,
}

/// The digits typed since the last prompt, `#` or `*`.
#[derive(Clone, Copy, Debug, Default)]
struct Typed {
    digits: [u8; PIN_MAX_DIGITS],
    len: usize,
    /// More keys than any PIN has: the entry can only be wrong.
    overflow: bool,
}

impl Typed {
    fn push(&mut self, digit: u8) {
        match self.digits.get_mut(self.len) {
            Some(slot) => {
                *slot = digit;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0 && !self.overflow
    }

    /// The PIN typed, if it can be one; clears the entry either way.
    fn take(&mut self) -> Option<Pin> {
        let typed = std::mem::take(self);
        if typed.overflow {
            return None;
        }
        let text = std::str::from_utf8(&typed.digits[..typed.len]).ok()?;
        Pin::parse(text).ok()
    }
}

/// The voice menu of one call. See the module docs for the rules and the driving contract.
#[derive(Debug)]
pub struct Menu {
    entry: Entry,
    config: MenuConfig,
    language: Language,
    phase: Phase,
    typed: Typed,
    /// `*` pressed with nothing typed: the next key may select a language.
    choosing_language: bool,
    /// The caller picked the language with `*` and a digit; it then wins over a room's.
    language_chosen: bool,
    wrong_tries: u8,
    silences: u8,
    /// Prompts still to play after the current one.
    queue: VecDeque<PromptId>,
    playing: bool,
    /// When silence repeats the prompt; runs only while collecting and no prompt plays.
    digit_deadline: Option<Instant>,
    /// When the menu gives up (collecting) or cuts the line (leaving).
    limit: Option<Instant>,
    outputs: VecDeque<Output>,
}

impl Menu {
    /// A menu for a call that entered this way; nothing happens until [`Menu::start`].
    pub fn new(entry: Entry, mut config: MenuConfig) -> Self {
        config.digit_timeout = config.digit_timeout.min(MAX_DURATION);
        config.time_limit = config.time_limit.min(MAX_DURATION);
        config.attempts = config.attempts.max(1);
        Self {
            entry,
            language: config.language,
            config,
            phase: Phase::Idle,
            typed: Typed::default(),
            choosing_language: false,
            language_chosen: false,
            wrong_tries: 0,
            silences: 0,
            queue: VecDeque::with_capacity(4),
            playing: false,
            digit_deadline: None,
            limit: None,
            outputs: VecDeque::with_capacity(4),
        }
    }

    /// The call was answered: greet, ask for the PIN, join, or refuse. Once only.
    pub fn start(&mut self, now: Instant) {
        if self.phase != Phase::Idle {
            return;
        }
        self.limit = Some(now + self.config.time_limit);
        match self.entry.clone() {
            Entry::Room {
                room,
                pin_required: false,
            } => self.join(room),
            Entry::Room { .. } | Entry::Shared => {
                self.phase = Phase::Collecting;
                self.ask_for_pin(true);
            }
            Entry::Refused(refusal) => self.leave(now, HangUpReason::Refused(refusal)),
        }
    }

    /// A key from the caller: `0`–`9`, `*` or `#`. Others (`A`–`D`, flash) are ignored.
    pub fn digit(&mut self, now: Instant, key: char) {
        if self.phase != Phase::Collecting || !matches!(key, '0'..='9' | '*' | '#') {
            return;
        }
        self.interrupt();
        self.silences = 0;
        self.digit_deadline = Some(now + self.config.digit_timeout);
        if std::mem::take(&mut self.choosing_language)
            && let Some(language) = Language::from_switch_digit(key)
        {
            return self.switch_language(language);
        }
        match key {
            '*' if self.typed.is_empty() && self.config.language_switch => {
                self.choosing_language = true;
            }
            '*' => self.typed = Typed::default(),
            '#' if self.typed.is_empty() => self.ask_for_pin(false),
            '#' => self.submit(now),
            digit => self.typed.push(digit as u8),
        }
    }

    /// The prompt last emitted with [`Output::Play`] has finished playing.
    pub fn prompt_finished(&mut self, now: Instant) {
        if !self.playing {
            return;
        }
        self.playing = false;
        self.play_next(now);
    }

    /// The driver's answer to the last [`Output::CheckPin`]; ignored when none is pending.
    pub fn pin_checked(&mut self, now: Instant, verdict: PinVerdict) {
        if self.phase != Phase::Checking {
            return;
        }
        match verdict {
            PinVerdict::Admit(room) => self.join(room),
            PinVerdict::Wrong => self.on_wrong_pin(now),
            PinVerdict::Refused(refusal) => self.leave(now, HangUpReason::Refused(refusal)),
            PinVerdict::RefusedIn(refusal, language) => {
                if !self.language_chosen {
                    self.language = language;
                }
                self.leave(now, HangUpReason::Refused(refusal))
            }
        }
    }

    /// Time passed; call when [`Menu::poll_timeout`] is due (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.limit.is_some_and(|limit| now >= limit) {
            return self.on_time_limit(now);
        }
        if self.digit_deadline.is_some_and(|deadline| now >= deadline) {
            self.on_silence(now);
        }
    }

    /// The next thing for the driver to do, or `None` when there is nothing (for now).
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Menu::handle_timeout`] should be called next; `None` once the menu is done.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.digit_deadline, self.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the menu has emitted `Join` or `HangUp`.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The caller's current language.
    pub fn language(&self) -> Language {
        self.language
    }

    fn ask_for_pin(&mut self, offer_languages: bool) {
        self.say(&[Phrase::EnterPin]);
        if offer_languages && self.config.language_switch {
            let current = self.language;
            for other in Language::ALL.into_iter().filter(|&l| l != current) {
                self.queue
                    .push_back(Phrase::LanguageOffer.in_language(other));
            }
        }
    }

    fn switch_language(&mut self, language: Language) {
        self.language = language;
        self.language_chosen = true;
        self.say(&[Phrase::LanguageSwitched, Phrase::EnterPin]);
    }

    fn submit(&mut self, now: Instant) {
        match self.typed.take() {
            Some(pin) => {
                self.phase = Phase::Checking;
                self.digit_deadline = None;
                self.outputs.push_back(Output::CheckPin(pin));
            }
            None => self.on_wrong_pin(now),
        }
    }

    fn on_wrong_pin(&mut self, now: Instant) {
        self.wrong_tries += 1;
        if self.wrong_tries >= self.config.attempts {
            return self.leave(now, HangUpReason::TooManyAttempts);
        }
        self.phase = Phase::Collecting;
        self.say(&[Phrase::InvalidPin]);
    }

    fn on_silence(&mut self, now: Instant) {
        self.digit_deadline = None;
        self.typed = Typed::default();
        self.choosing_language = false;
        if self.silences >= self.config.repeats {
            return self.leave(now, HangUpReason::NoInput);
        }
        self.silences += 1;
        self.ask_for_pin(false);
    }

    fn on_time_limit(&mut self, now: Instant) {
        match self.phase {
            Phase::Leaving(reason) => {
                self.interrupt();
                self.finish(Output::HangUp(reason));
            }
            Phase::Collecting | Phase::Checking => self.leave(now, HangUpReason::TimeLimit),
            Phase::Idle | Phase::Done => self.limit = None,
        }
    }

    /// Farewell prompts, then hang up; the line is cut after a grace period regardless.
    fn leave(&mut self, now: Instant, reason: HangUpReason) {
        self.interrupt();
        self.phase = Phase::Leaving(reason);
        self.digit_deadline = None;
        self.limit = Some(now + GOODBYE_GRACE);
        match reason {
            HangUpReason::NoInput | HangUpReason::TimeLimit => self.say(&[Phrase::Goodbye]),
            HangUpReason::TooManyAttempts => self.say(&[Phrase::TooManyAttempts, Phrase::Goodbye]),
            HangUpReason::Refused(refusal) => {
                let mut phrases = refusal.phrases(self.language);
                phrases.push(Phrase::Goodbye);
                self.say(&phrases);
            }
        }
    }

    fn join(&mut self, room: RoomNumber) {
        self.interrupt();
        let language = self.language;
        self.finish(Output::Join { room, language });
    }

    fn finish(&mut self, last: Output) {
        self.outputs.push_back(last);
        self.phase = Phase::Done;
        self.digit_deadline = None;
        self.limit = None;
    }

    /// Queues phrases in the caller's language; starts playing if nothing plays.
    fn say(&mut self, phrases: &[Phrase]) {
        let language = self.language;
        self.queue
            .extend(phrases.iter().map(|p| p.in_language(language)));
        if !self.playing
            && let Some(prompt) = self.queue.pop_front()
        {
            self.playing = true;
            self.digit_deadline = None;
            self.outputs.push_back(Output::Play(prompt));
        }
    }

    fn play_next(&mut self, now: Instant) {
        if let Some(prompt) = self.queue.pop_front() {
            self.playing = true;
            self.outputs.push_back(Output::Play(prompt));
            return;
        }
        match self.phase {
            Phase::Collecting => self.digit_deadline = Some(now + self.config.digit_timeout),
            Phase::Leaving(reason) => self.finish(Output::HangUp(reason)),
            Phase::Idle | Phase::Checking | Phase::Done => {}
        }
    }

    /// A key cuts the prompt playing and everything queued after it.
    fn interrupt(&mut self) {
        self.queue.clear();
        if std::mem::take(&mut self.playing) {
            self.outputs.push_back(Output::StopPrompt);
        }
    }
}
