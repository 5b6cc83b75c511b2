//! Scenario tests of calls we place, with virtual time: 180→200 and the ACK, 183 early
//! media, 486/603, Timer B, CANCEL (also before any provisional, §9.1), digest challenges
//! (401/407), a redirect followed once, BYE both ways, a callee's BYE while it rings.

mod support;

use konferenz_sip::{CallHandle, EndReason, Event, LocalMedia, OutgoingCall, Transport};
use support::{Harness, PHONE, ms, pcmu_offer};

fn place(h: &mut Harness, credentials: Option<(&str, &str)>) -> CallHandle {
    let call = OutgoingCall {
        target: "sip:callee@127.0.0.1:5070".into(),
        next_hop: PHONE,
        transport: Transport::Udp,
        from: "sip:konferenz@127.0.0.1:5060".into(),
        display_name: Some("Weekly sync".into()),
        asserted_identity: None,
        credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
        local: LocalMedia::plain("127.0.0.1:20000".parse().unwrap()),
    };
    let handle = h.endpoint.invite(h.now, call).unwrap();
    h.drain();
    handle
}

/// The last request the endpoint sent with this method.
fn last(h: &Harness, method: &str) -> String {
    h.requests()
        .into_iter()
        .rev()
        .map(|(_, r)| r)
        .find(|r| r.starts_with(&format!("{method} ")))
        .unwrap_or_else(|| panic!("no {method} sent: {:?}", h.requests()))
}

fn header<'a>(request: &'a str, name: &str) -> &'a str {
    request
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {request}"))
}

/// The callee's answer to `request`.
fn answer(request: &str, code: u16, reason: &str, extra: &str, body: &str) -> String {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "SIP/2.0 {code} {reason}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=callee1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:callee@127.0.0.1:5070>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
        header(request, "Via"),
        header(request, "From"),
        header(request, "To"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
        body.len()
    )
}

fn ended(h: &Harness, call: CallHandle) -> Vec<EndReason> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ringing_then_answer_acks_and_reports_the_media() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    assert!(
        invite.starts_with("INVITE sip:callee@127.0.0.1:5070 SIP/2.0\r\n"),
        "{invite}"
    );
    assert!(header(&invite, "From").starts_with("\"Weekly sync\" <sip:konferenz@"));
    assert!(invite.contains("m=audio 20000 RTP/AVP 0 8 101"), "{invite}");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    assert!(h.events.contains(&Event::Progress {
        call,
        status: 180,
        early_media: None
    }));
    let ok = answer(&invite, 200, "OK", "", &pcmu_offer());
    h.udp(&ok);
    let media = h.events.iter().find_map(|e| match e {
        Event::Answered { media, .. } => Some(media.clone()),
        _ => None,
    });
    assert_eq!(media.expect("answered").codec.name, "PCMU");
    let ack = last(&h, "ACK");
    assert!(
        ack.starts_with("ACK sip:callee@127.0.0.1:5070 SIP/2.0\r\n"),
        "{ack}"
    );
    assert!(header(&ack, "To").ends_with(";tag=callee1"));
    assert_eq!(
        header(&ack, "CSeq").split(' ').next(),
        header(&invite, "CSeq").split(' ').next()
    );
    // A retransmitted 200 gets the ACK again (§13.2.2.4).
    h.udp(&ok);
    assert_eq!(
        h.requests()
            .iter()
            .filter(|(_, r)| r.starts_with("ACK "))
            .count(),
        2
    );
    assert!(ended(&h, call).is_empty());
}

#[test]
fn early_media_in_183_is_reported() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 183, "Session Progress", "", &pcmu_offer()));
    let early = h.events.iter().find_map(|e| match e {
        Event::Progress {
            call: c,
            status: 183,
            early_media,
        } if *c == call => early_media.clone(),
        _ => None,
    });
    assert_eq!(
        early.expect("early media").remote_rtp,
        Some("127.0.0.1:40000".parse().unwrap())
    );
}

