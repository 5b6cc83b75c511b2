//! Live metrics for `GET /metrics`, encoded by `prometheus-client` (OpenMetrics text).
//!
//! The audio path only ever does relaxed atomic adds: rooms update [`MediaMetrics`] (the
//! crate's `Counter`/`Gauge` are single atomics; its `Histogram` takes a lock on `observe`, so
//! tick lateness goes to [`LatenessHistogram`], fixed buckets of atomics encoded at scrape
//! time). Per-leg packet counters are added to the global ones every [`LEG_FLUSH_TICKS`]
//! ticks, not per packet. The SIP task owns the sans-IO endpoint; after each event-loop
//! iteration it publishes the endpoint's counters through a [`SipPublisher`] into a small
//! mutex-guarded snapshot (only when they changed), which a scrape reads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use konferenz_media::LegStats;
use konferenz_sip::{Endpoint, EndpointStats, TransactionStats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

use konferenz_conference::LATE_TICK;

/// Upper bounds of the tick-lateness buckets, in microseconds (0.1 ms … 50 ms, then +Inf).
const LATENESS_BOUNDS_US: [u64; 9] = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000];

/// A histogram of mixer-tick lateness in fixed buckets of atomics: `observe` is two relaxed
/// adds, no lock and no allocation.
#[derive(Debug, Default)]
pub struct LatenessHistogram {
    /// Per bucket (not cumulative); the last is +Inf.
    buckets: [AtomicU64; LATENESS_BOUNDS_US.len() + 1],
    sum_nanos: AtomicU64,
}

