//! SRTP and SRTCP (RFC 3711) for one call whose keys came by SDES (RFC 4568): protects what
//! we send and checks and decrypts what arrives, with replay protection. The cipher work is
//! rtc-srtp's (webrtc-rs, on ring); this module only holds the two contexts and says which
//! packets are RTCP.

use rtc_srtp::context::Context;
use rtc_srtp::crypto::providers::RingCrypto;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;

use crate::rtp::{RTP_HEADER_LEN, is_rtcp};

/// Master key plus master salt, as SDES carries them (`inline:` base64 of these bytes).
pub const KEY_LEN: usize = 30;
/// How many packets back a late packet may still be accepted (RFC 3711 §3.3.2).
const REPLAY_WINDOW: usize = 128;

/// The crypto suites we speak (RFC 4568 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// `AES_CM_128_HMAC_SHA1_80`: 80-bit authentication tags.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 32-bit tags on RTP (SRTCP keeps 80 bits).
    AesCm128HmacSha1_32,
}

impl Suite {
    fn profile(self) -> ProtectionProfile {
        match self {
            Self::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            Self::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

/// The keys of one SRTP session: ours (what we send with) and the peer's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    pub suite: Suite,
    pub local: [u8; KEY_LEN],
    pub remote: [u8; KEY_LEN],
}

impl std::fmt::Debug for Keys {
    // Key material stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("suite", &self.suite).finish()
    }
}

/// Why a packet was not accepted or could not be protected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SrtpError {
    #[error("SRTP: {0}")]
    Rejected(String),
}

/// One call's SRTP: an outbound context (our key) and an inbound one (the peer's).
pub struct Srtp {
    keys: Keys,
    outbound: Context,
    inbound: Context,
}

impl std::fmt::Debug for Srtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Srtp").field("keys", &self.keys).finish()
    }
}

fn context(key: &[u8; KEY_LEN], suite: Suite, replay: bool) -> Result<Context, SrtpError> {
    let (master_key, master_salt) = key.split_at(16);
    Context::new(
        master_key,
        master_salt,
        suite.profile(),
        replay.then(|| srtp_replay_protection(REPLAY_WINDOW)),
        replay.then(|| srtcp_replay_protection(REPLAY_WINDOW)),
        &RingCrypto,
    )
    .map_err(|e| SrtpError::Rejected(e.to_string()))
}

impl Srtp {
    pub fn new(keys: Keys) -> Result<Self, SrtpError> {
        Ok(Self {
            keys,
            outbound: context(&keys.local, keys.suite, false)?,
            inbound: context(&keys.remote, keys.suite, true)?,
        })
    }

    /// The keys this session was made with (a re-INVITE with the same keys keeps it).
    pub fn keys(&self) -> Keys {
        self.keys
    }

    /// Checks and decrypts one datagram from the peer (SRTP or SRTCP, told apart as in
    /// RFC 5761); `take` gets the plain packet. Forged, altered and replayed packets fail.
    pub fn unprotect(
        &mut self,
        datagram: &[u8],
        take: impl FnOnce(&[u8]),
    ) -> Result<(), SrtpError> {
        let plain = if is_rtcp(datagram) {
            self.inbound.decrypt_rtcp(datagram)
        } else {
            self.inbound.decrypt_rtp(datagram)
        }
        .map_err(|e| SrtpError::Rejected(e.to_string()))?;
        take(&plain);
        Ok(())
    }

    /// Protects one RTP or RTCP packet of ours; `send` gets the datagram to send. Only the
    /// packets we build are taken — RTP with a plain 12-byte header (no padding, extension
    /// or CSRCs), RTCP of at least its 8-byte header: rtc-srtp 0.21 panics on RTP headers
    /// whose extension (as it reads them) runs past the packet (found twice by the
    /// `srtp_input` fuzz target).
    pub fn protect(&mut self, packet: &[u8], send: impl FnOnce(&[u8])) -> Result<(), SrtpError> {
        let well_formed = if is_rtcp(packet) {
            packet.len() >= 8 && packet[0] >> 6 == 2
        } else {
            packet.len() >= RTP_HEADER_LEN && packet[0] == 0x80
        };
        if !well_formed {
            return Err(SrtpError::Rejected(
                "not a well-formed RTP/RTCP packet".into(),
            ));
        }
        let protected = if is_rtcp(packet) {
            self.outbound.encrypt_rtcp(packet)
        } else {
            self.outbound.encrypt_rtp(packet)
        }
        .map_err(|e| SrtpError::Rejected(e.to_string()))?;
        send(&protected);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
