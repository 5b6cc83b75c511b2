//! `Event`: one change in a conference — a call arrives in the menu, joins, leaves, is
//! muted, talks; an invitation changes state; a room is locked; a conference ends. The
//! conference machine emits [`EventKind`]s; the server's bus stamps each with a sequence
//! number and the wall-clock time and publishes it once. Everything that shows who is
//! where (the participants view, `--follow`, the history, metrics) is built from these.

use serde::Serialize;

use crate::call_id::CallId;
use crate::participant::ParticipantState;
use crate::room_number::RoomNumber;

/// What changed. Serialised with a `type` tag, e.g.
/// `{"type":"participant","call":7,"number":"201","state":"in-menu",...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    /// A participant's state changed (in-menu, calling, ringing, connected, left, busy,
    /// declined, no-answer, failed with SIP status and reason).
    Participant {
        call: CallId,
        /// The invited number, or the caller ID of a dial-in (`unknown` if anonymous).
        number: String,
        /// The state's name ([`ParticipantState::name`]).
        state: &'static str,
        /// The SIP status of a failed invitation.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// We called this participant (an invitation), rather than they us.
        invited: bool,
    },
    /// A moderator muted or unmuted a participant (or the room-wide mute reached them).
    Muted { call: CallId, muted: bool },
    /// A participant started or stopped talking.
    Talking { call: CallId, talking: bool },
    /// A caller was turned away (blocked, locked room, throttled) before joining.
    Refused { call: CallId, reason: &'static str },
    /// The room was locked or unlocked.
    RoomLocked { locked: bool },
    /// The room-wide mute was switched; `except` stays unmuted (the host).
    RoomMuted {
        muted: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        except: Option<CallId>,
    },
    /// The conference in this room ended: a moderator ended it, or the last one left.
    ConferenceEnded,
}

impl EventKind {
    /// A participant state change as an event.
    pub fn participant(
        call: CallId,
        number: &str,
        state: &ParticipantState,
        invited: bool,
    ) -> Self {
        let (status, reason) = match state {
            ParticipantState::Failed { status, reason } => (Some(*status), Some(reason.clone())),
            _ => (None, None),
        };
        EventKind::Participant {
            call,
            number: number.to_owned(),
            state: state.name(),
            status,
            reason,
            invited,
        }
    }

    /// A short stable name of the kind (for metrics labels).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Participant { .. } => "participant",
            EventKind::Muted { .. } => "muted",
            EventKind::Talking { .. } => "talking",
            EventKind::Refused { .. } => "refused",
            EventKind::RoomLocked { .. } => "room-locked",
            EventKind::RoomMuted { .. } => "room-muted",
            EventKind::ConferenceEnded => "conference-ended",
        }
    }
}

/// One published change: sequence-numbered (gap-free, rising from 1 in a server's life),
/// stamped with Unix milliseconds, in one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub seq: u64,
    /// Unix milliseconds when it was published.
    pub at: u64,
    pub room: RoomNumber,
    #[serde(flatten)]
    pub kind: EventKind,
}
