//! `[limits]`: what one peer or all of them together may hold of the server — TCP
//! connections, how long they may idle or take over one message, how fast one address may
//! start calls, how many calls a user places and mails go out per hour — so that exhaustion
//! (or a stolen account) refuses new work cleanly instead of degrading what runs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[limits]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Calls at once (callers and invitations); 0: one per RTP port pair. Beyond: `503`.
    pub calls: usize,
    /// Calls at once in one room, its voice menu included; 0: no limit. Beyond: "this
    /// conference is full" (callers), `409` (invitations).
    pub calls_per_room: usize,
    /// Calls at once from one IP address (raise it for a PBX trunk); 0: no limit.
    pub calls_per_source: usize,
    /// SIP TCP connections open at once, from everyone; more are closed on accept.
    pub tcp_connections: usize,
    /// SIP TCP connections open at once from one IP address.
    pub tcp_connections_per_source: usize,
    /// A SIP TCP connection with no traffic either way this long is closed.
    pub tcp_idle_secs: u64,
    /// A message begun on a SIP TCP connection must be complete within this time, else the
    /// connection is closed (slow senders hold memory).
    pub tcp_message_secs: u64,
    /// New calls (INVITEs) one IP address may start per second, on average; 0: no limit.
    /// Beyond it: `503` with `Retry-After`.
    pub invites_per_source_per_sec: u32,
    /// New calls one address may start at once after a quiet time.
    pub invites_burst: u32,
    /// Refusals in a row after which an address is ignored (no answer at all) …
    pub invites_refusals_before_ignore: u32,
    /// … for this long.
    pub invites_ignore_secs: u64,
    /// Calls one user may place (invite, dial in, re-dial) per hour through the API; 0: no
    /// limit. Beyond: `429` with `Retry-After`.
    pub invitations_per_user_per_hour: usize,
    /// Mails sent per hour; beyond, they wait in the outbox. 0: no limit.
    pub mails_per_hour: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            calls: 0,
            calls_per_room: 1000,
            calls_per_source: 200,
            tcp_connections: 2048,
            tcp_connections_per_source: 32,
            tcp_idle_secs: 600,
            tcp_message_secs: 10,
            invites_per_source_per_sec: 100,
            invites_burst: 200,
            invites_refusals_before_ignore: 100,
            invites_ignore_secs: 60,
            invitations_per_user_per_hour: 300,
            mails_per_hour: 2000,
        }
    }
}

impl LimitsConfig {
    pub fn tcp_idle(&self) -> Duration {
        Duration::from_secs(self.tcp_idle_secs.max(1))
    }

    pub fn tcp_message(&self) -> Duration {
        Duration::from_secs(self.tcp_message_secs.max(1))
    }

    /// The conference's call limits; `rtp_pairs` stands in for `calls = 0`.
    pub fn call_limits(&self, rtp_pairs: usize) -> konferenz_conference::CallLimits {
        konferenz_conference::CallLimits {
            calls: if self.calls == 0 {
                rtp_pairs
            } else {
                self.calls
            },
            per_room: self.calls_per_room,
            per_source: self.calls_per_source,
        }
    }

    /// The SIP endpoint's per-source admission of new calls.
    pub fn invite_admission(&self) -> konferenz_sip::AdmissionConfig {
        konferenz_sip::AdmissionConfig {
            per_second: self.invites_per_source_per_sec,
            burst: self.invites_burst.max(1),
            drop_after: self.invites_refusals_before_ignore,
            drop_for: Duration::from_secs(self.invites_ignore_secs),
            retry_after: 5,
        }
    }
}
