//! Receive-side behaviour of a leg on virtual time: ordering, duplicates, late packets,
//! loss concealment, restarts and wraparound, sending.

mod common;

use common::*;
use konferenz_media::*;
use std::time::Instant;

/// Runs `ticks` ticks delivering the datagrams `plan(n)` returns for tick `n`; returns what
/// was played.
fn run(
    leg: &mut MediaLeg,
    t0: Instant,
    ticks: std::ops::Range<u64>,
    mut plan: impl FnMut(u64) -> Vec<Vec<u8>>,
) -> Vec<(FrameKind, Option<u32>)> {
    let mut played = vec![];
    for n in ticks {
        for d in plan(n) {
            let _ = leg.receive(tick(t0, n), &d);
        }
        played.push(pull(leg, tick(t0, n)));
    }
    played
}

fn audio_tags(played: &[(FrameKind, Option<u32>)]) -> Vec<u32> {
    played.iter().filter_map(|p| p.1).collect()
}

#[test]
fn nothing_received_plays_silence() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let played = run(&mut leg, t0, 0..5, |_| vec![]);
    assert!(played.iter().all(|p| p.0 == FrameKind::Silence));
    assert_eq!(leg.last_received(), None);
}

#[test]
fn reordered_packets_are_played_in_order() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 1000, 0);
    let packets: Vec<_> = (0..40).map(|_| phone.audio()).collect();
    // Swap neighbours within each tick's pair: 1,0 then 3,2 ...
    let played = run(&mut leg, t0, 0..50, |n| {
        if n % 2 == 1 && n < 40 {
            vec![packets[n as usize].clone(), packets[n as usize - 1].clone()]
        } else {
            vec![]
        }
    });
    assert_eq!(audio_tags(&played), (0..40).collect::<Vec<_>>());
    assert_eq!(leg.stats().packets_discarded, 0);
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 7, 0);
    let played = run(&mut leg, t0, 0..20, |_| {
        let p = phone.audio();
        vec![p.clone(), p]
    });
    assert_eq!(audio_tags(&played), (0..19).collect::<Vec<_>>());
    assert_eq!(leg.stats().packets_discarded, 20);
    assert_eq!(leg.stats().packets_received, 40);
}

#[test]
fn late_packets_are_dropped_and_counted() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 7, 0);
    let packets: Vec<_> = (0..30).map(|_| phone.audio()).collect();
    // Packet 10 is held back 5 ticks, long after its turn.
    let played = run(&mut leg, t0, 0..30, |n| {
        let mut v = vec![];
        if n != 10 {
            v.push(packets[n as usize].clone());
        }
        if n == 15 {
            v.push(packets[10].clone());
        }
        v
    });
    let tags = audio_tags(&played);
    assert!(!tags.contains(&10));
    assert!(tags.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(leg.stats().packets_discarded, 1);
    assert!(played.iter().any(|p| p.0 == FrameKind::Concealed));
}

#[test]
fn a_lost_packet_is_concealed_and_a_stopped_stream_fades_to_silence() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 7, 0);
    let played = run(&mut leg, t0, 0..40, |n| {
        let p = phone.audio();
        match n {
            20 => vec![],   // lost
            30.. => vec![], // the phone stops sending
            _ => vec![p],
        }
    });
    let kinds: Vec<_> = played.iter().map(|p| p.0).collect();
    let first_concealed = kinds
        .iter()
        .position(|k| *k == FrameKind::Concealed)
        .unwrap();
    assert_eq!(kinds[first_concealed + 1], FrameKind::Audio, "{kinds:?}");
    let tail = &kinds[kinds.len() - 10..];
    let concealed = tail.iter().filter(|k| **k == FrameKind::Concealed).count();
    assert_eq!(concealed, 3, "{kinds:?}");
    assert_eq!(tail[tail.len() - 1], FrameKind::Silence);
    assert_eq!(
        tail.iter()
            .rposition(|k| *k == FrameKind::Concealed)
            .unwrap()
            + 1,
        tail.iter().position(|k| *k == FrameKind::Silence).unwrap()
    );
}

