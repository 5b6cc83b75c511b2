//! Small statistics: percentiles over recorded samples and the send loop's lateness.

use std::time::Duration;

use serde::Serialize;

/// The `p`-th percentile (0–100) of `samples` by nearest rank on a sorted copy; `None` when
/// there are no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    Some(percentile_sorted(&sorted, p))
}

/// Nearest-rank percentile of an already sorted, non-empty slice.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p99 and max of a set of samples (milliseconds, by convention).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(|a, b| a.total_cmp(b));
        Summary {
            count: sorted.len(),
            p50: Some(percentile_sorted(&sorted, 50.0)),
            p99: Some(percentile_sorted(&sorted, 99.0)),
            max: sorted.last().copied(),
        }
    }
}

/// How late the send loop ran against its absolute 20 ms deadlines.
#[derive(Clone, Debug, Default)]
pub struct Lateness {
    samples_ms: Vec<f64>,
}

/// A tick counts as "late" in the report when it went out more than this after its deadline.
pub const LATE_TICK: Duration = Duration::from_millis(2);

impl Lateness {
    /// Records one tick sent `late` after its deadline (zero if it was on time).
    pub fn record(&mut self, late: Duration) {
        self.samples_ms.push(late.as_secs_f64() * 1000.0);
    }

    pub fn report(&self) -> LatenessReport {
        let s = Summary::of(&self.samples_ms);
        let limit = LATE_TICK.as_secs_f64() * 1000.0;
        LatenessReport {
            ticks: s.count,
            p99_ms: s.p99.unwrap_or(0.0),
            max_ms: s.max.unwrap_or(0.0),
            over_2ms: self.samples_ms.iter().filter(|&&m| m > limit).count(),
        }
    }
}

/// The tool's own lateness, as reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatenessReport {
    /// Ticks sent (one batch of frames for every stream per tick).
    pub ticks: usize,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Ticks sent more than 2 ms after their deadline.
    pub over_2ms: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        // Unsorted input, p99 of 10 values is the largest.
        let w = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0];
        assert_eq!(percentile(&w, 99.0), Some(10.0));
        assert_eq!(percentile(&w, 50.0), Some(5.0));
    }

    #[test]
    fn summary_of_samples() {
        let s = Summary::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.count, s.p50, s.max), (3, Some(2.0), Some(3.0)));
        assert_eq!(Summary::of(&[]), Summary::default());
    }

    #[test]
    fn lateness_counts_ticks_over_two_ms() {
        let mut l = Lateness::default();
        for us in [0, 100, 500, 1_900, 2_100, 7_000] {
            l.record(Duration::from_micros(us));
        }
        let r = l.report();
        assert_eq!(r.ticks, 6);
        assert_eq!(r.over_2ms, 2);
        assert!((r.max_ms - 7.0).abs() < 1e-9);
        assert!((r.p99_ms - 7.0).abs() < 1e-9);
        assert_eq!(Lateness::default().report(), LatenessReport::default());
    }
}
