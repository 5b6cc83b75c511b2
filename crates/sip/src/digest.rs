//! Server-side digest authentication (RFC 3261 §22, RFC 7616/8760) for the registrar:
//! stateless time-stamped nonces, challenges for the configured algorithms (MD5 and/or
//! SHA-256, in the order given — RFC 8760 §2.3), and checking an
//! `Authorization` answer against stored `HA1` hashes (never the password). The header is
//! parsed by the `digest_auth` crate; the hashing formula is RFC 7616 §3.4.1.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use digest_auth::{Algorithm, AlgorithmType, AuthorizationHeader, Qop};

/// The stored secrets of one user: `HA1 = H(user:realm:password)` per algorithm, in hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ha1 {
    pub md5: String,
    pub sha256: String,
}

impl Ha1 {
    /// Computes both hashes; the password itself is not kept.
    pub fn compute(user: &str, realm: &str, password: &str) -> Self {
        let input = format!("{user}:{realm}:{password}");
        Self {
            md5: Algorithm::new(AlgorithmType::MD5, false).hash_str(&input),
            sha256: Algorithm::new(AlgorithmType::SHA2_256, false).hash_str(&input),
        }
    }

    fn for_algorithm(&self, algorithm: AlgorithmType) -> Option<&str> {
        match algorithm {
            AlgorithmType::MD5 => Some(&self.md5),
            AlgorithmType::SHA2_256 => Some(&self.sha256),
            AlgorithmType::SHA2_512_256 => None,
        }
    }
}

/// What an `Authorization` header says, once parsed (before checking it).
#[derive(Clone, Debug)]
pub struct Answer {
    header: AuthorizationHeader,
}

impl Answer {
    /// Parses a `Digest …` credentials value; None if it is not one we can check.
    pub fn parse(value: &str) -> Option<Self> {
        // digest_auth 0.3 slices by byte offsets and panics inside multi-byte characters
        // (found by the digest_answer fuzz target); our user names are ASCII anyway.
        if !value.is_ascii() {
            return None;
        }
        let value = value.trim();
        let rest = value
            .get(..6)?
            .eq_ignore_ascii_case("digest")
            .then(|| &value[6..])?;
        let header = AuthorizationHeader::parse(&format!("Digest{rest}")).ok()?;
        if header.userhash {
            return None;
        }
        Some(Self { header })
    }

    /// The username the phone claims (checked against the AOR by the caller).
    pub fn username(&self) -> &str {
        &self.header.username
    }

    /// The realm the answer is for.
    pub fn realm(&self) -> &str {
        &self.header.realm
    }
}

/// The verdict on an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The response matches: the phone knows the password.
    Valid,
    /// Right password, but the nonce is too old: challenge again with `stale=true`.
    Stale,
    /// A nonce we did not issue (e.g. before a restart): challenge again, fresh.
    UnknownNonce,
    /// Wrong password, a replayed nonce count, another realm or algorithm.
    Invalid,
}

/// A digest algorithm the registrar can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// `MD5` or `SHA-256` (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Self::Md5),
            "SHA-256" => Some(Self::Sha256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    fn kind(self) -> AlgorithmType {
        match self {
            Self::Md5 => AlgorithmType::MD5,
            Self::Sha256 => AlgorithmType::SHA2_256,
        }
    }
}

/// Issues nonces and checks answers for one realm. Nonces carry their issue time and a
/// MAC under a per-process secret and live `lifetime`; the only state kept is the highest
/// nonce count seen per live nonce, so a captured answer cannot be replayed.
#[derive(Clone, Debug)]
pub struct DigestServer {
    realm: String,
    secret: String,
    epoch: Instant,
    lifetime: Duration,
    algorithms: Vec<DigestAlgorithm>,
    /// Highest `nc` accepted per nonce (pruned when the nonce expires).
    counts: HashMap<String, (u32, u64)>,
}

impl DigestServer {
    /// `secret` must be unpredictable (random per process); `epoch` is any fixed instant.
    /// Offers MD5 only; see [`DigestServer::with_algorithms`].
    pub fn new(realm: &str, secret: &str, epoch: Instant, lifetime: Duration) -> Self {
        Self {
            realm: realm.to_owned(),
            secret: secret.to_owned(),
            epoch,
            lifetime,
            algorithms: vec![DigestAlgorithm::Md5],
            counts: HashMap::new(),
        }
    }

