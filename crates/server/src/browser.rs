//! The control boundary for browsers joining as participants: the HTTP API sends a join
//! (an SDP offer, or a new offer for the same call after a network drop) or a leave to the
//! SIP task, which admits the browser in the conference machine, puts its media in the
//! room and answers with the SDP answer. Who may act on a browser call is recorded with
//! it ([`Owner`]): only the user or personal link that started it.

use konferenz_conference::{CallId, CommandError, RoomNumber};
use tokio::sync::{mpsc, oneshot};

pub use crate::webrtc::{Answered, JoinError};

/// Requests waiting for the SIP task at most.
pub const QUEUE: usize = 64;

/// Who started a browser call (and may reconnect or end it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A logged-in user (by their number).
    User(String),
    /// A guest on a personal link (by the link's token).
    Link(String),
}

/// A browser's offer.
#[derive(Debug)]
pub struct Join {
    pub room: RoomNumber,
    /// Who the participant is in lists and events: the user's number, or the invitee's.
    pub number: String,
    pub owner: Owner,
    pub offer: String,
    /// Set when the browser reconnects an existing call.
    pub call: Option<CallId>,
    pub reply: oneshot::Sender<Result<Answered, JoinError>>,
}

/// A browser leaves.
#[derive(Debug)]
pub struct Leave {
    pub call: CallId,
    pub owner: Owner,
    /// The room the caller names (None: any).
    pub room: Option<RoomNumber>,
    pub reply: oneshot::Sender<Result<(), JoinError>>,
}

#[derive(Debug)]
pub enum BrowserRequest {
    Join(Join),
    Leave(Leave),
}

/// Cheap to clone; every clone sends to the one SIP task.
#[derive(Clone, Debug)]
pub struct BrowserControl {
    tx: mpsc::Sender<BrowserRequest>,
}

impl BrowserControl {
    pub fn channel() -> (BrowserControl, mpsc::Receiver<BrowserRequest>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (BrowserControl { tx }, rx)
    }

    /// Joins (or, with `call`, reconnects) a browser and waits for the SDP answer.
    pub async fn join(
        &self,
        room: RoomNumber,
        number: String,
        owner: Owner,
        offer: String,
        call: Option<CallId>,
    ) -> Result<Answered, JoinError> {
        let (reply, answer) = oneshot::channel();
        self.send(BrowserRequest::Join(Join {
            room,
            number,
            owner,
            offer,
            call,
            reply,
        }))?;
        answer
            .await
            .map_err(|_| JoinError::Refused(CommandError::ShuttingDown))?
    }

    /// Ends a browser's call.
    pub async fn leave(
        &self,
        call: CallId,
        owner: Owner,
        room: Option<RoomNumber>,
    ) -> Result<(), JoinError> {
        let (reply, answer) = oneshot::channel();
        self.send(BrowserRequest::Leave(Leave {
            call,
            owner,
            room,
            reply,
        }))?;
        answer
            .await
            .map_err(|_| JoinError::Refused(CommandError::ShuttingDown))?
    }

    fn send(&self, request: BrowserRequest) -> Result<(), JoinError> {
        self.tx.try_send(request).map_err(|e| {
            JoinError::Refused(match e {
                mpsc::error::TrySendError::Full(_) => CommandError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => CommandError::ShuttingDown,
            })
        })
    }
}
