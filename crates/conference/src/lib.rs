//! konferenz-conference: the product's model types and conference rules, without I/O.
//!
//! Dial-in with a PIN (issue 3) is three pieces: [`Pin`], the per-call voice [`Menu`] and
//! the shared guessing [`Throttle`]. A driver wires them like this:
//!
//! ```
//! # use konferenz_conference::*;
//! # fn drive(now: std::time::Instant) {
//! # let caller = CallerKey::new("192.0.2.1".parse().unwrap(), "alice");
//! # let dialled = RoomNumber::parse("800").unwrap();
//! # let room_pin = Pin::parse("4711").unwrap();
//! let mut throttle = Throttle::new(ThrottleConfig::default());
//! let entry = match throttle.admit(now, &caller, &dialled) {
//!     Ok(()) => Entry::Room { room: dialled.clone(), pin_required: true },
//!     Err(refusal) => Entry::Refused(refusal),
//! };
//! let mut menu = Menu::new(entry, MenuConfig::default());
//! menu.start(now);
//! # menu.prompt_finished(now); menu.prompt_finished(now);
//! # for key in "4711#".chars() { menu.digit(now, key); }
//! while let Some(output) = menu.poll_output() {
//!     match output {
//!         Output::CheckPin(pin) => {
//!             // Here after a database lookup, possibly much later.
//!             let found = (pin == room_pin).then_some(&dialled);
//!             let verdict = throttle.settle(now, &caller, &dialled, found);
//!             menu.pin_checked(now, verdict);
//!         }
//!         Output::Join { room, language } => { /* hand the call to the room */ }
//!         _ => { /* play, stop, hang up */ }
//!     }
//! }
//! # assert!(menu.is_done());
//! while let Some(event) = throttle.poll_event() { /* warn!(?event) */ }
//! # }
//! ```

mod call_id;
mod command;
mod conference;
mod dial_plan;
mod dialable;
mod event;
mod login_throttle;
mod menu;
mod participant;
pub mod phonebook;
mod pin;
mod prompt;
mod prompt_set;
mod quota;
mod room;
mod room_number;
mod roster;
pub mod schedule;
mod talk;
mod throttle;

pub use call_id::CallId;
pub use command::{Command, CommandError, Reply};
pub use conference::{
    Admission, CallLimits, Conference, ConferenceConfig, End, Output as ConferenceOutput, Persist,
    RoomInfo, ScheduledRoom,
};
pub use dial_plan::{DialPlan, DialPlanError, DialPlanSettings, Target, TemplateSetting};
pub use dialable::{DIALABLE_MAX_LEN, Dialable, DialableError};
pub use event::{Event, EventKind};
pub use login_throttle::LoginThrottle;
pub use menu::{Entry, HangUpReason, Menu, MenuConfig, Output, PinVerdict, Refusal};
pub use participant::ParticipantState;
pub use phonebook::{NumberError, PhoneNumber};
pub use pin::{PIN_MAX_DIGITS, PIN_MIN_DIGITS, Pin, PinError};
pub use prompt::{
    Language, LanguageError, MAX_SPOKEN_NUMBER, Phrase, PromptId, join_announcement, starts_at,
};
pub use prompt_set::PromptSet;
pub use quota::Quota;
pub use room::{
    LATE_TICK, LEG_FLUSH_TICKS, Latch, MediaIo, MediaTarget, NoMetrics, Participant, RELATCH_AFTER,
    Room, RoomCommand, RoomEvent, RoomMetrics, RoomSettings, TickStats,
};
pub use room_number::{RoomNumber, RoomNumberError};
pub use roster::{Roster, RosterConfig, RosterEntry, StateChange};
pub use talk::{TALK_LEVEL, TalkDetector, frame_level};
pub use throttle::{CallerKey, Limit, Throttle, ThrottleConfig, ThrottleEvent};
