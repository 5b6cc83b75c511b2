//! SDES (RFC 4568): the `a=crypto` attribute — reading a peer's crypto line (tag, suite,
//! one inline key, no MKI, no session parameters that change SRTP) and writing ours.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Master key (16 bytes) plus master salt (14 bytes) of the AES_CM_128 suites.
pub const SDES_KEY_LEN: usize = 30;

/// The suites we speak (RFC 4568 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoSuite {
    AesCm128HmacSha1_80,
    AesCm128HmacSha1_32,
}

impl CryptoSuite {
    pub fn name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::AesCm128HmacSha1_80, Self::AesCm128HmacSha1_32]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// One crypto line: its tag, suite and key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SdesKey {
    pub tag: u32,
    pub suite: CryptoSuite,
    pub key: [u8; SDES_KEY_LEN],
}

impl std::fmt::Debug for SdesKey {
    // Key material stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdesKey")
            .field("tag", &self.tag)
            .field("suite", &self.suite)
            .finish()
    }
}

impl SdesKey {
    /// Reads the value of an `a=crypto` attribute (`1 AES_CM_128_HMAC_SHA1_80
    /// inline:KEY[|lifetime]`); None for a line we cannot use: another suite, several keys,
    /// an MKI (it would change the packet format), or a session parameter (RFC 4568 §6.3:
    /// unencrypted or unauthenticated SRTP, other KDR or window) — the peer's other lines
    /// may still fit.
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split_ascii_whitespace();
        let tag = fields.next()?.parse::<u32>().ok()?;
        if tag > 999_999_999 {
            return None;
        }
        let suite = CryptoSuite::parse(fields.next()?)?;
        let key_params = fields.next()?;
        if fields.next().is_some() {
            return None;
        }
        if key_params.contains(';') {
            return None;
        }
        let inline = key_params.strip_prefix("inline:")?;
        let mut parts = inline.split('|');
        let key_b64 = parts.next()?;
        for part in parts {
            // A lifetime (`2^31` or a number) is fine; an MKI (`1:4`) is not.
            if part.contains(':') {
                return None;
            }
        }
        let bytes = STANDARD.decode(key_b64).ok()?;
        let key: [u8; SDES_KEY_LEN] = bytes.try_into().ok()?;
        Some(Self { tag, suite, key })
    }

    /// The attribute value for our own line.
    pub fn attribute(&self) -> String {
        format!(
            "{} {} inline:{}",
            self.tag,
            self.suite.name(),
            STANDARD.encode(self.key)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    #[test]
    fn reads_the_rfc_4568_examples_we_can_use() {
        // RFC 4568 §4's example, and what baresip sends.
        let k = SdesKey::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4"));
        assert_eq!(k, None, "MKI lines change the packet format");
        let k = SdesKey::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20")).unwrap();
        assert_eq!(k.tag, 1);
        assert_eq!(k.suite, CryptoSuite::AesCm128HmacSha1_80);
        assert_eq!(&k.key[..4], b"YS__");
        let k = SdesKey::parse(&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}")).unwrap();
        assert_eq!((k.tag, k.suite), (2, CryptoSuite::AesCm128HmacSha1_32));
    }

    #[test]
    fn refuses_what_we_cannot_honour() {
        for bad in [
            format!("1 F8_128_HMAC_SHA1_80 inline:{KEY}"),
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} UNENCRYPTED_SRTP"),
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY};inline:{KEY}"),
            "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=".to_owned(),
            "1 AES_CM_128_HMAC_SHA1_80 inline:!!!".to_owned(),
            format!("x AES_CM_128_HMAC_SHA1_80 inline:{KEY}"),
            format!("1 AES_CM_128_HMAC_SHA1_80 {KEY}"),
            String::new(),
        ] {
            assert_eq!(SdesKey::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn our_line_reads_back() {
        let k = SdesKey {
            tag: 7,
            suite: CryptoSuite::AesCm128HmacSha1_80,
            key: [0xA5; SDES_KEY_LEN],
        };
        assert_eq!(SdesKey::parse(&k.attribute()), Some(k));
        assert!(!format!("{k:?}").contains("165"));
    }
}
