//! The cost of one 20 ms frame through each codec and the G.711 resampling: decode (with
//! 8 → 16 kHz for G.711) and encode (16 → 8 kHz for G.711), on a speech-like signal (a
//! gliding two-tone with noise at talking level). From these: CPU per participant and
//! codec, talking (decode + its own encode) and silent (decode; the shared mix's encode
//! is split among all silent listeners of the codec).

use criterion::{Criterion, criterion_group, criterion_main};
use konferenz_media::*;
use std::hint::black_box;

/// 50 frames of a speech-like signal at 16 kHz.
fn signal() -> Vec<Frame> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut frames = vec![[0i16; FRAME_SAMPLES]; 50];
    for (k, f) in frames.iter_mut().enumerate() {
        for (i, s) in f.iter_mut().enumerate() {
            let t = (k * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
            let f0 = 140.0 + 40.0 * (t * 3.0).sin();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 48) as i16 as f64 / 32768.0;
            let v = 5000.0 * (std::f64::consts::TAU * f0 * t).sin()
                + 2500.0 * (std::f64::consts::TAU * 3.7 * f0 * t).sin()
                + 600.0 * noise;
            *s = v as i16;
        }
    }
    frames
}

fn bench(c: &mut Criterion) {
    let frames = signal();
    let mut group = c.benchmark_group("codec_frame");
    for codec in [Codec::Pcmu, Codec::G722, Codec::Opus] {
        let name = codec.encoding_name();
        let mut encoder = Encoder::new(codec);
        let mut out = [0u8; MAX_PAYLOAD];
        let mut k = 0;
        group.bench_function(format!("{name}/encode"), |b| {
            b.iter(|| {
                k = (k + 1) % frames.len();
                black_box(encoder.encode(black_box(&frames[k]), &mut out))
            })
        });
        let mut encoder = Encoder::new(codec);
        let payloads: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                let n = encoder.encode(f, &mut out);
                out[..n].to_vec()
            })
            .collect();
        let mut decoder = Decoder::new(codec);
        let mut pcm = [0i16; FRAME_SAMPLES];
        let mut k = 0;
        group.bench_function(format!("{name}/decode"), |b| {
            b.iter(|| {
                k = (k + 1) % payloads.len();
                black_box(decoder.decode(black_box(&payloads[k]), &mut pcm))
            })
        });
    }
    let mut up = Upsampler::new();
    let narrow = [1000i16; NARROW_SAMPLES];
    let mut wide = [0i16; FRAME_SAMPLES];
    group.bench_function("resample/8k-to-16k", |b| {
        b.iter(|| up.run(black_box(&narrow), &mut wide))
    });
    let mut down = Downsampler::new();
    let mut narrow_out = [0i16; NARROW_SAMPLES];
    group.bench_function("resample/16k-to-8k", |b| {
        b.iter(|| down.run(black_box(&frames[3]), &mut narrow_out))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