#[test]
fn ssrc_change_mid_call_resynchronises_within_a_few_frames() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut old = Phone::new(1, 100, 5000);
    let mut new = Phone::new(2, 40000, 123_456_789);
    new.sent = 500;
    let played = run(&mut leg, t0, 0..60, |n| {
        if n < 30 {
            vec![old.audio()]
        } else {
            vec![new.audio()]
        }
    });
    let after: Vec<_> = played[30..].iter().map(|p| p.1).collect();
    let first_new = after
        .iter()
        .position(|t| t.is_some_and(|t| t >= 500))
        .unwrap();
    assert!(first_new <= 4, "{after:?}");
    assert!(
        after[first_new..]
            .iter()
            .all(|t| t.is_some_and(|t| t >= 500)),
        "{after:?}"
    );
}

#[test]
fn a_big_sequence_jump_in_the_same_stream_resynchronises() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 100, 5000);
    let played = run(&mut leg, t0, 0..60, |n| {
        if n == 30 {
            phone.seq = phone.seq.wrapping_add(30000);
            phone.ts = phone.ts.wrapping_add(2_000_000_000);
        }
        vec![phone.audio()]
    });
    assert!(
        played[35..].iter().all(|p| p.0 == FrameKind::Audio),
        "{played:?}"
    );
}

#[test]
fn sequence_numbers_wrap_at_65535_without_a_gap() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 65530, u32::MAX - 800);
    let played = run(&mut leg, t0, 0..30, |_| vec![phone.audio()]);
    let tags = audio_tags(&played);
    assert_eq!(tags, (0..tags.len() as u32).collect::<Vec<_>>());
    assert!(tags.len() >= 28);
    assert_eq!(leg.stats().frames_concealed, 0);
}

#[test]
fn bursty_arrival_plays_without_gaps_after_settling() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 0, 0);
    let ticks = 3000; // one minute
    let played = run(&mut leg, t0, 0..ticks, |n| {
        if n % 2 == 1 {
            vec![phone.audio(), phone.audio()]
        } else {
            vec![]
        }
    });
    let settled = &played[250..];
    assert!(
        settled.iter().all(|p| p.0 == FrameKind::Audio),
        "gaps after settling"
    );
    let tags = audio_tags(settled);
    // The buffer may shed a frame of surplus delay now and then (a skip, not a gap).
    let skips: Vec<_> = tags.windows(2).filter(|w| w[1] != w[0] + 1).collect();
    assert!(
        skips.len() <= 2 && skips.iter().all(|w| w[1] == w[0] + 2),
        "{skips:?}"
    );
    assert!(leg.buffered() <= std::time::Duration::from_millis(80));
}

#[test]
fn comfort_noise_and_unknown_payload_types_do_not_reach_the_audio() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    assert_eq!(
        leg.receive(t0, &rtp(1, 1, 0, 96, false, &[1, 2, 3])),
        Err(MediaError::UnexpectedPayloadType(96))
    );
    assert_eq!(leg.receive(t0, &rtp(1, 1, 0, 13, false, &[40])), Ok(()));
    assert_eq!(leg.stats().malformed, 0);
}

#[test]
fn encoded_frames_carry_a_proper_rtp_header() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    // A steady level: after the 16 → 8 kHz filter has settled, every sample codes to it.
    let frame = [6000i16; FRAME_SAMPLES];
    let mut buf = [0u8; MAX_PACKET];
    let mut headers = vec![];
    for k in 0..3 {
        let n = leg.encode_frame(&frame, &mut buf);
        assert_eq!(n, 172);
        let p = rtp::RtpPacket::parse(&buf[..n]).unwrap();
        assert_eq!(p.ssrc, OUR_SSRC);
        assert_eq!(p.payload_type, 0);
        assert_eq!(buf[0] >> 6, 2);
        if k > 0 {
            assert!(p.payload[40..].iter().all(|&c| c == linear_to_ulaw(6000)));
        }
        headers.push((p.marker, p.sequence, p.timestamp));
    }
    assert!(headers[0].0);
    assert!(!headers[1].0 && !headers[2].0);
    assert_eq!(headers[1].1, headers[0].1.wrapping_add(1));
    assert_eq!(headers[2].2, headers[0].2.wrapping_add(320));
    assert_eq!(leg.stats().packets_sent, 3);
}

