//! Glare and INVITEs that come too early (RFC 3261 §14.1/§14.2), with virtual time.
//!
//! The endpoint never re-INVITEs on its own, and it answers a peer's re-INVITE at once, so the
//! only INVITE of ours that can be "in progress" on a dialog is the INVITE of a call we placed,
//! and the only INVITE of the peer's still waiting for our final answer is a new call the
//! application has not accepted yet. Hence:
//! - a callee that re-INVITEs in the early dialog (our INVITE pending) gets 491 Request Pending
//!   and the call goes on;
//! - a second INVITE on the dialog of a call not yet answered gets 500 with Retry-After 0–10 s;
//! - after the 2xx (our transaction only absorbs retransmissions, RFC 6026) a re-INVITE is
//!   answered normally, and one with an old CSeq gets 500.

mod support;

use konferenz_sip::{CallHandle, EndReason, Event, LocalMedia, OutgoingCall, Transport};
use rand::{Rng, SeedableRng};
use support::{Harness, PHONE, Req, ms, offer, pcmu_offer};

fn place(h: &mut Harness) -> CallHandle {
    let call = OutgoingCall {
        target: "sip:callee@127.0.0.1:5070".into(),
        next_hop: PHONE,
        transport: Transport::Udp,
        from: "sip:konferenz@127.0.0.1:5060".into(),
        display_name: None,
        asserted_identity: None,
        credentials: None,
        local: LocalMedia::plain("127.0.0.1:20000".parse().unwrap()),
    };
    let handle = h.endpoint.invite(h.now, call).unwrap();
    h.drain();
    handle
}

fn last(h: &Harness, method: &str) -> String {
    h.requests()
        .into_iter()
        .rev()
        .map(|(_, r)| r)
        .find(|r| r.starts_with(&format!("{method} ")))
        .unwrap_or_else(|| panic!("no {method} sent"))
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {message}"))
}

/// The callee's answer to our `request`.
fn answer(request: &str, code: u16, reason: &str, body: &str) -> String {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "SIP/2.0 {code} {reason}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=callee1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:callee@127.0.0.1:5070>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        header(request, "Via"),
        header(request, "From"),
        header(request, "To"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
        body.len()
    )
}

/// A request from the callee inside the dialog of our `invite` (From/To swapped).
fn from_callee(invite: &str, method: &str, cseq: u32, branch: &str, body: &str) -> String {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:konferenz@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:callee@127.0.0.1:5070>;tag=callee1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:callee@127.0.0.1:5070>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        header(invite, "From"),
        header(invite, "Call-ID"),
        body.len()
    )
}

fn last_response(h: &Harness) -> String {
    let (_, r) = h.responses().pop().expect("a response");
    String::from_utf8_lossy(&sipx_sip::Message::Response(r).to_bytes()).into_owned()
}

fn ended(h: &Harness) -> Vec<EndReason> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Ended { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reinvite_from_a_callee_still_ringing_gets_491_and_the_call_goes_on() {
    let mut h = Harness::new();
    let call = place(&mut h);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", ""));
    let reinvite = from_callee(&invite, "INVITE", 1, "z9hG4bK-glare", &pcmu_offer());
    h.udp(&reinvite);
    let r = last_response(&h);
    assert!(r.starts_with("SIP/2.0 491 Request Pending\r\n"), "{r}");
    assert_eq!(header(&r, "To"), header(&invite, "From"), "our tag in To");
    assert!(
        !h.events
            .iter()
            .any(|e| matches!(e, Event::MediaChanged { .. } | Event::Ended { .. })),
        "{:?}",
        h.events
    );
    // The callee ACKs the 491 (same branch, a transaction-level ACK).
    let ack = from_callee(&invite, "ACK", 1, "z9hG4bK-glare", "");
    h.udp(&ack);
    // Our INVITE is answered as usual.
    h.udp(&answer(&invite, 200, "OK", &pcmu_offer()));
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, Event::Answered { call: c, .. } if *c == call))
    );
    last(&h, "ACK");
    // Once the glare is over, the callee's retried re-INVITE goes through.
    h.advance(ms(3_000));
    let hold = offer("0", &["0 PCMU/8000"], "sendonly");
    h.udp(&from_callee(&invite, "INVITE", 2, "z9hG4bK-retry", &hold));
    let r = last_response(&h);
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
    assert!(r.contains("a=recvonly"), "{r}");
    h.udp(&from_callee(&invite, "ACK", 2, "z9hG4bK-retry-ack", ""));
    h.advance(ms(40_000));
    assert!(ended(&h).is_empty());
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
    assert_eq!(h.endpoint.call_count(), 1);
}

