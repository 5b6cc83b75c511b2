//! Per-frame cost of the in-band DTMF detector on a caller's audio: a stream of key
//! presses (80 ms tone, 60 ms pause) and speech-like sound, one 20 ms frame per iteration.

use criterion::{Criterion, criterion_group, criterion_main};
use konferenz_media::*;
use std::hint::black_box;
use std::time::Instant;

/// 4 s of audio: the digits 0-9*# as presses, then 1.6 s of a harmonic "voice".
fn stream() -> Vec<Frame> {
    let mut samples = Vec::new();
    let tones = [
        (941.0, 1336.0),
        (697.0, 1209.0),
        (770.0, 1336.0),
        (852.0, 1477.0),
        (941.0, 1477.0),
        (697.0, 1633.0),
    ];
    for i in 0..16 {
        let (lo, hi) = tones[i % tones.len()];
        samples.extend((0..640).map(|n| {
            let t = n as f64 / 8000.0;
            (3000.0 * (std::f64::consts::TAU * lo * t).sin()
                + 4000.0 * (std::f64::consts::TAU * hi * t).sin()) as i16
        }));
        samples.extend(std::iter::repeat_n(0i16, 480));
    }
    samples.extend((0..12_800).map(|n| {
        let t = n as f64 / 8000.0;
        let f0 = 120.0 + 30.0 * (3.0 * t).sin();
        (1..20)
            .map(|h| 800.0 / h as f64 * (std::f64::consts::TAU * f0 * h as f64 * t).sin())
            .sum::<f64>() as i16
    }));
    samples
        .chunks_exact(FRAME_SAMPLES)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn inband(c: &mut Criterion) {
    let frames = stream();
    let mut detector = InbandDetector::new();
    let mut i = 0;
    c.bench_function("inband_push_frame", |b| {
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(detector.push_frame(black_box(&frames[i])))
        })
    });
    let start = Instant::now();
    let rounds = 50;
    let mut digits = 0;
    for _ in 0..rounds {
        for f in &frames {
            digits += usize::from(detector.push_frame(f).is_some());
        }
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * frames.len()) as f64;
    println!("inband: {per:.0} ns per 20 ms frame ({digits} digits in {rounds} rounds)");
}

criterion_group!(benches, inband);
criterion_main!(benches);