#[test]
fn busy_and_decline_end_the_call_with_their_status_and_are_acked() {
    for (code, reason) in [(486, "Busy Here"), (603, "Decline"), (404, "Not Found")] {
        let mut h = Harness::new();
        let call = place(&mut h, None);
        let invite = last(&h, "INVITE");
        h.udp(&answer(&invite, code, reason, "", ""));
        assert_eq!(
            ended(&h, call),
            vec![EndReason::Failed {
                status: code,
                reason: reason.into()
            }]
        );
        let ack = last(&h, "ACK");
        assert_eq!(
            header(&ack, "Via"),
            header(&invite, "Via"),
            "the non-2xx ACK reuses the branch"
        );
        h.advance(ms(40_000));
        assert_eq!(h.endpoint.call_count(), 0);
        assert_eq!(h.endpoint.transaction_count(), (0, 0));
    }
}

#[test]
fn no_answer_at_all_ends_by_timer_b_after_64_t1() {
    let mut h = Harness::new();
    let t0 = h.now;
    let call = place(&mut h, None);
    h.advance(ms(31_000));
    assert!(ended(&h, call).is_empty());
    h.advance(ms(2_000));
    assert_eq!(
        ended(&h, call),
        vec![EndReason::Failed {
            status: 408,
            reason: "Request Timeout".into()
        }]
    );
    let times: Vec<u128> = h
        .requests()
        .iter()
        .filter(|(_, r)| r.starts_with("INVITE "))
        .map(|(at, _)| at.duration_since(t0).as_millis())
        .collect();
    // Timer A doubles without a cap: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    assert_eq!(times, vec![0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(h.endpoint.call_count(), 0);
}

#[test]
fn hanging_up_a_ringing_call_cancels_it() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    let cancel = last(&h, "CANCEL");
    assert!(
        cancel.starts_with("CANCEL sip:callee@127.0.0.1:5070 SIP/2.0"),
        "{cancel}"
    );
    assert_eq!(header(&cancel, "Via"), header(&invite, "Via"));
    assert!(header(&cancel, "CSeq").ends_with(" CANCEL"));
    h.udp(&answer(&cancel, 200, "OK", "", ""));
    h.udp(&answer(&invite, 487, "Request Terminated", "", ""));
    assert_eq!(
        ended(&h, call),
        vec![EndReason::LocalHangup],
        "one end, told at hangup"
    );
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.call_count(), 0);
}

#[test]
fn hangup_before_any_provisional_cancels_once_one_arrives() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    assert_eq!(ended(&h, call), vec![EndReason::LocalHangup]);
    assert!(
        h.requests().iter().all(|(_, r)| !r.starts_with("CANCEL")),
        "§9.1: not before a 1xx"
    );
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    last(&h, "CANCEL");
    assert_eq!(ended(&h, call).len(), 1);
}

#[test]
fn an_answer_crossing_our_cancel_is_acked_and_hung_up() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    h.udp(&answer(&invite, 200, "OK", "", &pcmu_offer()));
    last(&h, "ACK");
    last(&h, "BYE");
    assert!(!h.events.iter().any(|e| matches!(e, Event::Answered { .. })));
}

#[test]
fn digest_challenge_is_answered_once_with_credentials() {
    let mut h = Harness::new();
    let call = place(&mut h, Some(("alice", "secret")));
    let invite = last(&h, "INVITE");
    let challenge = "WWW-Authenticate: Digest realm=\"pbx\", nonce=\"abc123\", algorithm=SHA-256, qop=\"auth\"\r\n";
    h.udp(&answer(&invite, 401, "Unauthorized", challenge, ""));
    let second = last(&h, "INVITE");
    let auth = header(&second, "Authorization");
    assert!(
        auth.starts_with("Digest ")
            && auth.contains("username=\"alice\"")
            && auth.contains("algorithm=SHA-256"),
        "{auth}"
    );
    assert!(!auth.contains("secret"));
    let n1: u32 = header(&invite, "CSeq")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let n2: u32 = header(&second, "CSeq")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n2, n1 + 1);
    assert_eq!(header(&second, "Call-ID"), header(&invite, "Call-ID"));
    assert!(ended(&h, call).is_empty());
    h.udp(&answer(&second, 401, "Unauthorized", challenge, ""));
    assert_eq!(
        ended(&h, call),
        vec![EndReason::Failed {
            status: 401,
            reason: "authentication failed".into()
        }]
    );
}

