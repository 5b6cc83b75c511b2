//! The 20 ms path allocates nothing: receive, pull_frame, mix, encode_frame, poll_rtcp and
//! poll_dtmf are counted by a global allocator on this thread after warm-up.

mod common;
mod counting;

use common::*;
use konferenz_media::*;
use std::time::Instant;

use counting::allocations;

#[test]
fn the_tick_path_does_not_allocate() {
    let t0 = Instant::now();
    let n = 5;
    let mut legs: Vec<MediaLeg> = (0..n).map(|_| MediaLeg::new(config(), t0)).collect();
    let mut phones: Vec<Phone> = (0..n).map(|i| Phone::new(i as u32 + 10, 0, 0)).collect();
    let packets: Vec<Vec<Vec<u8>>> = phones
        .iter_mut()
        .map(|p| (0..2000).map(|_| p.audio()).collect())
        .collect();
    let dtmf: Vec<u8> = rtp(10, 5000, 0, PT_DTMF, false, &[1, 0x80, 0, 160]);
    let mut mixer = Mixer::with_capacity(n);
    let mut inputs = vec![[0i16; FRAME_SAMPLES]; n];
    let mut outputs = vec![[0i16; FRAME_SAMPLES]; n];
    let mut talking = vec![false; n];
    let mut buf = [0u8; MAX_PACKET];
    let mut tick_once = |k: usize, legs: &mut Vec<MediaLeg>| {
        let now = tick(t0, k as u64);
        for (i, leg) in legs.iter_mut().enumerate() {
            if k % 7 != 3 {
                let _ = leg.receive(now, &packets[i][k]);
            }
            let _ = leg.receive(now, &dtmf);
            talking[i] = leg.pull_frame(now, &mut inputs[i]) != FrameKind::Silence;
        }
        mixer.mix(&inputs, &talking, &mut outputs);
        for (leg, frame) in legs.iter_mut().zip(&outputs) {
            leg.encode_frame(frame, &mut buf);
            let _ = leg.poll_rtcp(now, &mut buf);
            while leg.poll_dtmf().is_some() {}
        }
    };
    for k in 0..100 {
        tick_once(k, &mut legs);
    }
    let n = allocations(|| {
        for k in 100..2000 {
            tick_once(k, &mut legs);
        }
    });
    assert_eq!(n, 0);
}

/// G.722 and Opus on the 20 ms path: decoding allocates nothing, G.722 encoding and
/// concealment nothing; opus-pure's encoder makes a few small allocations per frame and its
/// concealment per lost frame (the known exception, bounded here so it cannot grow
/// unnoticed).
#[test]
fn hd_codecs_allocate_nothing_but_a_few_buffers_in_the_opus_encoder() {
    let frames: Vec<Frame> = (0..60)
        .map(|k| {
            std::array::from_fn(|i| {
                let t = (k * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
                (6000.0 * (std::f64::consts::TAU * 440.0 * t).sin()) as i16
            })
        })
        .collect();
    for codec in [Codec::G722, Codec::Opus] {
        let mut encoder = Encoder::new(codec);
        let mut decoder = Decoder::new(codec);
        let mut payload = [0u8; MAX_PAYLOAD];
        let mut out = [0i16; FRAME_SAMPLES];
        for f in &frames[..10] {
            let n = encoder.encode(f, &mut payload);
            decoder.decode(&payload[..n], &mut out);
        }
        let mut lens = Vec::with_capacity(64);
        let encoding = allocations(|| {
            for f in &frames[10..] {
                lens.push(encoder.encode(f, &mut payload));
            }
        });
        let decoding = allocations(|| {
            for _ in 0..50 {
                decoder.decode(&payload[..lens[0]], &mut out);
            }
        });
        let concealing = allocations(|| {
            for _ in 0..50 {
                decoder.decode(&payload[..lens[1]], &mut out);
                decoder.conceal(&mut out);
            }
        });
        eprintln!(
            "{codec:?}: {encoding} allocations in 50 encoded frames, {decoding} in 50 decoded, {concealing} in 50 decoded + 50 concealed"
        );
        assert_eq!(decoding, 0, "{codec:?} decoding");
        match codec {
            // opus-pure: 3 small buffers per encoded frame, about 4 per concealed one
            // (concealment runs only for lost packets).
            Codec::Opus => {
                assert!(encoding <= 50 * 4, "{codec:?}: {encoding} allocations");
                assert!(concealing <= 50 * 5, "{codec:?}: {concealing} allocations");
            }
            _ => {
                assert_eq!(encoding, 0, "{codec:?} encoding");
                assert_eq!(concealing, 0, "{codec:?} concealment");
            }
        }
    }
}
