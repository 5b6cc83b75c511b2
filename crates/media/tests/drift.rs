//! An hour of a phone whose clock runs 100 ppm fast or slow against ours, arriving quantised
//! to mixer ticks with a little network jitter: the buffer stays bounded and barely conceals.

mod common;

use common::*;
use konferenz_media::*;
use std::time::{Duration, Instant};

const HOUR_OF_TICKS: u64 = 180_000;

struct Outcome {
    max_buffered: Duration,
    concealed: u64,
    silent_after_start: u64,
    final_target: Duration,
}

fn simulate(ppm: f64, jitter_ns: u64) -> Outcome {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(7, 30000, 1_000_000);
    let period_ns = 20_000_000.0 / (1.0 + ppm * 1e-6);
    let mut rng = Lcg(42);
    let next_arrival = |k: u64, rng: &mut Lcg| {
        let jitter = if jitter_ns == 0 {
            0
        } else {
            rng.next() as u64 % jitter_ns
        };
        let arrival = (k as f64 * period_ns) as u64 + 30_000_000 + jitter;
        arrival.div_ceil(20_000_000)
    };
    let mut k = 0;
    let mut due = next_arrival(k, &mut rng);
    let mut out = Outcome {
        max_buffered: Duration::ZERO,
        concealed: 0,
        silent_after_start: 0,
        final_target: Duration::ZERO,
    };
    let mut started = false;
    let mut frame = [0i16; FRAME_SAMPLES];
    for n in 0..HOUR_OF_TICKS {
        let now = tick(t0, n);
        while due <= n {
            leg.receive(now, &phone.audio()).unwrap();
            k += 1;
            due = next_arrival(k, &mut rng);
        }
        out.max_buffered = out.max_buffered.max(leg.buffered());
        match leg.pull_frame(now, &mut frame) {
            FrameKind::Audio => started = true,
            FrameKind::Concealed => out.concealed += 1,
            FrameKind::Silence if started => out.silent_after_start += 1,
            FrameKind::Silence => {}
        }
    }
    out.final_target = leg.jitter_target();
    eprintln!(
        "ppm {ppm}, jitter {jitter_ns} ns: max buffered {:?}, concealed {}, target {:?}",
        out.max_buffered, out.concealed, out.final_target
    );
    assert_eq!(leg.stats().packets_discarded, 0);
    out
}

fn check(o: &Outcome) {
    assert!(
        o.max_buffered <= Duration::from_millis(200),
        "buffered up to {:?}",
        o.max_buffered
    );
    // One drift correction per 10 000 frames is at most 18 in an hour.
    assert!(o.concealed <= 40, "{} frames concealed", o.concealed);
    assert_eq!(o.silent_after_start, 0);
    assert!(
        o.final_target <= Duration::from_millis(60),
        "target {:?}",
        o.final_target
    );
}

#[test]
fn a_sender_clock_100_ppm_fast_for_an_hour_stays_bounded() {
    let o = simulate(100.0, 0);
    check(&o);
    assert_eq!(o.concealed, 0, "dropping frames needs no concealment");
}

#[test]
fn a_sender_clock_100_ppm_slow_for_an_hour_stays_bounded() {
    check(&simulate(-100.0, 0));
}

#[test]
fn drift_with_network_jitter_stays_bounded() {
    check(&simulate(100.0, 8_000_000));
    check(&simulate(-100.0, 8_000_000));
}