impl LatenessHistogram {
    pub fn observe(&self, lateness: Duration) {
        let micros = u64::try_from(lateness.as_micros()).unwrap_or(u64::MAX);
        let i = LATENESS_BOUNDS_US
            .iter()
            .position(|&bound| micros <= bound)
            .unwrap_or(LATENESS_BOUNDS_US.len());
        self.buckets[i].fetch_add(1, Relaxed);
        let nanos = u64::try_from(lateness.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// `(sum in seconds, count, per-bucket (upper bound in seconds, count))`. Count is the
    /// sum of the buckets, so the two always agree even while rooms keep adding.
    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let buckets: Vec<(f64, u64)> = LATENESS_BOUNDS_US
            .iter()
            .map(|&us| us as f64 / 1e6)
            .chain([f64::INFINITY])
            .zip(&self.buckets)
            .map(|(bound, n)| (bound, n.load(Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        (sum, count, buckets)
    }
}

/// What rooms update (on the mixer threads): atomics only.
#[derive(Debug, Default)]
pub struct MediaMetrics {
    pub rooms: Gauge,
    pub participants: Gauge,
    pub ticks: Counter,
    pub ticks_late: Counter,
    pub ticks_skipped: Counter,
    pub tick_lateness: LatenessHistogram,
    pub rtp_packets_received: Counter,
    pub rtp_packets_sent: Counter,
    pub rtp_packets_malformed: Counter,
    pub rtp_packets_foreign: Counter,
    pub jitter_packets_discarded: Counter,
    pub jitter_frames_concealed: Counter,
}

impl MediaMetrics {
    /// A mixer tick started `lateness` after its deadline.
    pub fn tick_started(&self, lateness: Duration) {
        self.ticks.inc();
        self.tick_lateness.observe(lateness);
        if lateness > LATE_TICK {
            self.ticks_late.inc();
        }
    }

    /// Adds what a leg counted since `reported`, and remembers `now` as reported.
    pub fn add_leg(&self, now: LegStats, reported: &mut LegStats) {
        let delta = |now: u64, before: u64| now.saturating_sub(before);
        let adds = [
            (
                &self.rtp_packets_received,
                delta(now.packets_received, reported.packets_received),
            ),
            (
                &self.rtp_packets_sent,
                delta(now.packets_sent, reported.packets_sent),
            ),
            (
                &self.rtp_packets_malformed,
                delta(now.malformed, reported.malformed),
            ),
            (
                &self.rtp_packets_foreign,
                delta(now.foreign, reported.foreign),
            ),
            (
                &self.jitter_packets_discarded,
                delta(now.packets_discarded, reported.packets_discarded),
            ),
            (
                &self.jitter_frames_concealed,
                delta(now.frames_concealed, reported.frames_concealed),
            ),
        ];
        for (counter, n) in adds {
            if n > 0 {
                counter.inc_by(n);
            }
        }
        *reported = now;
    }
}

impl Collector for MediaMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.tick_lateness.snapshot();
        let mut metric = encoder.encode_descriptor(
            "mix_tick_lateness_seconds",
            "How late mixer ticks start after their 20 ms deadline",
            None,
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }
}

/// The endpoint's counters as the SIP task last published them.
#[derive(Debug, Default)]
struct SipSnapshot {
    calls_active: usize,
    stats: EndpointStats,
    transactions: TransactionStats,
}

#[derive(Debug, Clone)]
struct SipCollector(Arc<Mutex<SipSnapshot>>);

impl Collector for SipCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (calls_active, stats, transactions) = {
            let s = self.0.lock().unwrap_or_else(|e| e.into_inner());
            (s.calls_active, s.stats, s.transactions.clone())
        };
        let gauge = ConstGauge::new(i64::try_from(calls_active).unwrap_or(i64::MAX));
        gauge.encode(encoder.encode_descriptor(
            "calls_active",
            "SIP calls alive (ringing, up or ending)",
            None,
            MetricType::Gauge,
        )?)?;

        let mut calls = encoder.encode_descriptor(
            "calls",
            "SIP calls started: direction in (INVITEs received) or out (calls placed)",
            None,
            MetricType::Counter,
        )?;
        for (direction, n) in [("in", stats.calls_in), ("out", stats.calls_out)] {
            ConstCounter::new(n).encode(calls.encode_family(&[("direction", direction)])?)?;
        }

        let mut tx = encoder.encode_descriptor(
            "sip_transactions",
            "SIP transactions by final status: direction in (requests we answered) or out \
             (requests we sent; a timeout counts as 408, a transport error as 503)",
            None,
            MetricType::Counter,
        )?;
        for (side, method, status, n) in transactions.iter() {
            let status = status.to_string();
            let labels = [
                ("direction", side.label()),
                ("method", method),
                ("status", status.as_str()),
            ];
            ConstCounter::new(n).encode(tx.encode_family(&labels)?)?;
        }

        ConstCounter::new(stats.unparseable).encode(encoder.encode_descriptor(
            "sip_unparseable",
            "Datagrams dropped because they did not parse as SIP",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(stats.rejected_invalid).encode(encoder.encode_descriptor(
            "sip_rejected_invalid",
            "SIP requests answered 400/505 by validation",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(stats.rejected_overload).encode(encoder.encode_descriptor(
            "sip_rejected_overload",
            "New INVITEs answered 503 because the SIP task was behind",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(stats.rejected_rate).encode(encoder.encode_descriptor(
            "sip_rejected_rate",
            "New INVITEs answered 503 because their source address exceeded limits.invites_per_source_per_sec",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(stats.ignored_rate).encode(encoder.encode_descriptor(
            "sip_ignored_rate",
            "New INVITEs not answered: their source kept sending after its refusals",
            None,
            MetricType::Counter,
        )?)
    }
}

/// Copies the endpoint's counters into the shared snapshot; owned by the SIP task.
#[derive(Debug)]
pub struct SipPublisher {
    shared: Arc<Mutex<SipSnapshot>>,
    calls_active: usize,
    stats: EndpointStats,
    transactions: u64,
}

impl SipPublisher {
    /// Publishes if anything changed since the last call (a few integer compares if not).
    pub fn publish(&mut self, endpoint: &Endpoint) {
        let calls_active = endpoint.call_count();
        let stats = endpoint.stats();
        let transactions = endpoint.transaction_stats();
        if calls_active == self.calls_active
            && stats == self.stats
            && transactions.total() == self.transactions
        {
            return;
        }
        (self.calls_active, self.stats, self.transactions) =
            (calls_active, stats, transactions.total());
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.calls_active = calls_active;
        shared.stats = stats;
        if shared.transactions.total() != transactions.total() {
            shared.transactions.clone_from(transactions);
        }
    }
}

/// Conference events by kind (and participant state), counted as the bus publishes them.
#[derive(Debug, Default)]
pub struct EventMetrics {
    events: prometheus_client::metrics::family::Family<Vec<(String, String)>, Counter>,
}

impl EventMetrics {
    /// Counts one published event.
    pub fn observe(&self, kind: &konferenz_conference::EventKind) {
        let mut labels = vec![("kind".to_owned(), kind.name().to_owned())];
        if let konferenz_conference::EventKind::Participant { state, .. } = kind {
            labels.push(("state".to_owned(), (*state).to_owned()));
        }
        self.events.get_or_create(&labels).inc();
    }
}

/// Every metric of the server and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    pub media: Arc<MediaMetrics>,
    pub events: Arc<EventMetrics>,
    sip: Arc<Mutex<SipSnapshot>>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let media = Arc::new(MediaMetrics::default());
        let events = Arc::new(EventMetrics::default());
        let sip = Arc::new(Mutex::new(SipSnapshot::default()));
        let mut registry = Registry::with_prefix("konferenz");
        let m = &media;
        registry.register(
            "rooms_active",
            "Conference rooms with a running mixer task",
            m.rooms.clone(),
        );
        registry.register(
            "participants",
            "Callers in a conference (past the voice menu)",
            m.participants.clone(),
        );
        registry.register("mix_ticks", "Mixer ticks run", m.ticks.clone());
        registry.register(
            "mix_ticks_late",
            "Mixer ticks that started more than 2 ms after their deadline",
            m.ticks_late.clone(),
        );
        registry.register(
            "mix_ticks_skipped",
            "Mixer ticks skipped after a stall (the clock is re-anchored instead of bursting)",
            m.ticks_skipped.clone(),
        );
        registry.register(
            "rtp_packets_received",
            "RTP packets received from participants (negotiated payload types)",
            m.rtp_packets_received.clone(),
        );
        registry.register(
            "rtp_packets_sent",
            "RTP packets sent to participants",
            m.rtp_packets_sent.clone(),
        );
        registry.register(
            "rtp_packets_malformed",
            "Datagrams on RTP/RTCP ports that were not valid RTP/RTCP",
            m.rtp_packets_malformed.clone(),
        );
        registry.register(
            "rtp_packets_foreign",
            "Datagrams on a participant's RTP/RTCP port from an address other than its latched source, dropped",
            m.rtp_packets_foreign.clone(),
        );
        registry.register(
            "jitter_packets_discarded",
            "RTP packets the jitter buffer dropped: too late to play, or duplicates",
            m.jitter_packets_discarded.clone(),
        );
        registry.register(
            "jitter_frames_concealed",
            "20 ms frames made up by packet-loss concealment",
            m.jitter_frames_concealed.clone(),
        );
        registry.register(
            "conference_events",
            "Conference events published (participant changes by state, mutes, talking, locks)",
            events.events.clone(),
        );
        registry.register_collector(Box::new(media.clone()));
        registry.register_collector(Box::new(SipCollector(sip.clone())));
        Self {
            media,
            events,
            sip,
            registry,
        }
    }

    /// The SIP task's handle for publishing the endpoint's counters.
    pub fn sip_publisher(&self) -> SipPublisher {
        SipPublisher {
            shared: self.sip.clone(),
            calls_active: 0,
            stats: EndpointStats::default(),
            transactions: 0,
        }
    }

    /// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_lands_in_its_bucket_and_sum() {
        let h = LatenessHistogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(1));
        let (sum, count, buckets) = h.snapshot();
        assert_eq!(count, 4);
        assert!((sum - 1.00315).abs() < 1e-9, "{sum}");
        let counts: Vec<u64> = buckets.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(buckets[9].0, f64::INFINITY);
    }

    #[test]
    fn leg_deltas_are_added_once() {
        let metrics = MediaMetrics::default();
        let mut reported = LegStats::default();
        let mut now = LegStats {
            packets_received: 10,
            packets_sent: 8,
            frames_concealed: 2,
            ..LegStats::default()
        };
        metrics.add_leg(now, &mut reported);
        metrics.add_leg(now, &mut reported);
        now.packets_received = 15;
        metrics.add_leg(now, &mut reported);
        assert_eq!(metrics.rtp_packets_received.get(), 15);
        assert_eq!(metrics.rtp_packets_sent.get(), 8);
        assert_eq!(metrics.jitter_frames_concealed.get(), 2);
    }

    #[test]
    fn encoding_has_every_family_with_help() {
        let metrics = Metrics::new();
        metrics.media.participants.set(3);
        metrics.media.tick_started(Duration::from_millis(3));
        metrics
            .events
            .observe(&konferenz_conference::EventKind::ConferenceEnded);
        let text = metrics.encode();
        assert!(
            text.contains("konferenz_conference_events_total{kind=\"conference-ended\"} 1"),
            "{text}"
        );
        for family in [
            "konferenz_rooms_active",
            "konferenz_participants",
            "konferenz_mix_ticks",
            "konferenz_mix_ticks_late",
            "konferenz_mix_ticks_skipped",
            "konferenz_mix_tick_lateness_seconds",
            "konferenz_rtp_packets_received",
            "konferenz_rtp_packets_sent",
            "konferenz_rtp_packets_malformed",
            "konferenz_rtp_packets_foreign",
            "konferenz_jitter_packets_discarded",
            "konferenz_jitter_frames_concealed",
            "konferenz_calls_active",
            "konferenz_calls",
            "konferenz_sip_transactions",
            "konferenz_sip_unparseable",
            "konferenz_sip_rejected_invalid",
            "konferenz_sip_rejected_overload",
            "konferenz_sip_rejected_rate",
            "konferenz_sip_ignored_rate",
            "konferenz_conference_events",
        ] {
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "{family} missing:\n{text}"
            );
        }
        assert!(text.contains("konferenz_participants 3\n"), "{text}");
        assert!(
            text.contains("konferenz_mix_ticks_late_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("konferenz_mix_tick_lateness_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("konferenz_calls_total{direction=\"in\"} 0\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn sip_counters_are_published_from_the_endpoint() {
        use std::net::SocketAddr;
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let mut endpoint = Endpoint::new(
            konferenz_sip::EndpointConfig {
                local_addr: local,
                user_agent: "test".into(),
                codecs: vec![konferenz_sip::PCMU],
                timers: konferenz_sip::Timers::default(),
                tls_port: None,
                srtp: konferenz_sip::SrtpPolicy::default(),
            },
            1,
        );
        let metrics = Metrics::new();
        let mut publisher = metrics.sip_publisher();
        let options = "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-m1\r\n\
            Max-Forwards: 70\r\nTo: <sip:127.0.0.1:5060>\r\n\
            From: <sip:probe@127.0.0.1:5070>;tag=p1\r\nCall-ID: m1@probe\r\n\
            CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let from: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let now = std::time::Instant::now();
        endpoint.handle_datagram(now, from, options.as_bytes());
        endpoint.handle_datagram(now, from, b"\x01 not sip");
        while endpoint.poll_output().is_some() {}
        publisher.publish(&endpoint);
        let text = metrics.encode();
        assert!(
            text.contains(
                "konferenz_sip_transactions_total{direction=\"in\",method=\"OPTIONS\",status=\"200\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("konferenz_sip_unparseable_total 1\n"),
            "{text}"
        );
        assert!(text.contains("konferenz_calls_active 0\n"), "{text}");
    }
}
