//! The voice menu's contract: its configuration, how a call entered, the driver's answers
//! and what the menu asks the driver to do.

use std::time::Duration;

use crate::pin::Pin;
use crate::prompt::{Language, Phrase, PromptId};
use crate::room_number::RoomNumber;

/// The rules of one menu; the defaults are the product's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuConfig {
    /// The prompts' language at the start: the room's, or the configured default.
    pub language: Language,
    /// Whether the caller may switch language with `*` and a digit before the PIN.
    pub language_switch: bool,
    /// Silence after a prompt or a key before the prompt is repeated. Default 10 s.
    pub digit_timeout: Duration,
    /// How often the prompt is repeated after silence before goodbye. Default 2.
    pub repeats: u8,
    /// Wrong PINs per call before goodbye. Default 3 (at least 1 is used).
    pub attempts: u8,
    /// The whole menu, answer to join, may take at most this long. Default 3 min.
    pub time_limit: Duration,
}

impl Default for MenuConfig {
    fn default() -> Self {
        Self {
            language: Language::English,
            language_switch: true,
            digit_timeout: Duration::from_secs(10),
            repeats: 2,
            attempts: 3,
            time_limit: Duration::from_secs(180),
        }
    }
}

/// How the call entered: decided by the driver from the dialled number when the call arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A room dialled directly; without a PIN the caller joins at once.
    Room {
        /// The room.
        room: RoomNumber,
        /// Whether the room asks for a PIN.
        pin_required: bool,
    },
    /// The shared dial-in number: no room of its own, the PIN entered selects the room.
    Shared,
    /// Refused before any PIN entry (throttled caller or room, outside the schedule …):
    /// the caller hears why, then goodbye.
    Refused(Refusal),
}

/// Why a caller is turned away; each reason has its own prompt ([`Refusal::phrase`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Too many failed tries from this caller recently ([`crate::Throttle`]).
    CallerLocked,
    /// Too many failed tries against this room recently ([`crate::Throttle`]).
    RoomLocked,
    /// Before the room's schedule window opens.
    NotStarted,
    /// Before a scheduled conference's window opens: "this conference starts at HH:MM"
    /// (its start in its own time zone).
    StartsAt { hour: u8, minute: u8 },
    /// After the room's schedule window closed.
    Ended,
    /// A moderator locked the room.
    Locked,
    /// The room has no place left.
    Full,
}

impl Refusal {
    /// What the caller hears. Both lockouts sound the same: a guesser learns nothing about
    /// which limit he hit.
    pub fn phrase(self) -> Phrase {
        match self {
            Refusal::CallerLocked | Refusal::RoomLocked => Phrase::TryLater,
            Refusal::NotStarted | Refusal::StartsAt { .. } => Phrase::NotStarted,
            Refusal::Ended => Phrase::ConferenceEnded,
            Refusal::Locked => Phrase::ConferenceLocked,
            Refusal::Full => Phrase::ConferenceFull,
        }
    }
}

impl Refusal {
    /// Everything the caller hears before goodbye, in `language`.
    pub fn phrases(self, language: Language) -> Vec<Phrase> {
        match self {
            Refusal::StartsAt { hour, minute } => crate::prompt::starts_at(language, hour, minute),
            other => vec![other.phrase()],
        }
    }
}

/// The driver's answer to [`Output::CheckPin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinVerdict {
    /// The PIN opens this room.
    Admit(RoomNumber),
    /// The PIN opens nothing here (for the shared number: no room has it).
    Wrong,
    /// The PIN is not looked at, or its room may not be entered now.
    Refused(Refusal),
    /// As `Refused`, told in the language of the room the PIN belongs to (a scheduled
    /// conference's "starts at" and "has ended"), unless the caller chose a language.
    RefusedIn(Refusal, Language),
}

/// Why the menu hung up; for the call's event and log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HangUpReason {
    /// No key pressed after the prompt and its repeats.
    NoInput,
    /// Wrong PIN as often as [`MenuConfig::attempts`] allows.
    TooManyAttempts,
    /// Turned away for this reason.
    Refused(Refusal),
    /// The menu ran longer than [`MenuConfig::time_limit`].
    TimeLimit,
}

/// What the menu asks the driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Play this prompt to the caller; report
    /// [`Menu::prompt_finished`](crate::Menu::prompt_finished) when it ends.
    Play(PromptId),
    /// Stop the prompt playing now (the caller pressed a key).
    StopPrompt,
    /// Look this PIN up and answer with [`Menu::pin_checked`](crate::Menu::pin_checked).
    CheckPin(Pin),
    /// Put the caller into the room; the menu is done.
    Join {
        /// The room to join.
        room: RoomNumber,
        /// The caller's language, for the join announcement and later prompts.
        language: Language,
    },
    /// End the call (the goodbye prompt has finished); the menu is done.
    HangUp(HangUpReason),
}