/// A tone at `hz` sent by one leg of `codec` and played by another: its amplitude there.
fn through_two_legs(codec: Codec, payload_type: u8, hz: f64) -> f64 {
    let t0 = Instant::now();
    let mut c = config();
    c.codec = codec;
    c.payload_type = payload_type;
    let mut sender = MediaLeg::new(c, t0);
    let mut receiver = MediaLeg::new(c, t0);
    let mut buf = [0u8; MAX_PACKET];
    let mut out = [0i16; FRAME_SAMPLES];
    let mut heard = vec![];
    let mut kinds = vec![];
    for n in 0..25u64 {
        let frame: Frame = std::array::from_fn(|k| {
            let t = (n as usize * FRAME_SAMPLES + k) as f64 / SAMPLE_RATE as f64;
            (8000.0 * (std::f64::consts::TAU * hz * t).sin()) as i16
        });
        let len = sender.encode_frame(&frame, &mut buf);
        receiver.receive(tick(t0, n), &buf[..len]).unwrap();
        kinds.push(receiver.pull_frame(tick(t0, n), &mut out));
        heard.extend_from_slice(&out);
    }
    // Audio, or silence (below the noise gate) where the codec cannot carry the tone.
    assert!(
        kinds[5..].iter().all(|k| *k != FrameKind::Concealed),
        "{codec:?}: {kinds:?}"
    );
    let tail = &heard[heard.len() - 5 * FRAME_SAMPLES..];
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &s) in tail.iter().enumerate() {
        let w = std::f64::consts::TAU * hz * i as f64 / SAMPLE_RATE as f64;
        re += s as f64 * w.cos();
        im += s as f64 * w.sin();
    }
    2.0 * (re * re + im * im).sqrt() / tail.len() as f64
}

#[test]
fn a_leg_decodes_what_another_leg_encoded() {
    for (codec, pt) in [
        (Codec::Pcma, 8),
        (Codec::Pcmu, 0),
        (Codec::G722, 9),
        (Codec::Opus, 111),
    ] {
        let a = through_two_legs(codec, pt, 1000.0);
        assert!((6500.0..9500.0).contains(&a), "{codec:?}: 1 kHz at {a}");
    }
    // HD: 6 kHz passes wideband legs and not narrowband ones.
    for (codec, pt) in [(Codec::G722, 9), (Codec::Opus, 111)] {
        let a = through_two_legs(codec, pt, 6000.0);
        assert!(a > 4000.0, "{codec:?}: 6 kHz at {a}");
    }
    assert!(through_two_legs(Codec::Pcmu, 0, 6000.0) < 300.0);
}

#[test]
fn a_payload_encoded_once_goes_out_under_each_legs_own_header() {
    let t0 = Instant::now();
    let mut c = config();
    c.codec = Codec::Opus;
    c.payload_type = 111;
    let mut a = MediaLeg::new(c, t0);
    c.ssrc = 77;
    let mut b = MediaLeg::new(c, t0);
    let mut enc = Encoder::new(Codec::Opus);
    let mut payload = [0u8; MAX_PAYLOAD];
    let n = enc.encode(&[1000; FRAME_SAMPLES], &mut payload);
    let mut buf = [0u8; MAX_PACKET];
    let mut stamps = vec![];
    for _ in 0..2 {
        let len = a.packetize(&payload[..n], &mut buf);
        let p = rtp::RtpPacket::parse(&buf[..len]).unwrap();
        assert_eq!(
            (p.ssrc, p.payload_type, p.payload),
            (OUR_SSRC, 111, &payload[..n])
        );
        stamps.push(p.timestamp);
        let len = b.packetize(&payload[..n], &mut buf);
        assert_eq!(rtp::RtpPacket::parse(&buf[..len]).unwrap().ssrc, 77);
    }
    // Opus's RTP clock is 48 kHz: 960 per 20 ms.
    assert_eq!(stamps[1], stamps[0].wrapping_add(960));
}

