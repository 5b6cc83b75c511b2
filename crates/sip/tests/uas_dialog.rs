//! Scenario tests of an established call with virtual time: CANCEL (also racing the 200),
//! BYE both ways with Timer E/F, re-INVITE and UPDATE for hold/resume and codec changes.

mod support;

use konferenz_sip::{CallHandle, Direction, EndReason, Event};
use support::{Harness, Req, ms, offer, pcmu_offer};

/// An accepted, ACKed call; returns its handle and our To tag.
fn established(h: &mut Harness) -> (CallHandle, String) {
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    let call = h.incoming();
    h.accept(call);
    let tag = h.to_tag();
    h.udp(
        &Req {
            method: "ACK",
            branch: "z9hG4bK-ack",
            to_tag: Some(&tag),
            ..Default::default()
        }
        .text(),
    );
    (call, tag)
}

fn last_media(h: &Harness) -> konferenz_sip::NegotiatedMedia {
    h.events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::MediaChanged { media, .. } => Some(media.clone()),
            _ => None,
        })
        .expect("a MediaChanged event")
}

#[test]
fn cancel_before_answer_sends_487_and_ends_the_call() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    let call = h.incoming();
    h.udp(
        &Req {
            method: "CANCEL",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![200, 487]);
    assert!(h.events.contains(&Event::Ended {
        call,
        reason: EndReason::Cancelled
    }));
    assert!(
        h.endpoint
            .accept(
                h.now,
                call,
                konferenz_sip::LocalMedia::plain("127.0.0.1:20000".parse().unwrap())
            )
            .is_err()
    );
    let tag = h.to_tag();
    h.udp(
        &Req {
            method: "ACK",
            to_tag: Some(&tag),
            ..Default::default()
        }
        .text(),
    );
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
    assert_eq!(h.endpoint.call_count(), 0);
}

#[test]
fn cancel_racing_our_200_is_answered_but_changes_nothing() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    let call = h.incoming();
    h.accept(call);
    h.udp(
        &Req {
            method: "CANCEL",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![200, 200]);
    assert!(!h.events.iter().any(|e| matches!(e, Event::Ended { .. })));
    assert_eq!(h.endpoint.call_count(), 1);
}

#[test]
fn cancel_for_no_transaction_gets_481() {
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "CANCEL",
            branch: "z9hG4bK-nothing",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![481]);
}

#[test]
fn bye_from_the_caller_ends_the_call_and_retransmissions_are_absorbed() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    let bye = Req {
        method: "BYE",
        branch: "z9hG4bK-bye",
        cseq: 2,
        to_tag: Some(&tag),
        ..Default::default()
    }
    .text();
    h.udp(&bye);
    h.udp(&bye);
    assert_eq!(h.statuses(), vec![200, 200, 200]);
    let ended: Vec<_> = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::Ended { .. }))
        .collect();
    assert_eq!(
        ended,
        vec![&Event::Ended {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.call_count(), 0);
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
    assert_eq!(h.endpoint.timer_count(), 0);
}

#[test]
fn bye_for_an_unknown_dialog_gets_481() {
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "BYE",
            to_tag: Some("nope"),
            cseq: 2,
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![481]);
}

#[test]
fn our_bye_retransmits_on_timer_e_and_timer_f_gives_up() {
    let mut h = Harness::new();
    let (call, _) = established(&mut h);
    let t0 = h.now;
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    assert!(h.events.contains(&Event::Ended {
        call,
        reason: EndReason::LocalHangup
    }));
    h.advance(ms(40_000));
    let times: Vec<u128> = h
        .requests()
        .iter()
        .map(|(at, _)| at.duration_since(t0).as_millis())
        .collect();
    // Timer E: 0, 0.5, 1.5, 3.5, 7.5, then every T2; Timer F ends it at 64·T1 = 32 s.
    assert_eq!(&times[..5], &[0, 500, 1500, 3500, 7500]);
    assert!(times.iter().all(|t| *t < 32_000), "{times:?}");
    let bye = &h.requests()[0].1;
    assert!(
        bye.starts_with("BYE sip:alice@127.0.0.1:5070 SIP/2.0\r\n"),
        "{bye}"
    );
    assert!(bye.contains("CSeq: ") && bye.contains(" BYE\r\n"), "{bye}");
    assert!(
        bye.contains("To: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=ph1"),
        "{bye}"
    );
    assert_eq!(
        h.endpoint.call_count(),
        0,
        "Timer F ended the BYE transaction and the call"
    );
    assert_eq!(h.endpoint.timer_count(), 0);
}

#[test]
fn our_bye_answered_with_200_forgets_the_call() {
    let mut h = Harness::new();
    let (call, _) = established(&mut h);
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    let bye = h.requests()[0].1.clone();
    let branch = bye
        .split("branch=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cseq = bye
        .split("CSeq: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let tag = bye
        .split("From: ")
        .nth(1)
        .unwrap()
        .split(";tag=")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap()
        .to_owned();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch};rport\r\nFrom: <sip:800@127.0.0.1:5060>;tag={tag}\r\nTo: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=ph1\r\nCall-ID: call-1@phone\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n"
    );
    h.udp(&ok);
    assert_eq!(
        h.endpoint.call_count(),
        0,
        "the final answer ends the dialog at once"
    );
    // 40 s: past Timer L of the INVITE transaction (RFC 6026) and Timer K of the BYE.
    h.advance(ms(40_000));
    assert_eq!(h.requests().len(), 1, "no retransmission after the 200");
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
}

