//! The control boundary's handle: the CLI (through the HTTP API), the API and later the
//! scheduler send a typed [`Command`] to the SIP task, which hands it to the conference
//! machine and answers with the result or a typed [`CommandError`]. The queue is bounded:
//! when it is full the command is refused as [`CommandError::Overloaded`] (HTTP 503 with
//! Retry-After), never queued without limit.

use std::net::SocketAddr;

use konferenz_conference::{CallId, Command, CommandError};
use konferenz_sip::Transport;
use tokio::sync::{mpsc, oneshot};

/// Commands waiting for the SIP task at most.
pub const QUEUE: usize = 256;

/// Where an invitation goes: the Request-URI and the next hop (resolved before the
/// command is sent, so the SIP task never waits for DNS).
#[derive(Clone, Debug)]
pub struct Route {
    pub target: String,
    pub next_hop: SocketAddr,
    pub transport: Transport,
    /// The host of our From: the trunk's domain for calls through the PBX, None (our
    /// address) for registered phones.
    pub from_host: Option<String>,
}

/// What a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Done,
    /// The calls changed (mute all).
    Calls(Vec<CallId>),
    /// The invitation's call.
    Placed(CallId),
}

/// One command on its way to the SIP task.
#[derive(Debug)]
pub struct Request {
    pub command: Command,
    /// The route of an invitation.
    pub route: Option<Route>,
    pub reply: oneshot::Sender<Result<Answer, CommandError>>,
}

/// Cheap to clone; every clone sends to the one SIP task.
#[derive(Clone, Debug)]
pub struct Control {
    tx: mpsc::Sender<Request>,
}

impl Control {
    /// A handle and the SIP task's end of the queue.
    pub fn channel() -> (Control, mpsc::Receiver<Request>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Control { tx }, rx)
    }

    /// Sends a command and waits for its answer.
    pub async fn send(
        &self,
        command: Command,
        route: Option<Route>,
    ) -> Result<Answer, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Request {
                command,
                route,
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => CommandError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => CommandError::ShuttingDown,
            })?;
        answer.await.map_err(|_| CommandError::ShuttingDown)?
    }
}
