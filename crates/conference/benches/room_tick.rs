//! One 20 ms tick of a whole `Room` with real codecs (no sockets: packets come from memory,
//! sent packets are dropped): every participant's packet is received, decoded (below the
//! noise gate: not mixed), mixed at 16 kHz and encoded — talkers their own mix, everyone
//! silent one shared encoding per codec. Rooms of 10 and 100 participants of one codec
//! with 0, 1 or 2 talking. Per-participant costs are printed after each group:
//! *silent* = tick(0 talking) / n, *talking* = tick(1 talking) − tick(0 talking).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use konferenz_conference::*;
use konferenz_media::{Codec, Encoder, FRAME_SAMPLES, Frame, LegConfig, MAX_PAYLOAD, SAMPLE_RATE};

/// Frames of pre-encoded audio per participant (the sequence repeats).
const CLIP: usize = 50;

fn addr(i: usize) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8)),
        4000,
    )
}

/// Payloads a phone of `codec` sends: speech-like if `talking`, else line noise (−70 dBFS).
fn clip(codec: Codec, talking: bool, seed: u64) -> Vec<Vec<u8>> {
    let mut encoder = Encoder::new(codec);
    let mut out = [0u8; MAX_PAYLOAD];
    let mut state = seed | 1;
    (0..CLIP)
        .map(|k| {
            let frame: Frame = std::array::from_fn(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let noise = (state >> 60) as i16 - 8;
                if !talking {
                    return noise;
                }
                let t = (k * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
                let f0 = 150.0 + 30.0 * (t * 2.0).sin();
                (6000.0 * (std::f64::consts::TAU * f0 * t).sin()
                    + 2000.0 * (std::f64::consts::TAU * 3.3 * f0 * t).sin()) as i16
                    + noise * 20
            });
            let n = encoder.encode(&frame, &mut out);
            out[..n].to_vec()
        })
        .collect()
}

/// The network side: each participant's next packet, and a sink.
struct Io {
    clips: Vec<Vec<Vec<u8>>>,
    pt: u8,
    ticks: Duration,
    tick: usize,
    packet: Vec<u8>,
}

impl MediaIo<usize> for Io {
    fn receive(&mut self, io: &usize, rtcp: bool, mut take: impl FnMut(SocketAddr, &[u8])) {
        if rtcp {
            return;
        }
        let payload = &self.clips[*io][self.tick % CLIP];
        let seq = self.tick as u16;
        let ts = (self.tick as u32).wrapping_mul(960);
        self.packet.clear();
        self.packet.extend_from_slice(&[0x80, self.pt]);
        self.packet.extend_from_slice(&seq.to_be_bytes());
        self.packet.extend_from_slice(&ts.to_be_bytes());
        self.packet
            .extend_from_slice(&(0x1000 + *io as u32).to_be_bytes());
        self.packet.extend_from_slice(payload);
        take(addr(*io), &self.packet);
    }

    fn send(&mut self, _: &usize, _: bool, to: SocketAddr, bytes: &[u8]) {
        black_box((to, bytes));
    }
}

struct Bench {
    room: Room<usize>,
    io: Io,
    now: Instant,
    events: Vec<RoomEvent<usize>>,
}

impl Bench {
    fn new(codec: Codec, pt: u8, n: usize, talking: usize) -> Bench {
        let library = PromptSet::constant(0, 0, 0, 0);
        let music = library.music.clone();
        let mut room = Room::new(
            RoomNumber::parse("800").unwrap(),
            RoomSettings {
                media_timeout: Duration::ZERO,
                jitter_min: Duration::from_millis(20),
                jitter_max: Duration::from_millis(200),
            },
            Arc::new(library),
            music,
        );
        let t0 = Instant::now();
        for i in 0..n {
            room.command(
                t0,
                RoomCommand::Join {
                    call: CallId(i as u64),
                    io: i,
                    media: MediaTarget {
                        config: LegConfig {
                            codec,
                            payload_type: pt,
                            dtmf_payload_type: None,
                            ssrc: 7 + i as u32,
                        },
                        remote: Some(addr(i)),
                        send: true,
                        srtp: None,
                    },
                    entry: Entry::Room {
                        room: RoomNumber::parse("800").unwrap(),
                        pin_required: false,
                    },
                    menu: MenuConfig::default(),
                    wallclock: Duration::from_secs(1_750_000_000),
                },
            );
        }
        let clips = (0..n)
            .map(|i| clip(codec, i < talking, i as u64 * 7919 + 1))
            .collect();
        let mut bench = Bench {
            room,
            io: Io {
                clips,
                pt,
                ticks: Duration::from_millis(20),
                tick: 0,
                packet: Vec::with_capacity(1500),
            },
            now: t0,
            events: Vec::new(),
        };
        // Past the menus, the join chimes and the jitter buffers' start.
        for _ in 0..100 {
            bench.tick();
        }
        bench
    }

    fn tick(&mut self) {
        self.now += self.io.ticks;
        self.io.tick += 1;
        self.room.tick(self.now, &mut self.io, &mut self.events);
        self.events.clear();
    }
}

fn room_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("room_tick");
    for (codec, pt) in [(Codec::Pcmu, 0), (Codec::G722, 9), (Codec::Opus, 111)] {
        for n in [10, 100] {
            let mut times = [0.0f64; 3];
            for (talking, time) in times.iter_mut().enumerate() {
                let mut bench = Bench::new(codec, pt, n, talking);
                let id = format!("{}/{n}/{talking}-talking", codec.encoding_name());
                group.bench_function(&id, |b| b.iter(|| bench.tick()));
                // A plain timing of the same for the summary line (criterion keeps its own).
                let start = Instant::now();
                for _ in 0..200 {
                    bench.tick();
                }
                *time = start.elapsed().as_secs_f64() / 200.0 * 1e6;
            }
            println!(
                "room_tick/{}/{n}: silent {:.2} µs per participant, talking +{:.1} µs, second talker +{:.1} µs (tick {:.0}/{:.0}/{:.0} µs)",
                codec.encoding_name(),
                times[0] / n as f64,
                times[1] - times[0],
                times[2] - times[1],
                times[0],
                times[1],
                times[2]
            );
        }
    }
    group.finish();
}

criterion_group!(benches, room_tick);
criterion_main!(benches);
