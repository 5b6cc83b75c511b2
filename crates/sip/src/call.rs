//! One call leg the endpoint answered: its dialog (RFC 3261 §12) and where it is in its life.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sipx_sip::{Request, TransactionKey, Uri};

use crate::Transport;
use crate::sdp::{LocalMedia, NegotiatedMedia};

/// The application's handle for a call; stable for the call's life, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

impl std::fmt::Display for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// Where a call is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallState {
    /// The INVITE was handed to the application, which has not accepted or rejected it.
    Offered,
    /// We sent a 2xx and wait for the ACK (§13.3.1.4).
    Answered,
    /// The dialog is confirmed.
    Confirmed,
    /// We sent BYE; kept only until its transaction ends.
    Ending,
    /// Outgoing: our INVITE is out, nothing but 100 Trying came back.
    Calling,
    /// Outgoing: the callee rings (a 1xx above 100 arrived).
    Ringing,
    /// Outgoing: we sent CANCEL and wait for the INVITE's final answer.
    Cancelling,
}

/// The 2xx we retransmit until the ACK arrives (RFC 3261 §13.3.1.4).
#[derive(Debug)]
pub(crate) struct PendingAck {
    pub bytes: Bytes,
    pub interval: Duration,
    /// When the 2xx carried our offer, the ACK carries the answer.
    pub answer_in_ack: bool,
    /// CSeq of the INVITE the 2xx answered; the ACK has the same number.
    pub cseq: u32,
}

/// What only a call we placed needs: the INVITE in flight and its retries.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The INVITE transaction in flight and the request (for CANCEL and auth retries).
    pub key: TransactionKey,
    pub invite: Request,
    /// Digest credentials for 401/407; each challenge is answered once.
    pub credentials: Option<sipx_sip::auth::Credentials>,
    pub auth_tried: bool,
    /// 3xx are followed once.
    pub redirected: bool,
    /// hangup() before any provisional: CANCEL as soon as one arrives (§9.1).
    pub cancel_pending: bool,
    /// A provisional response (100 Trying included) arrived for this INVITE: it may be
    /// CANCELled now (§9.1).
    pub provisional: bool,
}

/// A call leg and its dialog state.
#[derive(Debug)]
pub(crate) struct Call {
    pub state: CallState,
    /// The INVITE that is waiting for the application's answer (only in `Offered`).
    pub invite: Option<(TransactionKey, Request)>,
    pub call_id: Bytes,
    /// The caller's From tag.
    pub remote_tag: Bytes,
    pub local_tag: String,
    /// Our From / their To in requests we send: the INVITE's To with our tag.
    pub local_party: Bytes,
    /// Their From: the INVITE's From (with their tag).
    pub remote_party: Bytes,
    pub remote_target: Uri,
    pub route_set: Vec<Bytes>,
    /// The transport and address the INVITE came from; in-dialog requests go there.
    pub flow: (Transport, SocketAddr),
    pub remote_cseq: u32,
    pub local_cseq: u32,
    pub room: String,
    pub local_media: Option<LocalMedia>,
    pub media: Option<NegotiatedMedia>,
    pub sdp_session_id: u64,
    pub sdp_version: u64,
    pub pending_ack: Option<PendingAck>,
    /// Set for calls we placed.
    pub outgoing: Option<Box<Outgoing>>,
}
