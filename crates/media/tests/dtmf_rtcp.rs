//! RFC 4733 digits through a whole leg, and the RTCP reports it sends and reads.

mod common;

use common::*;
use konferenz_media::*;
use std::time::{Duration, Instant};

#[test]
fn digits_1234_hash_are_decoded_once_each_despite_triplicated_end_packets() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(9, 500, 8000);
    let mut n = 0;
    let mut played = vec![];
    let mut step = |leg: &mut MediaLeg, datagrams: Vec<Vec<u8>>| {
        for d in datagrams {
            leg.receive(tick(t0, n), &d).unwrap();
        }
        played.push(pull(leg, tick(t0, n)).0);
        n += 1;
    };
    for _ in 0..5 {
        let p = phone.audio();
        step(&mut leg, vec![p]);
    }
    for event in [1u8, 2, 3, 4, 11] {
        let ts = phone.ts;
        for k in 1..=4u16 {
            let p = phone.dtmf(ts, event, false, 160 * k);
            step(&mut leg, vec![p]);
        }
        let ends: Vec<_> = (0..3).map(|_| phone.dtmf(ts, event, true, 800)).collect();
        step(&mut leg, ends);
        phone.ts = phone.ts.wrapping_add(800);
        for _ in 0..3 {
            let p = phone.audio();
            step(&mut leg, vec![p]);
        }
    }
    let digits: String = std::iter::from_fn(|| leg.poll_dtmf())
        .map(|d| d.digit)
        .collect();
    assert_eq!(digits, "1234#");
    assert_eq!(leg.poll_dtmf(), None);
    // Telephone-events take their place in the stream as silence, never as audio.
    assert!(!played.contains(&FrameKind::Concealed), "{played:?}");
    assert!(played.iter().filter(|k| **k == FrameKind::Silence).count() >= 5 * 5);
}

#[test]
fn a_digit_is_reported_with_its_duration() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(9, 500, 8000);
    leg.receive(t0, &phone.dtmf(8000, 10, false, 160)).unwrap();
    leg.receive(t0, &phone.dtmf(8000, 10, true, 1600)).unwrap();
    assert_eq!(
        leg.poll_dtmf(),
        Some(DtmfDigit {
            digit: '*',
            duration: Duration::from_millis(200)
        })
    );
}

fn parse_with_rtcp_types(report: &[u8]) -> (Option<u32>, Vec<(u32, u32, u32)>) {
    use rtcp_types::{Compound, Packet};
    let mut sender_packets = None;
    let mut blocks = vec![];
    let mut saw_sdes = false;
    for packet in Compound::parse(report).expect("valid compound RTCP") {
        match packet.expect("valid RTCP packet") {
            Packet::Sr(sr) => {
                assert_eq!(sr.ssrc(), OUR_SSRC);
                sender_packets = Some(sr.packet_count());
                blocks.extend(
                    sr.report_blocks()
                        .map(|b| (b.ssrc(), b.extended_sequence_number(), b.cumulative_lost())),
                );
            }
            Packet::Rr(rr) => {
                assert_eq!(rr.ssrc(), OUR_SSRC);
                blocks.extend(
                    rr.report_blocks()
                        .map(|b| (b.ssrc(), b.extended_sequence_number(), b.cumulative_lost())),
                );
            }
            Packet::Sdes(sdes) => {
                let chunk = sdes.chunks().next().unwrap();
                let item = chunk.items().next().unwrap();
                assert_eq!(item.type_(), 1);
                assert_eq!(item.value(), b"kz-0badcafe");
                saw_sdes = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_sdes);
    (sender_packets, blocks)
}

#[test]
fn receiver_report_until_we_send_then_sender_report_both_readable_by_rtcp_types() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(0x5151, 65500, 0);
    let mut buf = [0u8; MAX_PACKET];
    let mut reports = vec![];
    let mut frame = [0i16; FRAME_SAMPLES];
    for n in 0..1500u64 {
        // Every tenth packet is lost.
        let p = phone.audio();
        if n % 10 != 3 {
            leg.receive(tick(t0, n), &p).unwrap();
        }
        leg.pull_frame(tick(t0, n), &mut frame);
        if n >= 750 {
            leg.encode_frame(&frame, &mut buf);
        }
        if let Some(len) = leg.poll_rtcp(tick(t0, n), &mut buf) {
            reports.push((n, buf[..len].to_vec()));
        }
    }
    // 30 s at 5 s × [0.5, 1.5): between 4 and 24 reports; the first after half an interval.
    assert!(
        (4..=24).contains(&reports.len()),
        "{} reports",
        reports.len()
    );
    assert!((62..=188).contains(&reports[0].0));
    for w in reports.windows(2) {
        assert!(
            (125..=375).contains(&(w[1].0 - w[0].0)),
            "interval {}",
            w[1].0 - w[0].0
        );
    }
    let (first_n, first) = &reports[0];
    let (sender, blocks) = parse_with_rtcp_types(first);
    assert_eq!(sender, None, "RR before we sent");
    let (ssrc, ext_seq, lost) = blocks[0];
    assert_eq!(ssrc, 0x5151);
    assert_eq!(ext_seq, (65500 + first_n) as u32);
    assert_eq!(lost as u64, (first_n + 7) / 10);
    let (last_n, last) = reports.last().unwrap();
    let (sender, blocks) = parse_with_rtcp_types(last);
    assert_eq!(sender, Some((last_n - 750 + 1) as u32));
    assert_eq!(blocks.len(), 1);
    // Our own parser agrees.
    let ours = rtcp::parse_compound(last, 0x5151).unwrap();
    assert_eq!(ours.sender_ssrc, OUR_SSRC);
    assert_eq!(
        ours.report_on_us.unwrap().extended_highest_seq,
        (65500 + last_n) as u32
    );
}

#[test]
fn a_received_sender_report_is_echoed_as_lsr_and_dlsr() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    let mut phone = Phone::new(0x5151, 1, 0);
    leg.receive(t0, &phone.audio()).unwrap();
    let mut sr = [0u8; MAX_PACKET];
    let info = rtcp::SenderInfo {
        ntp: 0x0001_0002_0003_0004,
        rtp_timestamp: 0,
        packet_count: 1,
        octet_count: 160,
    };
    let len = rtcp::write_report(&mut sr, 0x5151, Some(info), None, b"phone");
    leg.receive(t0, &sr[..len]).unwrap();
    let mut buf = [0u8; MAX_PACKET];
    let later = t0 + Duration::from_secs(10);
    let len = leg.poll_rtcp(later, &mut buf).unwrap();
    let block = rtcp::parse_compound(&buf[..len], 0x5151)
        .unwrap()
        .report_on_us
        .unwrap();
    assert_eq!(block.last_sr, 0x0002_0003);
    assert_eq!(block.delay_since_last_sr, 10 * 65536);
    assert_eq!(leg.last_received(), Some(t0));
}

#[test]
fn malformed_rtcp_is_counted_and_not_fatal() {
    let t0 = Instant::now();
    let mut leg = MediaLeg::new(config(), t0);
    for bad in [
        &[0x80u8, 200][..],
        &[0x80, 201, 0, 9, 0, 0, 0, 1],
        &[0x81, 202, 0, 0],
        &[0x81, 201, 0, 1, 0, 0, 0, 1],
    ] {
        assert_eq!(leg.receive(t0, bad), Err(MediaError::Malformed));
    }
    assert_eq!(leg.stats().malformed, 4);
}
