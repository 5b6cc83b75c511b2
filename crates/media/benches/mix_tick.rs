//! One 20 ms tick of a whole room: per participant receive one RTP packet, pull a frame;
//! mix; encode one packet per participant. Reported per participant (elements/s); the
//! per-participant time is printed as `time / n` after each group.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use konferenz_media::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Room {
    legs: Vec<MediaLeg>,
    packets: Vec<[u8; 172]>,
    inputs: Vec<Frame>,
    talking: Vec<bool>,
    outputs: Vec<Frame>,
    mixer: Mixer,
    out: [u8; MAX_PACKET],
    now: Instant,
    seq: u16,
    ts: u32,
}

impl Room {
    fn new(n: usize) -> Self {
        let t0 = Instant::now();
        let legs = (0..n)
            .map(|i| {
                let config = LegConfig {
                    codec: Codec::Pcmu,
                    payload_type: 0,
                    dtmf_payload_type: Some(101),
                    ssrc: i as u32 + 1,
                };
                MediaLeg::new(config, t0)
            })
            .collect();
        let packets = (0..n)
            .map(|i| {
                let mut p = [0u8; 172];
                p[0] = 0x80;
                p[8..12].copy_from_slice(&(0x1000 + i as u32).to_be_bytes());
                for (k, b) in p[12..].iter_mut().enumerate() {
                    *b = (k as u8).wrapping_mul(37) ^ i as u8;
                }
                p
            })
            .collect();
        Room {
            legs,
            packets,
            inputs: vec![[0; FRAME_SAMPLES]; n],
            talking: vec![false; n],
            outputs: vec![[0; FRAME_SAMPLES]; n],
            mixer: Mixer::with_capacity(n),
            out: [0; MAX_PACKET],
            now: t0,
            seq: 0,
            ts: 0,
        }
    }

    fn tick(&mut self) {
        self.now += Duration::from_millis(20);
        let (seq, ts) = (self.seq.to_be_bytes(), self.ts.to_be_bytes());
        for (i, leg) in self.legs.iter_mut().enumerate() {
            let packet = &mut self.packets[i];
            packet[2..4].copy_from_slice(&seq);
            packet[4..8].copy_from_slice(&ts);
            let _ = leg.receive(self.now, packet);
            let kind = leg.pull_frame(self.now, &mut self.inputs[i]);
            self.talking[i] = kind != FrameKind::Silence;
        }
        self.mixer
            .mix(&self.inputs, &self.talking, &mut self.outputs);
        for (leg, frame) in self.legs.iter_mut().zip(&self.outputs) {
            black_box(leg.encode_frame(frame, &mut self.out));
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
    }
}

fn mix_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("mix_tick");
    for n in [3usize, 10, 100, 1000] {
        let mut room = Room::new(n);
        for _ in 0..100 {
            room.tick(); // past the prefill
        }
        // The bench measures the audio path, not concealment: every packet is played.
        assert!(
            room.legs
                .iter()
                .all(|l| l.stats().frames_concealed == 0 && l.stats().packets_discarded == 0)
        );
        assert!(room.talking.iter().all(|t| *t));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| room.tick())
        });
        let start = Instant::now();
        let ticks = 2000;
        for _ in 0..ticks {
            room.tick();
        }
        let per = start.elapsed().as_nanos() as f64 / (ticks * n) as f64;
        println!("mix_tick/{n}: {per:.0} ns per participant per tick");
    }
    group.finish();
}

criterion_group!(benches, mix_tick);
criterion_main!(benches);