    /// Offers these algorithms, in this order (some phones, e.g. baresip 1.0, fail on any
    /// challenge they cannot answer instead of skipping it, hence the choice).
    pub fn with_algorithms(mut self, algorithms: &[DigestAlgorithm]) -> Self {
        if !algorithms.is_empty() {
            self.algorithms = algorithms.to_vec();
        }
        self
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn mac(&self, stamp: u64) -> String {
        let full = Algorithm::new(AlgorithmType::SHA2_256, false)
            .hash_str(&format!("{}:{stamp}:{}", self.secret, self.realm));
        full[..32].to_owned()
    }

    /// A fresh nonce.
    pub fn nonce(&self, now: Instant) -> String {
        let stamp = now.saturating_duration_since(self.epoch).as_secs();
        format!("{stamp:x}{}", self.mac(stamp))
    }

    /// The `WWW-Authenticate` values to send, in the configured order (RFC 8760 §2.3).
    pub fn challenges(&self, now: Instant, stale: bool) -> Vec<String> {
        let nonce = self.nonce(now);
        let stale = if stale { ", stale=true" } else { "" };
        self.algorithms
            .iter()
            .map(|algorithm| {
                format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
                    self.realm.replace('"', ""),
                    algorithm.name()
                )
            })
            .collect()
    }

    /// Checks `answer` for a request with `method` against the user's stored hashes.
    /// A valid answer's nonce count is remembered: the same or a lower one is a replay.
    pub fn check(&mut self, now: Instant, answer: &Answer, method: &str, ha1: &Ha1) -> Check {
        let h = &answer.header;
        if h.realm != self.realm {
            return Check::Invalid;
        }
        let Some(stamp) = self.issued(&h.nonce) else {
            return Check::UnknownNonce;
        };
        let offered = self.algorithms.iter().any(|a| a.kind() == h.algorithm.algo);
        if h.algorithm.sess || !offered {
            return Check::Invalid;
        }
        let Some(stored) = ha1.for_algorithm(h.algorithm.algo) else {
            return Check::Invalid;
        };
        let algorithm = h.algorithm;
        let ha2 = algorithm.hash_str(&format!("{method}:{}", h.uri));
        // We always offer qop=auth; the RFC 2069 form (no nonce count) could be replayed.
        let expected = match (&h.qop, &h.cnonce) {
            (Some(Qop::AUTH), Some(cnonce)) => algorithm.hash_str(&format!(
                "{stored}:{}:{:08x}:{cnonce}:auth:{ha2}",
                h.nonce, h.nc
            )),
            _ => return Check::Invalid,
        };
        if !constant_time_eq(
            expected.as_bytes(),
            h.response.to_ascii_lowercase().as_bytes(),
        ) {
            return Check::Invalid;
        }
        let age = now
            .saturating_duration_since(self.epoch)
            .saturating_sub(Duration::from_secs(stamp));
        if age > self.lifetime {
            return Check::Stale;
        }
        let (nc, nonce) = (h.nc, h.nonce.clone());
        let now_secs = now.saturating_duration_since(self.epoch).as_secs();
        let lifetime = self.lifetime.as_secs();
        self.counts
            .retain(|_, (_, issued)| now_secs.saturating_sub(*issued) <= lifetime);
        match self.counts.get_mut(&nonce) {
            Some((last, _)) if nc <= *last => Check::Invalid,
            Some((last, _)) => {
                *last = nc;
                Check::Valid
            }
            None => {
                self.counts.insert(nonce, (nc, stamp));
                Check::Valid
            }
        }
    }

    /// The issue time (seconds since the epoch) of a nonce we made; None for a foreign one.
    fn issued(&self, nonce: &str) -> Option<u64> {
        if nonce.len() <= 32 || !nonce.is_ascii() {
            return None;
        }
        let (stamp_hex, mac) = nonce.split_at(nonce.len() - 32);
        let stamp = u64::from_str_radix(stamp_hex, 16).ok()?;
        (mac == self.mac(stamp)).then_some(stamp)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