#[test]
fn reinvite_puts_the_call_on_hold_and_resumes_it() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    let hold = offer(
        "0 101",
        &["0 PCMU/8000", "101 telephone-event/8000"],
        "sendonly",
    );
    h.udp(
        &Req {
            branch: "z9hG4bK-hold",
            cseq: 2,
            to_tag: Some(&tag),
            body: &hold,
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(last_media(&h).remote_direction, Direction::SendOnly);
    assert!(
        h.body_of_last().contains("a=recvonly"),
        "{}",
        h.body_of_last()
    );
    h.udp(
        &Req {
            method: "ACK",
            branch: "z9hG4bK-ack2",
            cseq: 2,
            to_tag: Some(&tag),
            ..Default::default()
        }
        .text(),
    );
    let resume = pcmu_offer();
    h.udp(
        &Req {
            branch: "z9hG4bK-resume",
            cseq: 3,
            to_tag: Some(&tag),
            body: &resume,
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(last_media(&h).remote_direction, Direction::SendRecv);
    assert!(h.body_of_last().contains("a=sendrecv"));
    assert!(
        h.body_of_last().contains("o=konferenz "),
        "origin kept, version bumped"
    );
    assert!(h.events.iter().all(|e| !matches!(e, Event::Ended { .. })));
    assert_eq!(h.endpoint.call_count(), 1);
    let _ = call;
}

#[test]
fn reinvite_changes_the_codec() {
    let mut h = Harness::new();
    let (_, tag) = established(&mut h);
    let pcma = offer("8", &["8 PCMA/8000"], "sendrecv");
    h.udp(
        &Req {
            branch: "z9hG4bK-re",
            cseq: 2,
            to_tag: Some(&tag),
            body: &pcma,
            ..Default::default()
        }
        .text(),
    );
    let media = last_media(&h);
    assert_eq!(
        (
            media.codec.name,
            media.payload_type,
            media.dtmf_payload_type
        ),
        ("PCMA", 8, None)
    );
}

#[test]
fn reinvite_with_an_old_cseq_gets_500_and_with_bad_codecs_488_keeping_the_call() {
    let mut h = Harness::new();
    let (_, tag) = established(&mut h);
    let body = pcmu_offer();
    h.udp(
        &Req {
            branch: "z9hG4bK-old",
            cseq: 1,
            to_tag: Some(&tag),
            body: &body,
            ..Default::default()
        }
        .text(),
    );
    let g729 = offer("18", &["18 G729/8000"], "sendrecv");
    h.udp(
        &Req {
            branch: "z9hG4bK-g729",
            cseq: 5,
            to_tag: Some(&tag),
            body: &g729,
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![200, 500, 488]);
    assert_eq!(h.endpoint.call_count(), 1);
}

#[test]
fn update_renegotiates_media() {
    let mut h = Harness::new();
    let (_, tag) = established(&mut h);
    let inactive = offer("0", &["0 PCMU/8000"], "inactive");
    h.udp(
        &Req {
            method: "UPDATE",
            branch: "z9hG4bK-up",
            cseq: 2,
            to_tag: Some(&tag),
            body: &inactive,
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(*h.statuses().last().unwrap(), 200);
    assert!(h.body_of_last().contains("a=inactive"));
    assert_eq!(last_media(&h).remote_direction, Direction::Inactive);
}

#[test]
fn hangup_all_sends_bye_to_every_call() {
    let mut h = Harness::new();
    established(&mut h);
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            call_id: "call-2@phone",
            branch: "z9hG4bK-2",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.endpoint.hangup_all(h.now), 2);
    h.drain();
    let requests = h.requests();
    assert!(requests[0].1.starts_with("BYE "));
    assert_eq!(
        h.statuses().last(),
        Some(&480),
        "the unanswered call is rejected"
    );
}

#[test]
fn dtmf_in_info_becomes_an_event_and_other_bodies_get_415() {
    let mut h = Harness::new();
    let (call, tag) = established(&mut h);
    let relay = Req {
        method: "INFO",
        branch: "z9hG4bK-i1",
        cseq: 2,
        to_tag: Some(&tag),
        body: "Signal=4\r\nDuration=160\r\n",
        ..Default::default()
    }
    .text()
    .replace("application/sdp", "application/dtmf-relay");
    h.udp(&relay);
    let bare = Req {
        method: "INFO",
        branch: "z9hG4bK-i2",
        cseq: 3,
        to_tag: Some(&tag),
        body: "#",
        ..Default::default()
    }
    .text()
    .replace("application/sdp", "application/dtmf");
    h.udp(&bare);
    let other = Req {
        method: "INFO",
        branch: "z9hG4bK-i3",
        cseq: 4,
        to_tag: Some(&tag),
        body: "<xml/>",
        ..Default::default()
    }
    .text()
    .replace("application/sdp", "application/xml");
    h.udp(&other);
    let digits: Vec<char> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Dtmf { call: c, digit } if *c == call => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, vec!['4', '#']);
    assert_eq!(&h.statuses()[1..], &[200, 200, 415]);
}