#[test]
fn a_reinvite_while_we_cancel_gets_491_too() {
    let mut h = Harness::new();
    let call = place(&mut h);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", ""));
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    last(&h, "CANCEL");
    h.udp(&from_callee(
        &invite,
        "INVITE",
        1,
        "z9hG4bK-g2",
        &pcmu_offer(),
    ));
    assert!(last_response(&h).starts_with("SIP/2.0 491 "));
    h.udp(&answer(&invite, 487, "Request Terminated", ""));
    assert_eq!(ended(&h), vec![EndReason::LocalHangup]);
}

#[test]
fn right_after_the_answer_a_reinvite_is_accepted_and_an_old_cseq_gets_500() {
    let mut h = Harness::new();
    place(&mut h);
    let invite = last(&h, "INVITE");
    let ok = answer(&invite, 200, "OK", &pcmu_offer());
    h.udp(&ok);
    // Our INVITE transaction still absorbs 2xx retransmissions (RFC 6026 Accepted) — that
    // is not an INVITE in progress: the callee's re-INVITE is answered.
    let hold = offer("0", &["0 PCMU/8000"], "sendonly");
    h.udp(&from_callee(&invite, "INVITE", 5, "z9hG4bK-hold", &hold));
    let r = last_response(&h);
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
    assert!(r.contains("a=recvonly"), "{r}");
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e, Event::MediaChanged { .. }))
    );
    // A retransmitted 200 for our INVITE is still ACKed.
    let acks = |h: &Harness| {
        h.requests()
            .iter()
            .filter(|(_, r)| r.starts_with("ACK "))
            .count()
    };
    let before = acks(&h);
    h.udp(&ok);
    assert_eq!(acks(&h), before + 1);
    h.udp(&from_callee(&invite, "ACK", 5, "z9hG4bK-hold-ack", ""));
    // An INVITE with a lower CSeq is out of order (§12.2.2).
    h.udp(&from_callee(
        &invite,
        "INVITE",
        3,
        "z9hG4bK-old",
        &pcmu_offer(),
    ));
    assert!(last_response(&h).starts_with("SIP/2.0 500 "));
    assert!(ended(&h).is_empty());
}

/// The local tag of the first call the harness's endpoint (seed 7) announces: the first
/// value its generator draws. A peer that knows the tag is exactly the case under test.
fn first_local_tag() -> String {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    format!("{:016x}", rng.r#gen::<u64>())
}

#[test]
fn a_second_invite_before_we_answered_the_first_gets_500_with_retry_after() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    h.udp(
        &Req {
            body: &body,
            ..Req::default()
        }
        .text(),
    );
    let call = h.incoming();
    let tag = first_local_tag();
    h.udp(
        &Req {
            body: &body,
            branch: "z9hG4bK-2",
            cseq: 2,
            to_tag: Some(&tag),
            ..Req::default()
        }
        .text(),
    );
    let r = last_response(&h);
    assert!(r.starts_with("SIP/2.0 500 "), "{r}");
    let after: u32 = header(&r, "Retry-After").trim().parse().unwrap();
    assert!(after <= 10, "{after}");
    assert!(header(&r, "To").ends_with(&format!(";tag={tag}")), "{r}");
    // The first INVITE is still ours to answer.
    h.accept(call);
    assert_eq!(h.statuses().last(), Some(&200));
    assert_eq!(h.to_tag(), tag);
    h.udp(
        &Req {
            method: "ACK",
            branch: "z9hG4bK-ack",
            to_tag: Some(&tag),
            ..Req::default()
        }
        .text(),
    );
    assert!(h.events.contains(&Event::Established { call }));
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.transaction_count(), (0, 0));
    assert!(ended(&h).is_empty());
}