#[test]
fn proxy_challenge_gets_proxy_authorization_and_no_credentials_fail() {
    let mut h = Harness::new();
    place(&mut h, Some(("alice", "secret")));
    let invite = last(&h, "INVITE");
    let challenge = "Proxy-Authenticate: Digest realm=\"pbx\", nonce=\"n1\"\r\n";
    h.udp(&answer(
        &invite,
        407,
        "Proxy Authentication Required",
        challenge,
        "",
    ));
    assert!(header(&last(&h, "INVITE"), "Proxy-Authorization").contains("response="));

    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(
        &invite,
        407,
        "Proxy Authentication Required",
        challenge,
        "",
    ));
    assert!(matches!(
        &ended(&h, call)[..],
        [EndReason::Failed { status: 407, .. }]
    ));
}

#[test]
fn a_redirect_is_followed_once() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    let moved = answer(&invite, 302, "Moved", "", "")
        .replace("<sip:callee@127.0.0.1:5070>", "<sip:other@127.0.0.1:5070>");
    h.udp(&moved);
    let second = last(&h, "INVITE");
    assert!(
        second.starts_with("INVITE sip:other@127.0.0.1:5070 "),
        "{second}"
    );
    h.udp(&answer(&second, 302, "Moved", "", ""));
    assert!(matches!(
        &ended(&h, call)[..],
        [EndReason::Failed { status: 302, .. }]
    ));
}

#[test]
fn answered_calls_end_by_bye_either_way() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 200, "OK", "", &pcmu_offer()));
    let tag = header(&invite, "From")
        .split(";tag=")
        .nth(1)
        .unwrap()
        .to_owned();
    let bye = format!(
        "BYE sip:konferenz@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-cb;rport\r\nMax-Forwards: 70\r\nFrom: <sip:callee@127.0.0.1:5070>;tag=callee1\r\nTo: {};tag={tag}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
        header(&invite, "From").split(";tag=").next().unwrap(),
        header(&invite, "Call-ID")
    );
    h.udp(&bye);
    assert_eq!(ended(&h, call), vec![EndReason::RemoteHangup]);
    assert_eq!(h.statuses().last(), Some(&200));

    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 200, "OK", "", &pcmu_offer()));
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    let bye = last(&h, "BYE");
    assert!(header(&bye, "To").ends_with(";tag=callee1"), "{bye}");
}

#[test]
fn a_bye_from_the_callee_while_it_rings_ends_the_call_once_and_cancels_our_invite() {
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    // §15: a callee must not BYE an early dialog; if it does, the call is over for us.
    let bye = format!(
        "BYE sip:konferenz@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-eb;rport\r\nMax-Forwards: 70\r\nFrom: <sip:callee@127.0.0.1:5070>;tag=callee1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
        header(&invite, "From"),
        header(&invite, "Call-ID")
    );
    h.udp(&bye);
    assert_eq!(h.statuses().last(), Some(&200));
    assert_eq!(ended(&h, call), vec![EndReason::RemoteHangup]);
    // Our INVITE still needs a final answer: CANCEL it; the 487 changes nothing.
    let cancel = last(&h, "CANCEL");
    assert_eq!(header(&cancel, "Via"), header(&invite, "Via"));
    h.udp(&answer(&cancel, 200, "OK", "", ""));
    h.udp(&answer(&invite, 487, "Request Terminated", "", ""));
    assert_eq!(ended(&h, call), vec![EndReason::RemoteHangup]);
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.call_count(), 0);
    assert_eq!(h.endpoint.transaction_count(), (0, 0));

    // The same BYE after we hung up (CANCEL sent) ends nothing twice.
    let mut h = Harness::new();
    let call = place(&mut h, None);
    let invite = last(&h, "INVITE");
    h.udp(&answer(&invite, 180, "Ringing", "", ""));
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    assert_eq!(
        header(&bye, "Call-ID"),
        header(&invite, "Call-ID"),
        "same seed"
    );
    h.udp(&bye);
    assert_eq!(h.statuses().last(), Some(&200));
    h.udp(&answer(&invite, 487, "Request Terminated", "", ""));
    assert_eq!(ended(&h, call), vec![EndReason::LocalHangup]);
}
