//! The endpoint's SRTP policy (SDES, RFC 4568): which offers are answered with SRTP, which
//! are refused, and what our own offers carry. Keys are only ever exchanged over TLS: in
//! plain SIP anyone on the path could read them (RFC 4568 §8.3).

use std::net::SocketAddr;

use super::{Endpoint, EndpointConfig, Transport};
use crate::sdp::{LocalMedia, NegotiatedMedia};

/// When calls are encrypted (config `sip.srtp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SrtpPolicy {
    /// Never: crypto lines are ignored, RTP/SAVP offers refused with 488.
    Off,
    /// Over TLS, whenever the peer offers SDES, and our offers carry a key (RTP/AVP with
    /// crypto: phones without SRTP still answer with plain RTP). Over UDP/TCP plain RTP;
    /// RTP/SAVP offers there are refused with 488.
    #[default]
    Optional,
    /// Only encrypted calls, only over TLS: offers without a usable key and everything over
    /// UDP/TCP are refused with 488; our offers are RTP/SAVP.
    Required,
}

impl Endpoint {
    /// The peer's offer as our policy lets us answer it on `transport`: with SRTP, without,
    /// or `Err(488)` (with the reason for the log).
    pub(super) fn settle_offer(
        &self,
        transport: Transport,
        mut media: NegotiatedMedia,
    ) -> Result<NegotiatedMedia, &'static str> {
        let allowed = self.config.srtp != SrtpPolicy::Off && transport == Transport::Tls;
        if !allowed {
            media.srtp = None;
        }
        if media.srtp.is_none() {
            if media.secure_profile {
                return Err(if self.config.srtp == SrtpPolicy::Off {
                    "SRTP is switched off"
                } else if transport != Transport::Tls {
                    "SRTP keys need SIP over TLS"
                } else {
                    "no usable SRTP crypto suite (AES_CM_128_HMAC_SHA1_80/32)"
                });
            }
            if self.config.srtp == SrtpPolicy::Required {
                return Err("only SRTP calls over TLS are accepted");
            }
        }
        Ok(media)
    }
}

/// Our media as we offer it on `transport`: with our key where the policy allows it.
pub(super) fn offered_media(
    config: &EndpointConfig,
    transport: Transport,
    local: &LocalMedia,
) -> LocalMedia {
    let mut local = local.clone();
    local.srtp = match config.srtp {
        SrtpPolicy::Off => None,
        _ if transport != Transport::Tls => None,
        policy => local.srtp.map(|mut s| {
            s.savp = policy == SrtpPolicy::Required;
            s
        }),
    };
    local
}

impl Endpoint {
    /// The peer's answer to what we offered (`offered`, from [`Self::offered_media`]): its
    /// key kept only when we offered one; `None` when we required SRTP and got none.
    pub(super) fn settle_answer(
        &self,
        offered: &LocalMedia,
        mut media: NegotiatedMedia,
    ) -> Option<NegotiatedMedia> {
        match offered.srtp {
            None => media.srtp = None,
            Some(ours) if ours.savp && media.srtp.is_none() => return None,
            Some(_) => {}
        }
        Some(media)
    }
}

/// Our address as it appears in Via and Contact on `transport`.
pub(super) fn local_addr_for(config: &EndpointConfig, transport: Transport) -> SocketAddr {
    match (transport, config.tls_port) {
        (Transport::Tls, Some(port)) => SocketAddr::new(config.local_addr.ip(), port),
        _ => config.local_addr,
    }
}
