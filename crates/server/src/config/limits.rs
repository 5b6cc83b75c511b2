//! `[limits]`: what one peer or all of them together may hold of the server — TCP
//! connections, how long they may idle or take over one message — so that exhaustion
//! refuses new work cleanly instead of degrading what runs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[limits]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// SIP TCP connections open at once, from everyone; more are closed on accept.
    pub tcp_connections: usize,
    /// SIP TCP connections open at once from one IP address.
    pub tcp_connections_per_source: usize,
    /// A SIP TCP connection with no traffic either way this long is closed.
    pub tcp_idle_secs: u64,
    /// A message begun on a SIP TCP connection must be complete within this time, else the
    /// connection is closed (slow senders hold memory).
    pub tcp_message_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            tcp_connections: 2048,
            tcp_connections_per_source: 32,
            tcp_idle_secs: 600,
            tcp_message_secs: 10,
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
}