#[test]
fn configured_jitter_bounds_hold_the_target_inside_them() {
    use std::time::Duration;
    let t0 = Instant::now();
    let mut deep = MediaLeg::new(config(), t0);
    deep.set_jitter_bounds(Duration::from_millis(100), Duration::from_millis(200));
    let mut shallow = MediaLeg::new(config(), t0);
    shallow.set_jitter_bounds(Duration::from_millis(20), Duration::from_millis(40));
    let mut phone = Phone::new(1, 7, 0);
    let packets: Vec<_> = (0..400).map(|_| phone.audio()).collect();
    // Bursts of four every fourth tick: 60 ms of jitter, more than `shallow` may absorb.
    let plan = |n: u64| -> Vec<Vec<u8>> {
        if n % 4 == 3 {
            packets[(n - 3) as usize..=(n as usize)].to_vec()
        } else {
            vec![]
        }
    };
    run(&mut deep, t0, 0..400, plan);
    run(&mut shallow, t0, 0..400, plan);
    assert_eq!(deep.jitter_target(), Duration::from_millis(100));
    assert!(
        shallow.jitter_target() <= Duration::from_millis(40),
        "{:?}",
        shallow.jitter_target()
    );
    assert!(shallow.stats().frames_concealed > deep.stats().frames_concealed);
}

/// The delay (ticks between a packet's arrival tick and the tick it is played) of each
/// audio frame played from tick `from` on.
fn delays(played: &[(FrameKind, Option<u32>)], from: usize) -> Vec<i64> {
    played
        .iter()
        .enumerate()
        .skip(from)
        .filter_map(|(n, p)| p.1.map(|tag| n as i64 - i64::from(tag)))
        .collect()
}

#[test]
fn random_loss_is_concealed_without_adding_delay() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 7, 0);
    // 5 % loss, spread pseudo-randomly (a fixed LCG, so the test is repeatable).
    let mut x: u32 = 12345;
    let played = run(&mut leg, t0, 0..3000, |_| {
        let p = phone.audio();
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        if (x >> 16) % 100 < 5 { vec![] } else { vec![p] }
    });
    let concealed = played
        .iter()
        .filter(|p| p.0 == FrameKind::Concealed)
        .count();
    assert!(
        (100..=200).contains(&concealed),
        "about 5 % concealed: {concealed}"
    );
    let early = delays(&played, 50);
    let late = delays(&played, 2500);
    let base = *early.iter().min().unwrap();
    assert!(
        late.iter().all(|&d| d <= base),
        "loss alone must not grow the delay: at first {base} ticks, at the end {:?}",
        late.iter().max()
    );
}

/// Median delay over the last 1000 ticks of a 3000-tick run where each packet is delivered
/// one tick late with probability `late_pct` % and lost with probability `loss_pct` %.
fn median_delay(late_pct: u32, loss_pct: u32) -> i64 {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(1, 7, 0);
    let mut x: u32 = 777;
    let mut held: Vec<Vec<u8>> = Vec::new();
    let played = run(&mut leg, t0, 0..3000, |_| {
        let mut out = std::mem::take(&mut held);
        let p = phone.audio();
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let r = (x >> 16) % 100;
        if r < loss_pct {
            // lost
        } else if r < loss_pct + late_pct {
            held.push(p);
        } else {
            out.push(p);
        }
        out
    });
    let mut d = delays(&played, 2000);
    d.sort_unstable();
    d[d.len() / 2]
}

#[test]
fn loss_on_a_jittery_stream_adds_no_delay_beyond_the_jitter() {
    let jitter_only = median_delay(20, 0);
    let with_loss = median_delay(20, 5);
    assert!(
        with_loss <= jitter_only,
        "median delay {jitter_only} ticks with jitter, {with_loss} with jitter and 5 % loss"
    );
}

#[test]
fn a_payload_too_long_for_the_codec_is_discarded_not_cut() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    // 161 bytes of G.711 is more than 20 ms: kept it would be cut and misplayed.
    assert_eq!(
        leg.receive(t0, &rtp(1, 1, 0, 0, true, &[0x80; 161])),
        Ok(())
    );
    assert_eq!(leg.stats().packets_discarded, 1);
    let mut out = [0i16; FRAME_SAMPLES];
    for n in 1..4 {
        assert_ne!(leg.pull_frame(tick(t0, n), &mut out), FrameKind::Audio);
    }
}
