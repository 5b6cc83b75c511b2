//! Hostile datagrams: every malformed shape is an `Err`, none panics, and the leg keeps working.

mod common;

use common::*;
use konferenz_media::*;
use std::time::Instant;

#[test]
fn malformed_rtp_shapes_are_rejected_and_counted() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let good = rtp(1, 1, 0, 0, false, &[0xFF; 160]);
    let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0x80], good[..11].to_vec()];
    let mut version1 = good.clone();
    version1[0] = 0x40;
    cases.push(version1);
    let mut csrcs_beyond = good[..20].to_vec();
    csrcs_beyond[0] = 0x80 | 15;
    cases.push(csrcs_beyond);
    let mut ext_beyond = good.clone();
    ext_beyond[0] = 0x90;
    ext_beyond[14..16].copy_from_slice(&200u16.to_be_bytes());
    cases.push(ext_beyond);
    let mut pad_zero = good.clone();
    pad_zero[0] = 0xA0;
    *pad_zero.last_mut().unwrap() = 0;
    cases.push(pad_zero);
    let mut pad_beyond = good.clone();
    pad_beyond[0] = 0xA0;
    *pad_beyond.last_mut().unwrap() = 200;
    cases.push(pad_beyond);
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(leg.receive(t0, c), Err(MediaError::Malformed), "case {i}");
    }
    assert_eq!(leg.stats().malformed, cases.len() as u64);
    assert_eq!(leg.last_received(), None);
    assert_eq!(leg.receive(t0, &good), Ok(()));
}

#[test]
fn random_bytes_never_panic() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut rng = Lcg(7);
    let mut frame = [0i16; FRAME_SAMPLES];
    let mut buf = [0u8; MAX_PACKET];
    for n in 0..50_000u64 {
        let len = rng.next() as usize % 200;
        let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Make about half of them look like RTP or RTCP so the deeper paths run too.
        if len > 1 && n % 2 == 0 {
            d[0] = 0x80 | (d[0] & 0x3F);
            if n % 4 == 0 {
                d[1] = 200 + d[1] % 8;
            } else {
                d[1] = [0, 101, 13, 0x80][d[1] as usize % 4];
            }
        }
        let _ = leg.receive(tick(t0, n / 3), &d);
        if n % 3 == 0 {
            leg.pull_frame(tick(t0, n / 3), &mut frame);
            leg.encode_frame(&frame, &mut buf);
            let _ = leg.poll_rtcp(tick(t0, n / 3), &mut buf);
            while leg.poll_dtmf().is_some() {}
        }
    }
    assert!(leg.stats().malformed > 1000);
}

#[test]
fn the_fuzz_entry_point_survives_random_input() {
    let mut rng = Lcg(99);
    for _ in 0..500 {
        let len = rng.next() as usize % 2000;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        fuzz_receive(&data, Instant::now());
    }
    // A well-formed record stream: one packet per tick.
    let mut data = vec![];
    let mut phone = Phone::new(3, 1, 0);
    for _ in 0..100 {
        let p = phone.audio();
        data.extend_from_slice(&[1, 172]);
        data.extend_from_slice(&p[..172]);
    }
    fuzz_receive(&data, Instant::now());
}
