//! `[trunk]`: where calls to invited participants go — a SIP URI template, an optional
//! outbound proxy, digest credentials, the caller ID to present and the ring time.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[trunk]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Request-URI of outgoing calls; `{number}` is replaced by the dialled number,
    /// e.g. `sip:{number}@pbx.example:5060`. Empty: inviting is not configured.
    pub uri: String,
    /// Send every call through this proxy instead of the URI's host.
    pub outbound_proxy: Option<SocketAddr>,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Digest credentials for the PBX/provider (401/407 challenges).
    pub username: Option<String>,
    pub password: Option<String>,
    /// The user part of our From, the caller ID phones show.
    pub caller_id: String,
    /// P-Asserted-Identity to present (a SIP URI), if the trunk wants one.
    pub asserted_identity: Option<String>,
    /// An unanswered call is cancelled after this long ("no answer").
    pub ring_timeout_secs: u64,
}

impl Default for TrunkConfig {
    fn default() -> Self {
        Self {
            uri: String::new(),
            outbound_proxy: None,
            transport: "udp".to_owned(),
            username: None,
            password: None,
            caller_id: "konferenz".to_owned(),
            asserted_identity: None,
            ring_timeout_secs: 45,
        }
    }
}

impl TrunkConfig {
    /// The Request-URI for calling `number`.
    pub fn target(&self, number: &str) -> String {
        self.uri.replace("{number}", number)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let template_ok = self.uri.starts_with("sip:") && self.uri.contains("{number}");
        if !self.uri.is_empty() && !template_ok {
            return Err(ConfigError::key(
                "trunk.uri",
                "must be a sip: URI containing {number}",
            ));
        }
        if !matches!(self.transport.as_str(), "udp" | "tcp") {
            return Err(ConfigError::key("trunk.transport", "must be udp or tcp"));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(ConfigError::key(
                "trunk.password",
                "username and password go together",
            ));
        }
        if self.ring_timeout_secs == 0 {
            return Err(ConfigError::key(
                "trunk.ring_timeout_secs",
                "must be at least 1",
            ));
        }
        if self.caller_id.is_empty()
            || !self
                .caller_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c))
        {
            return Err(ConfigError::key(
                "trunk.caller_id",
                "use digits, letters, '+', '-', '_' or '.'",
            ));
        }
        Ok(())
    }
}
