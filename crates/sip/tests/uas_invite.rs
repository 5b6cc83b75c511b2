//! Scenario tests of answering INVITEs, with virtual time: offer/answer, the 2xx
//! retransmitted until the ACK (RFC 3261 §13.3.1.4), lost ACKs, offerless INVITEs, 488.

mod support;

use konferenz_sip::{Direction, EndReason, Event};
use support::{Harness, Req, ms, offer, pcmu_offer};

fn invite(h: &mut Harness) -> konferenz_sip::CallHandle {
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    h.incoming()
}

fn ack(h: &mut Harness, tag: &str, cseq: u32, body: &str) {
    h.udp(
        &Req {
            method: "ACK",
            branch: "z9hG4bK-ack",
            to_tag: Some(tag),
            cseq,
            body,
            ..Default::default()
        }
        .text(),
    );
}

#[test]
fn offer_is_announced_with_negotiated_media() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    match &h.events[..] {
        [
            Event::IncomingCall {
                room,
                media: Some(media),
                ..
            },
        ] => {
            assert_eq!(room, "800");
            assert_eq!(media.codec.name, "PCMU");
            assert_eq!(media.payload_type, 0);
            assert_eq!(media.dtmf_payload_type, Some(101));
            assert_eq!(media.remote_rtp, Some("127.0.0.1:40000".parse().unwrap()));
            assert_eq!(media.remote_direction, Direction::SendRecv);
        }
        other => panic!("unexpected events {other:?}"),
    }
    assert!(
        h.sent.is_empty(),
        "nothing is sent before the application answers"
    );
}

#[test]
fn slow_application_gets_100_trying_sent_for_it() {
    let mut h = Harness::new();
    invite(&mut h);
    h.advance(ms(250));
    assert_eq!(h.statuses(), vec![100]);
}

#[test]
fn accepted_call_gets_200_with_sdp_answer_and_ack_establishes_it() {
    let mut h = Harness::new();
    let call = invite(&mut h);
    h.accept(call);
    assert_eq!(h.statuses(), vec![200]);
    let answer = h.body_of_last();
    assert!(answer.contains("m=audio 20000 RTP/AVP 0 101"), "{answer}");
    assert!(
        answer.contains("a=rtpmap:101 telephone-event/8000"),
        "{answer}"
    );
    assert!(answer.contains("a=sendrecv"), "{answer}");
    let tag = h.to_tag();
    ack(&mut h, &tag, 1, "");
    assert!(h.events.contains(&Event::Established { call }));
    h.advance(ms(40_000));
    assert_eq!(h.statuses(), vec![200], "no retransmission after the ACK");
    assert_eq!(h.endpoint.call_count(), 1);
}

#[test]
fn lost_ack_makes_the_200_retransmit_doubling_up_to_t2() {
    let mut h = Harness::new();
    let call = invite(&mut h);
    let t0 = h.now;
    h.accept(call);
    h.advance(ms(12_000));
    let times: Vec<u128> = h
        .responses()
        .iter()
        .map(|(at, _)| at.duration_since(t0).as_millis())
        .collect();
    // 0, T1, 3·T1, 7·T1, then every T2 (4 s): 0, 500, 1500, 3500, 7500, 11500.
    assert_eq!(times, vec![0, 500, 1500, 3500, 7500, 11500]);
    let tag = h.to_tag();
    ack(&mut h, &tag, 1, "");
    let before = h.sent.len();
    h.advance(ms(20_000));
    assert_eq!(
        h.sent.len(),
        before,
        "the late ACK stopped the retransmissions"
    );
    assert!(h.events.contains(&Event::Established { call }));
}

#[test]
fn no_ack_within_64_t1_ends_the_call_with_bye() {
    let mut h = Harness::new();
    let call = invite(&mut h);
    h.accept(call);
    h.advance(ms(32_100));
    assert!(h.events.contains(&Event::Ended {
        call,
        reason: EndReason::AckTimeout
    }));
    let requests = h.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0]
            .1
            .starts_with("BYE sip:alice@127.0.0.1:5070 SIP/2.0"),
        "{}",
        requests[0].1
    );
}

#[test]
fn retransmitted_invite_is_absorbed_not_announced_twice() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    let text = Req {
        body: &body,
        ..Default::default()
    }
    .text();
    h.udp(&text);
    h.udp(&text);
    h.advance(ms(300));
    h.udp(&text);
    h.incoming();
    // The retransmission after 100 Trying is answered with the 100 again.
    assert_eq!(h.statuses(), vec![100, 100]);
}

#[test]
fn offerless_invite_gets_our_offer_and_the_ack_carries_the_answer() {
    let mut h = Harness::new();
    h.udp(&Req::default().text());
    let call = h.incoming();
    assert!(matches!(
        h.events[0],
        Event::IncomingCall { media: None, .. }
    ));
    h.accept(call);
    let our_offer = h.body_of_last();
    assert!(our_offer.contains("RTP/AVP 0 8 101"), "{our_offer}");
    let tag = h.to_tag();
    let answer = offer(
        "8 101",
        &["8 PCMA/8000", "101 telephone-event/8000"],
        "sendrecv",
    );
    ack(&mut h, &tag, 1, &answer);
    let media = h.events.iter().find_map(|e| match e {
        Event::MediaChanged { media, .. } => Some(media.clone()),
        _ => None,
    });
    assert_eq!(media.expect("media from the ACK").codec.name, "PCMA");
    assert!(h.events.contains(&Event::Established { call }));
}

