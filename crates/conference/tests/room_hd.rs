//! HD audio in the room on virtual time: Opus, G.722 and G.711 participants in one room.
//! The wideband phones hear each other's 6 kHz tone; the G.711 phone hears the others'
//! speech-band tones and nothing folded down from above 4 kHz; silent listeners of one
//! codec get one shared encoding of the mix.

mod support;

use std::collections::HashMap;
use std::f64::consts::TAU;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use konferenz_conference::*;
use konferenz_media::{
    Codec, Decoder, Encoder, FRAME_SAMPLES, Frame, LegConfig, MAX_PAYLOAD, SAMPLE_RATE, rtp,
};
use support::net::{FakeIo, Net, Ports, Socket};

/// A phone of one codec sending a tone (or silence) and decoding what it hears.
struct HdPhone {
    socket: Socket,
    codec: Codec,
    pt: u8,
    ssrc: u32,
    seq: u16,
    ts: u32,
    hz: f64,
    frames: usize,
    encoder: Encoder,
    decoder: Decoder,
    heard: Vec<i16>,
    payloads: Vec<Vec<u8>>,
}

impl HdPhone {
    fn new(net: &Net, codec: Codec, pt: u8, ssrc: u32, hz: f64) -> Self {
        HdPhone {
            socket: net.socket(),
            codec,
            pt,
            ssrc,
            seq: 1,
            ts: 0,
            hz,
            frames: 0,
            encoder: Encoder::new(codec),
            decoder: Decoder::new(codec),
            heard: vec![],
            payloads: vec![],
        }
    }

    fn send(&mut self, to: SocketAddr) {
        let frame: Frame = std::array::from_fn(|i| {
            let t = (self.frames * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
            (6000.0 * (TAU * self.hz * t).sin()) as i16
        });
        self.frames += 1;
        let mut payload = [0u8; MAX_PAYLOAD];
        let n = self.encoder.encode(&frame, &mut payload);
        let mut p = vec![0x80, self.pt];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend_from_slice(&payload[..n]);
        self.socket.send_to(&p, to).unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(self.codec.frame_ticks());
    }

    fn listen(&mut self) {
        let mut buf = [0u8; 1500];
        while let Ok(n) = self.socket.recv(&mut buf) {
            let Ok(p) = rtp::RtpPacket::parse(&buf[..n]) else {
                continue;
            };
            if p.payload_type != self.pt {
                continue;
            }
            self.payloads.push(p.payload.to_vec());
            let mut out = [0i16; FRAME_SAMPLES];
            self.decoder.decode(p.payload, &mut out);
            self.heard.extend_from_slice(&out);
        }
    }

    /// Amplitude at `hz` over the last 0.5 s heard.
    fn amplitude(&self, hz: f64) -> f64 {
        let tail = &self.heard[self.heard.len().saturating_sub(8000)..];
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in tail.iter().enumerate() {
            let w = TAU * hz * i as f64 / f64::from(SAMPLE_RATE);
            re += f64::from(s) * w.cos();
            im += f64::from(s) * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / tail.len().max(1) as f64
    }
}

fn join(room: &mut Room<Ports>, net: &Net, t0: Instant, call: u64, phone: &HdPhone) -> SocketAddr {
    let media = MediaTarget {
        config: LegConfig {
            codec: phone.codec,
            payload_type: phone.pt,
            dtmf_payload_type: None,
            ssrc: 1000 + call as u32,
        },
        remote: Some(phone.socket.addr),
        send: true,
        srtp: None,
    };
    support::room::join(room, net, t0, call, media)
}

#[test]
fn wideband_phones_hear_each_other_in_hd_and_g711_gets_a_clean_narrowband_mix() {
    let net = Net::new();
    let mut room = support::room::quiet_room(Duration::ZERO);
    let t0 = Instant::now();
    let mut phones = [
        HdPhone::new(&net, Codec::Opus, 111, 1, 6000.0),
        HdPhone::new(&net, Codec::G722, 9, 2, 5000.0),
        HdPhone::new(&net, Codec::Pcmu, 0, 3, 1000.0),
    ];
    let addrs: Vec<_> = phones
        .iter()
        .enumerate()
        .map(|(i, p)| join(&mut room, &net, t0, i as u64, p))
        .collect();
    let mut events = vec![];
    for n in 0..80u64 {
        for (p, a) in phones.iter_mut().zip(&addrs) {
            p.send(*a);
        }
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
        for p in &mut phones {
            p.listen();
        }
    }
    let [opus, g722, pcmu] = &phones;
    // Opus hears G.722's 5 kHz and the G.711 phone's 1 kHz; G.722 hears Opus's 6 kHz.
    assert!(
        opus.amplitude(5000.0) > 3000.0,
        "opus hears 5 kHz at {}",
        opus.amplitude(5000.0)
    );
    assert!(
        opus.amplitude(1000.0) > 3000.0,
        "opus hears 1 kHz at {}",
        opus.amplitude(1000.0)
    );
    assert!(
        g722.amplitude(6000.0) > 3000.0,
        "G.722 hears 6 kHz at {}",
        g722.amplitude(6000.0)
    );
    assert!(g722.amplitude(1000.0) > 3000.0);
    // The G.711 phone cannot carry 5–6 kHz: nothing of it arrives, not even folded to
    // 2–3 kHz (8000 − f).
    for hz in [2000.0, 3000.0] {
        assert!(
            pcmu.amplitude(hz) < 150.0,
            "G.711 hears {hz} Hz at {}",
            pcmu.amplitude(hz)
        );
    }
    // Nobody hears itself.
    assert!(opus.amplitude(6000.0) < 150.0);
    assert!(g722.amplitude(5000.0) < 150.0);
    assert!(pcmu.amplitude(1000.0) < 150.0);
}

#[test]
fn silent_listeners_of_one_codec_share_one_encoding() {
    let net = Net::new();
    let mut room = support::room::quiet_room(Duration::ZERO);
    let t0 = Instant::now();
    let mut talker = HdPhone::new(&net, Codec::Opus, 111, 1, 1000.0);
    let mut listeners: Vec<HdPhone> = (0..3)
        .map(|i| HdPhone::new(&net, Codec::Opus, 111, 10 + i, 0.0))
        .collect();
    let talker_addr = join(&mut room, &net, t0, 0, &talker);
    let addrs: Vec<_> = listeners
        .iter()
        .enumerate()
        .map(|(i, p)| join(&mut room, &net, t0, i as u64 + 1, p))
        .collect();
    let mut events = vec![];
    for n in 0..40u64 {
        talker.send(talker_addr);
        let _ = &addrs; // the listeners send nothing: they are silent
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
        talker.listen();
        for p in &mut listeners {
            p.listen();
        }
    }
    // Once the join tones are over (each listener's own mix while it plays), every
    // listener gets the same bytes in every packet: one encoding, three headers.
    let settled = |p: &HdPhone| p.payloads[20..].to_vec();
    let first = settled(&listeners[0]);
    assert!(first.len() >= 18, "{} packets", first.len());
    for other in &listeners[1..] {
        assert!(settled(other) == first, "a listener got its own encoding");
    }
    let mut distinct: HashMap<&[u8], ()> = HashMap::new();
    for p in &first {
        distinct.insert(p, ());
    }
    assert!(distinct.len() > 10, "the mix changes over time");
    for p in &listeners {
        assert!(p.amplitude(1000.0) > 3000.0, "listener hears the talker");
    }
}
