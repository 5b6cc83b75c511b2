//! `Command`: everything a person or a program may do to a conference, as one typed value,
//! and [`CommandError`], why it was refused. The CLI, the HTTP API and (later) the
//! scheduler send commands along one path to [`crate::Conference::command`], which checks
//! and carries them out in one place.

use std::time::Duration;

use crate::call_id::CallId;
use crate::dialable::Dialable;
use crate::room_number::RoomNumber;

/// A request to change a conference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Call `number` into `room`. A number already invited into the room and still under
    /// way is re-dialled (the earlier call ends first).
    Invite { room: RoomNumber, number: Dialable },
    /// End a call in any state; with `block` its caller (the invited number, else the
    /// caller ID) may not enter this room again, for `block_for` or for good.
    HangUp {
        call: CallId,
        block: bool,
        block_for: Option<Duration>,
    },
    /// Lift a block: `who` (an invited number or caller ID) may enter `room` again.
    Unblock { room: RoomNumber, who: String },
    /// Stop or resume mixing one participant's audio.
    Mute { call: CallId, muted: bool },
    /// Mute (or unmute) everyone in the room but `except`; a room-wide mute also applies
    /// to whoever joins later, and is kept with the room.
    MuteAll {
        room: RoomNumber,
        muted: bool,
        except: Option<CallId>,
    },
    /// Lock or unlock the running conference: while locked, new dial-ins hear "this
    /// conference is locked" and are hung up; invitations still get in.
    Lock { room: RoomNumber, locked: bool },
    /// Hang up everyone in the room (and every invitation still ringing).
    End { room: RoomNumber },
}

/// What a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Done.
    Done,
    /// The calls the command changed (mute all), in ascending order.
    Calls(Vec<CallId>),
    /// An invitation may be placed: the driver places the call and reports it with
    /// [`crate::Conference::invitation_placed`].
    Place { room: RoomNumber, number: Dialable },
}

/// Why a command was refused. The HTTP layer maps each to one status code.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("no room {0}")]
    NoSuchRoom(RoomNumber),
    #[error("no call {0}")]
    NoSuchCall(CallId),
    #[error("call {0} is not in a room yet")]
    NotInRoom(CallId),
    #[error("no conference is running in room {0}")]
    NoConference(RoomNumber),
    #[error("{0} is blocked from room {1}")]
    Blocked(Dialable, RoomNumber),
    /// A browser's user or invitee is blocked from the room.
    #[error("you may not join room {0}")]
    NotAllowed(RoomNumber),
    #[error("{0} is not blocked from room {1}")]
    NotBlocked(String, RoomNumber),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the server is busy; try again")]
    Overloaded,
    /// Room `0` has as many calls as `limits.calls_per_room` allows.
    #[error("room {0} is full")]
    RoomFull(RoomNumber),
    /// The server has as many calls as `limits.calls` allows.
    #[error("the server has as many calls as it may")]
    TooManyCalls,
    /// The call could not be placed (no route, no free RTP port, DNS …).
    #[error("cannot place the call: {0}")]
    Unroutable(String),
}
