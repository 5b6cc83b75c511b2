//! Admission of new calls per source address, before any transaction or call state: each
//! IP address may start `per_second` new INVITEs a second (bursts up to `burst`); beyond
//! that it is answered `503` with `Retry-After`. Refusals are strikes that wear off at the
//! same rate; a source with more than `drop_after` strikes — one that sends far faster
//! than it is allowed, not one slightly over — is ignored altogether for `drop_for`
//! (answering a flood costs as much as admitting it). Virtual time: the caller passes `now`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sources remembered at most; past this, sources with a full bucket are forgotten first
/// (a flood from forged addresses cannot grow the table without bound).
const MAX_SOURCES: usize = 65_536;

/// The rules; `per_second == 0` turns admission control off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdmissionConfig {
    /// New INVITEs per second one address may start, on average.
    pub per_second: u32,
    /// How many it may start at once after a quiet time.
    pub burst: u32,
    /// Strikes (refusals, wearing off at `per_second`) after which the source is ignored
    /// (no answer at all).
    pub drop_after: u32,
    /// How long an ignored source stays ignored.
    pub drop_for: Duration,
    /// What a refused source is told to wait (`Retry-After`, seconds).
    pub retry_after: u32,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            per_second: 100,
            burst: 200,
            drop_after: 100,
            drop_for: Duration::from_secs(60),
            retry_after: 5,
        }
    }
}

/// What to do with a new INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    /// Answer `503` with `Retry-After: seconds`.
    Refuse {
        retry_after: u32,
    },
    /// Send nothing.
    Ignore,
}

#[derive(Clone, Copy, Debug)]
struct Source {
    tokens: f64,
    /// Refusals not yet worn off.
    strikes: f64,
    at: Instant,
    ignored_until: Option<Instant>,
}

/// Per-source buckets.
#[derive(Debug)]
pub struct Admission {
    config: AdmissionConfig,
    sources: HashMap<IpAddr, Source>,
}

impl Admission {
    pub fn new(config: AdmissionConfig) -> Self {
        Self {
            config,
            sources: HashMap::new(),
        }
    }

    /// Sources currently remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Whether a new INVITE from `ip` may start a call now.
    pub fn check(&mut self, now: Instant, ip: IpAddr) -> Verdict {
        let c = self.config;
        if c.per_second == 0 {
            return Verdict::Admit;
        }
        let burst = f64::from(c.burst.max(1));
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.forget_quiet(now);
        }
        let s = self.sources.entry(ip).or_insert(Source {
            tokens: burst,
            strikes: 0.0,
            at: now,
            ignored_until: None,
        });
        let refill = now.saturating_duration_since(s.at).as_secs_f64() * f64::from(c.per_second);
        s.tokens = (s.tokens + refill).min(burst);
        s.strikes = (s.strikes - refill).max(0.0);
        s.at = now;
        if let Some(until) = s.ignored_until {
            if now < until {
                return Verdict::Ignore;
            }
            s.ignored_until = None;
            s.strikes = 0.0;
        }
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            return Verdict::Admit;
        }
        s.strikes += 1.0;
        if s.strikes > f64::from(c.drop_after) {
            s.ignored_until = Some(now + c.drop_for);
            return Verdict::Ignore;
        }
        Verdict::Refuse {
            retry_after: c.retry_after,
        }
    }

    /// Forgets sources whose bucket has refilled and that are not being ignored; if that
    /// frees nothing, forgets all but the ignored ones.
    fn forget_quiet(&mut self, now: Instant) {
        let c = self.config;
        let burst = f64::from(c.burst.max(1));
        let full = |s: &Source| {
            s.tokens + now.saturating_duration_since(s.at).as_secs_f64() * f64::from(c.per_second)
                >= burst
        };
        self.sources
            .retain(|_, s| s.ignored_until.is_some_and(|u| now < u) || !full(s));
        if self.sources.len() >= MAX_SOURCES {
            self.sources
                .retain(|_, s| s.ignored_until.is_some_and(|u| now < u));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    fn config() -> AdmissionConfig {
        AdmissionConfig {
            per_second: 10,
            burst: 20,
            drop_after: 5,
            drop_for: Duration::from_secs(60),
            retry_after: 5,
        }
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_refusals_turn_to_silence() {
        let mut a = Admission::new(config());
        let t0 = Instant::now();
        for _ in 0..20 {
            assert_eq!(a.check(t0, ip(1)), Verdict::Admit);
        }
        for _ in 0..5 {
            assert_eq!(a.check(t0, ip(1)), Verdict::Refuse { retry_after: 5 });
        }
        assert_eq!(a.check(t0, ip(1)), Verdict::Ignore, "a repeat offender");
        // Ignored for a minute even though its bucket refills meanwhile.
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(a.check(t1, ip(1)), Verdict::Ignore);
        let t2 = t0 + Duration::from_secs(61);
        assert_eq!(a.check(t2, ip(1)), Verdict::Admit, "forgiven afterwards");
        assert_eq!(
            a.check(t0, ip(2)),
            Verdict::Admit,
            "other sources unaffected"
        );
    }

    #[test]
    fn a_steady_caller_at_the_rate_is_never_refused() {
        let mut a = Admission::new(config());
        let t0 = Instant::now();
        for n in 0..1000u64 {
            let at = t0 + Duration::from_millis(100 * n);
            assert_eq!(a.check(at, ip(1)), Verdict::Admit, "call {n}");
        }
    }

    #[test]
    fn a_source_somewhat_over_its_rate_is_refused_but_never_ignored() {
        let mut a = Admission::new(config());
        let t0 = Instant::now();
        let (mut admitted, mut refused) = (0, 0);
        // 15 a second against 10 allowed, for 100 s.
        for n in 0..1500u64 {
            match a.check(t0 + Duration::from_micros(66_667 * n), ip(1)) {
                Verdict::Admit => admitted += 1,
                Verdict::Refuse { .. } => refused += 1,
                Verdict::Ignore => panic!("ignored at call {n}"),
            }
        }
        assert!((1000..=1025).contains(&admitted), "{admitted}");
        assert!(refused > 450, "{refused}");
    }

    #[test]
    fn a_steady_flood_far_over_the_rate_is_soon_ignored() {
        let mut a = Admission::new(config());
        let t0 = Instant::now();
        // 1000 a second against 10 allowed.
        let first_ignored = (0..2000u64)
            .find(|&n| a.check(t0 + Duration::from_millis(n), ip(1)) == Verdict::Ignore)
            .expect("ignored");
        assert!(first_ignored < 100, "after {first_ignored} ms");
    }

    #[test]
    fn forged_sources_cannot_grow_the_table_without_bound() {
        let mut a = Admission::new(config());
        let t0 = Instant::now();
        for n in 0..(MAX_SOURCES as u32 + 10_000) {
            let at = t0 + Duration::from_micros(u64::from(n) * 100);
            a.check(at, IpAddr::from(n.to_be_bytes()));
        }
        assert!(a.len() <= MAX_SOURCES, "{}", a.len());
    }

    #[test]
    fn zero_turns_it_off() {
        let mut a = Admission::new(AdmissionConfig {
            per_second: 0,
            ..config()
        });
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(a.check(t0, ip(1)), Verdict::Admit);
        }
        assert!(a.is_empty());
    }
}
