//! Watching the server under test over the measured window: its CPU time (utime + stime of
//! all its threads, from `/proc/PID/stat`) and resident memory (`VmRSS`) at the start and the
//! end of the window, and the change of its Prometheus metrics (`GET /metrics`) between the
//! two. The window is exactly the one the media figures cover (set-up and hang-up excluded).

use std::collections::BTreeMap;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A process's CPU time and RSS at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcSample {
    pub at: Instant,
    /// utime + stime, seconds.
    pub cpu_s: f64,
    /// stime alone (kernel: sockets, wake-ups), seconds.
    pub system_s: f64,
    pub rss_kib: u64,
}

/// Reads `/proc/PID/stat` and `/proc/PID/status`; None if the process is gone.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let (user, system) = cpu_ticks_split(&stat)?;
    Some(ProcSample {
        at: Instant::now(),
        cpu_s: (user + system) as f64 / ticks,
        system_s: system as f64 / ticks,
        rss_kib: rss_kib(&status)?,
    })
}

/// utime + stime (clock ticks) from the text of `/proc/PID/stat`: fields 14 and 15, counted
/// after the command name, which is in parentheses and may hold spaces.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    cpu_ticks_split(stat).map(|(u, s)| u + s)
}

/// (utime, stime) in clock ticks from the text of `/proc/PID/stat`.
pub fn cpu_ticks_split(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

/// `VmRSS` in KiB from the text of `/proc/PID/status`.
pub fn rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Samples of a Prometheus/OpenMetrics text page: `name{labels}` → value.
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.trim().rsplit_once(' ')?;
            // An exemplar or timestamp would follow the value; we take the plain form.
            Some((key.trim().to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Fetches `url` on a helper thread (the send loop must not wait for HTTP).
pub fn fetch_metrics(url: String) -> JoinHandle<Option<BTreeMap<String, f64>>> {
    thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let text = agent
            .get(&url)
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        Some(parse_metrics(&text))
    })
}

/// What the server cost over the measured window.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerReport {
    pub pid: u32,
    pub window_s: f64,
    pub cpu_s: f64,
    /// The kernel's part of cpu_s (stime).
    pub cpu_system_s: f64,
    /// cpu_s / window_s, in % of one core.
    pub cpu_pct_of_core: f64,
    /// CPU per participant-second (participants: streams set up), µs.
    pub cpu_us_per_participant_s: f64,
    pub rss_kib_start: u64,
    pub rss_kib_end: u64,
    /// end − start of every metric that changed (counters, histogram buckets, gauges).
    pub metrics_delta: BTreeMap<String, f64>,
}

impl ServerReport {
    pub fn build(
        pid: u32,
        start: ProcSample,
        end: ProcSample,
        participants: usize,
        metrics: Option<(BTreeMap<String, f64>, BTreeMap<String, f64>)>,
    ) -> ServerReport {
        let window_s = end.at.saturating_duration_since(start.at).as_secs_f64();
        let cpu_s = (end.cpu_s - start.cpu_s).max(0.0);
        let per = |x: f64| if x > 0.0 { 1.0 / x } else { 0.0 };
        let metrics_delta = metrics
            .map(|(a, b)| {
                b.iter()
                    .filter_map(|(k, v)| {
                        let d = v - a.get(k).copied().unwrap_or(0.0);
                        (d != 0.0).then(|| (k.clone(), d))
                    })
                    .collect()
            })
            .unwrap_or_default();
        ServerReport {
            pid,
            window_s,
            cpu_s,
            cpu_system_s: (end.system_s - start.system_s).max(0.0),
            cpu_pct_of_core: cpu_s * 100.0 * per(window_s),
            cpu_us_per_participant_s: cpu_s * 1e6 * per(window_s * participants as f64),
            rss_kib_start: start.rss_kib,
            rss_kib_end: end.rss_kib,
            metrics_delta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read() {
        let stat = "4242 (konf erenz) S 1 4242 4242 0 -1 4194560 1000 0 0 0 157 42 0 0 20 0 9 0 100 1000000 2000 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(199));
        let status = "Name:\tkonferenz\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n";
        assert_eq!(rss_kib(status), Some(12345));
        let own = sample(std::process::id()).expect("our own /proc");
        assert!(own.rss_kib > 0);
    }

    #[test]
    fn metrics_text_is_parsed_and_diffed() {
        let a = parse_metrics(
            "# HELP konferenz_mix_ticks Ticks.\n# TYPE konferenz_mix_ticks counter\nkonferenz_mix_ticks_total 100\nkonferenz_mix_tick_lateness_seconds_bucket{le=\"0.01\"} 99\n# EOF\n",
        );
        assert_eq!(a["konferenz_mix_ticks_total"], 100.0);
        assert_eq!(
            a["konferenz_mix_tick_lateness_seconds_bucket{le=\"0.01\"}"],
            99.0
        );
        let mut b = a.clone();
        b.insert("konferenz_mix_ticks_total".into(), 600.0);
        let t0 = Instant::now();
        let s = |at: Instant, cpu_s: f64| ProcSample {
            at,
            cpu_s,
            system_s: cpu_s / 2.0,
            rss_kib: 1000,
        };
        let r = ServerReport::build(
            1,
            s(t0, 1.0),
            s(t0 + Duration::from_secs(10), 2.0),
            100,
            Some((a, b)),
        );
        assert_eq!(r.metrics_delta.len(), 1);
        assert_eq!(r.metrics_delta["konferenz_mix_ticks_total"], 500.0);
        assert!((r.cpu_pct_of_core - 10.0).abs() < 1e-9);
        assert!((r.cpu_system_s - 0.5).abs() < 1e-9);
        assert!((r.cpu_us_per_participant_s - 1000.0).abs() < 1e-6);
    }
}