#[test]
fn offerless_invite_with_answerless_ack_is_hung_up() {
    let mut h = Harness::new();
    h.udp(&Req::default().text());
    let call = h.incoming();
    h.accept(call);
    let tag = h.to_tag();
    ack(&mut h, &tag, 1, "");
    assert!(h.events.contains(&Event::Ended {
        call,
        reason: EndReason::BadAnswer
    }));
    assert!(h.requests()[0].1.starts_with("BYE "));
}

#[test]
fn only_unsupported_codecs_get_488_naming_what_we_accept() {
    let mut h = Harness::new();
    let body = offer("18 9", &["18 G729/8000", "9 G722/8000"], "sendrecv");
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    assert!(h.events.is_empty());
    assert_eq!(h.statuses(), vec![488]);
    let (_, r) = h.responses().pop().unwrap();
    let warning = r.headers.value(&sipx_sip::HeaderName::Warning).unwrap();
    let warning = String::from_utf8_lossy(&warning);
    assert!(
        warning.starts_with("305 ") && warning.contains("PCMU, PCMA"),
        "{warning}"
    );
    let sdp = String::from_utf8_lossy(r.body());
    assert!(
        sdp.contains("a=rtpmap:0 PCMU/8000") && sdp.contains("a=rtpmap:8 PCMA/8000"),
        "{sdp}"
    );
}

#[test]
fn non_sdp_body_gets_415_and_broken_sdp_400() {
    let mut h = Harness::new();
    let text = Req {
        body: "hello",
        ..Default::default()
    }
    .text()
    .replace("application/sdp", "text/plain");
    h.udp(&text);
    let mut h2 = Harness::new();
    h2.udp(
        &Req {
            body: "this is not sdp",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![415]);
    assert_eq!(h2.statuses(), vec![400]);
}

#[test]
fn required_extension_we_lack_gets_420() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            extra: "Require: 100rel\r\n",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![420]);
    let (_, r) = h.responses().pop().unwrap();
    assert_eq!(
        &*r.headers.value(&sipx_sip::HeaderName::Unsupported).unwrap(),
        b"100rel"
    );
}

#[test]
fn rejected_invite_retransmits_until_ack_and_timer_h_ends_it() {
    let mut h = Harness::new();
    let call = invite(&mut h);
    let t0 = h.now;
    h.endpoint.reject(h.now, call, 404).unwrap();
    h.drain();
    assert!(h.events.contains(&Event::Ended {
        call,
        reason: EndReason::Rejected(404)
    }));
    h.advance(ms(40_000));
    let times: Vec<u128> = h
        .responses()
        .iter()
        .map(|(at, _)| at.duration_since(t0).as_millis())
        .collect();
    // Timer G: 0, 0.5, 1.5, 3.5, 7.5, then every T2 until Timer H (64·T1 = 32 s).
    assert_eq!(&times[..5], &[0, 500, 1500, 3500, 7500]);
    assert!(times.iter().all(|t| *t < 32_000), "{times:?}");
    assert_eq!(
        h.endpoint.transaction_count(),
        (0, 0),
        "Timer H ended the transaction"
    );
    assert_eq!(h.endpoint.timer_count(), 0);
}

#[test]
fn ack_for_a_rejection_stops_its_retransmission() {
    let mut h = Harness::new();
    let call = invite(&mut h);
    h.endpoint.reject(h.now, call, 486).unwrap();
    h.drain();
    let tag = h.to_tag();
    // The ACK for a non-2xx reuses the INVITE's branch (§17.1.1.3).
    h.udp(
        &Req {
            method: "ACK",
            branch: "z9hG4bK-1",
            to_tag: Some(&tag),
            ..Default::default()
        }
        .text(),
    );
    h.advance(ms(40_000));
    assert_eq!(h.statuses(), vec![486]);
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
}

#[test]
fn tcp_calls_are_not_retransmitted() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.tcp(
        &Req {
            body: &body,
            transport: "TCP",
            ..Default::default()
        }
        .text(),
    );
    let call = h.incoming();
    h.accept(call);
    h.advance(ms(10_000));
    assert_eq!(h.statuses(), vec![200]);
    assert!(
        h.sent
            .iter()
            .all(|(_, t)| t.transport == konferenz_sip::Transport::Tcp)
    );
    let (_, r) = h.responses().pop().unwrap();
    let contact = r.headers.value(&sipx_sip::HeaderName::Contact).unwrap();
    assert!(String::from_utf8_lossy(&contact).contains("transport=tcp"));
}

#[test]
fn merged_request_by_another_path_gets_482() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    // The same request (Call-ID, From tag, CSeq) with another branch: it forked upstream.
    h.udp(
        &Req {
            body: &body,
            branch: "z9hG4bK-other-path",
            ..Default::default()
        }
        .text(),
    );
    h.incoming();
    assert_eq!(h.statuses(), vec![482]);
}
