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
