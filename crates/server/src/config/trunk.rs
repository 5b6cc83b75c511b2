//! `[trunk]`: where calls to invited participants go — a SIP URI template, an optional
//! outbound proxy, digest credentials, the caller ID to present and the ring time.

use std::net::SocketAddr;

use konferenz_conference::{DialPlan, DialPlanError, DialPlanSettings, TemplateSetting};
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
    /// The DNS server (`IP:port`) that resolves the URI's host (RFC 3263: NAPTR, SRV,
    /// A/AAAA); None: the system's (`/etc/resolv.conf`).
    pub dns_server: Option<SocketAddr>,
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
            dns_server: None,
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
    /// The dial plan of these settings: built once at start, asked for every invitation.
    pub fn dial_plan(&self) -> Result<DialPlan, DialPlanError> {
        DialPlan::new(DialPlanSettings {
            uri: &self.uri,
            internal_numbers: &self.internal_numbers,
            internal_uri: self.internal_uri.as_deref(),
            external_prefix: &self.external_prefix,
        })
    }

    /// `transport` as the SIP endpoint names it (validated: `udp` or `tcp`).
    pub fn sip_transport(&self) -> konferenz_sip::Transport {
        if self.transport == "tcp" {
            konferenz_sip::Transport::Tcp
        } else {
            konferenz_sip::Transport::Udp
        }
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
        if let Err(e) = self.dial_plan() {
            let key = match e {
                DialPlanError::Pattern(_) => "trunk.internal_numbers",
                DialPlanError::Template(TemplateSetting::Uri) => "trunk.uri",
                DialPlanError::Template(TemplateSetting::InternalUri) => "trunk.internal_uri",
                DialPlanError::Prefix => "trunk.external_prefix",
            };
            return Err(ConfigError::key(key, e.to_string()));
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
