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
    /// Register at the PBX/provider (with the digest credentials) and keep it refreshed.
    pub register: bool,
    /// Registrar Request-URI; default `sip:<host of uri>`.
    pub registrar: Option<String>,
    /// Registration time asked for, in seconds.
    pub register_expires_secs: u32,
    /// Numbers matching this regular expression are internal (e.g. `^[0-9]{2,4}$`);
    /// empty: every number is external.
    pub internal_numbers: String,
    /// Request-URI template for internal numbers; default: `uri`.
    pub internal_uri: Option<String>,
    /// Put before external numbers (e.g. `0` for an outside line).
    pub external_prefix: String,
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
            register: false,
            registrar: None,
            register_expires_secs: 600,
            internal_numbers: String::new(),
            internal_uri: None,
            external_prefix: String::new(),
        }
    }
}

impl TrunkConfig {
    /// The Request-URI for calling `number`: internal numbers by `internal_uri`, others
    /// with the external prefix by `uri`. None when no trunk is configured for it.
    pub fn target(&self, number: &str) -> Option<String> {
        if self.is_internal(number) {
            let template = self.internal_uri.as_deref().unwrap_or(&self.uri);
            return (!template.is_empty()).then(|| template.replace("{number}", number));
        }
        // E.164 numbers (+…) go out as they are; the outside-line prefix is for the rest.
        let prefix = if number.starts_with('+') {
            ""
        } else {
            &self.external_prefix
        };
        (!self.uri.is_empty()).then(|| self.uri.replace("{number}", &format!("{prefix}{number}")))
    }

    /// Whether all of `number` matches `internal_numbers` (anchored at both ends).
    pub fn is_internal(&self, number: &str) -> bool {
        !self.internal_numbers.is_empty()
            && regex::Regex::new(&format!("^(?:{})$", self.internal_numbers))
                .is_ok_and(|r| r.is_match(number))
    }

    /// The registrar to register at: `registrar`, else the host of `uri`.
    pub fn registrar_uri(&self) -> Option<String> {
        if let Some(registrar) = &self.registrar {
            return Some(registrar.clone());
        }
        let (host, port) = konferenz_sip::parse_uri(&self.uri.replace("{number}", "x"))?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Some(if port == 5060 {
            format!("sip:{host}")
        } else {
            format!("sip:{host}:{port}")
        })
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
        if let Some(internal) = &self.internal_uri
            && !(internal.starts_with("sip:") && internal.contains("{number}"))
        {
            return Err(ConfigError::key(
                "trunk.internal_uri",
                "must be a sip: URI containing {number}",
            ));
        }
        if let Err(e) = regex::Regex::new(&self.internal_numbers) {
            return Err(ConfigError::key(
                "trunk.internal_numbers",
                format!("not a regular expression: {e}"),
            ));
        }
        if !self
            .external_prefix
            .chars()
            .all(|c| c.is_ascii_digit() || "+*#".contains(c))
        {
            return Err(ConfigError::key(
                "trunk.external_prefix",
                "use digits, '+', '*' or '#'",
            ));
        }
        if self.register {
            if self.uri.is_empty() && self.registrar.is_none() {
                return Err(ConfigError::key(
                    "trunk.register",
                    "needs trunk.uri or trunk.registrar",
                ));
            }
            if let Some(r) = &self.registrar
                && konferenz_sip::parse_uri(r).is_none()
            {
                return Err(ConfigError::key("trunk.registrar", "must be a sip: URI"));
            }
            if self.register_expires_secs < 60 {
                return Err(ConfigError::key(
                    "trunk.register_expires_secs",
                    "must be at least 60",
                ));
            }
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
