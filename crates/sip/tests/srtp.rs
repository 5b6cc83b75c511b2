//! SDES (RFC 4568) in the endpoint: which offers get SRTP, which are refused (keys only over
//! TLS; `sip.srtp` off/optional/required), what our answers and offers carry, and Via and
//! Contact on TLS flows.

mod support;

use konferenz_sip::{
    CryptoSuite, EndReason, Event, LocalMedia, LocalSrtp, OutgoingCall, SdesKey, SrtpPolicy,
    Transport,
};
use support::{Harness, PHONE, Req};

const PHONE_KEY: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk";
const OUR_KEY: [u8; 30] = [0x42; 30];

fn sdp(proto: &str, crypto: &[&str]) -> String {
    let mut s = format!(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 {proto} 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    for c in crypto {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s.push_str("a=sendrecv\r\n");
    s
}

fn phone_crypto() -> String {
    format!("3 AES_CM_128_HMAC_SHA1_80 inline:{PHONE_KEY}|2^31")
}

fn keyed() -> LocalMedia {
    LocalMedia {
        rtp: "127.0.0.1:20000".parse().unwrap(),
        srtp: Some(LocalSrtp {
            key: OUR_KEY,
            savp: false,
        }),
    }
}

/// Sends an INVITE with `body` on `transport`, accepts the call if it is offered, and
/// returns the final status and the response body.
fn call(h: &mut Harness, transport: Transport, body: &str) -> (u16, String) {
    let via = match transport {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
        Transport::Tls => "TLS",
    };
    let text = Req {
        body,
        transport: via,
        ..Default::default()
    }
    .text();
    match transport {
        Transport::Udp => h.udp(&text),
        Transport::Tcp => h.tcp(&text),
        Transport::Tls => h.tls(&text),
    }
    if let Some(call) = h.events.iter().find_map(|e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    }) {
        h.accept_with(call, keyed());
    }
    let (_, last) = h.responses().pop().expect("a response");
    (
        last.status.code(),
        String::from_utf8_lossy(last.body()).into_owned(),
    )
}

fn offered_key(h: &Harness) -> Option<SdesKey> {
    h.events.iter().find_map(|e| match e {
        Event::IncomingCall {
            media: Some(media), ..
        } => Some(media.srtp),
        _ => None,
    })?
}

fn our_crypto_line(body: &str) -> Option<SdesKey> {
    body.lines()
        .find_map(|l| l.strip_prefix("a=crypto:"))
        .and_then(SdesKey::parse)
}

#[test]
fn an_srtp_offer_over_tls_is_answered_with_our_key_under_its_tag() {
    let mut h = Harness::with(|c| c.tls_port = Some(5061));
    let (status, body) = call(&mut h, Transport::Tls, &sdp("RTP/SAVP", &[&phone_crypto()]));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("m=audio 20000 RTP/SAVP 0 101"), "{body}");
    let ours = our_crypto_line(&body).expect("our crypto line");
    assert_eq!(ours.tag, 3);
    assert_eq!(ours.suite, CryptoSuite::AesCm128HmacSha1_80);
    assert_eq!(ours.key, OUR_KEY);
    let theirs = offered_key(&h).expect("the phone's key reaches the server");
    assert_eq!(&theirs.key[..4], b"ABCD");
    // Via and Contact name the TLS port.
    let (_, ok) = h.responses().pop().unwrap();
    let contact = ok
        .headers
        .value(&sipx_sip::HeaderName::Contact)
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap();
    assert!(
        contact.contains("127.0.0.1:5061;transport=tls"),
        "{contact}"
    );
}

#[test]
fn best_effort_srtp_over_tls_keeps_rtp_avp() {
    let mut h = Harness::new();
    let (status, body) = call(&mut h, Transport::Tls, &sdp("RTP/AVP", &[&phone_crypto()]));
    assert_eq!(status, 200);
    assert!(body.contains("RTP/AVP 0 101"), "{body}");
    assert!(our_crypto_line(&body).is_some(), "{body}");
    assert!(offered_key(&h).is_some());
}

#[test]
fn the_first_usable_crypto_line_wins() {
    let mut h = Harness::new();
    let lines = [
        format!("1 AES_256_CM_HMAC_SHA1_80 inline:{PHONE_KEY}"),
        format!("2 AES_CM_128_HMAC_SHA1_32 inline:{PHONE_KEY}"),
        phone_crypto(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (status, body) = call(&mut h, Transport::Tls, &sdp("RTP/SAVP", &refs));
    assert_eq!(status, 200);
    let ours = our_crypto_line(&body).unwrap();
    assert_eq!(
        (ours.tag, ours.suite),
        (2, CryptoSuite::AesCm128HmacSha1_32)
    );
}

#[test]
fn keys_are_never_sent_or_taken_over_plain_sip() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut h = Harness::new();
        let (status, _) = call(&mut h, transport, &sdp("RTP/SAVP", &[&phone_crypto()]));
        assert_eq!(status, 488, "{transport:?}: SAVP needs TLS");
        let mut h = Harness::new();
        let (status, body) = call(&mut h, transport, &sdp("RTP/AVP", &[&phone_crypto()]));
        assert_eq!(status, 200);
        assert!(our_crypto_line(&body).is_none(), "{body}");
        assert!(offered_key(&h).is_none());
    }
}

#[test]
fn an_savp_offer_without_a_usable_suite_is_refused() {
    let mut h = Harness::new();
    let line = format!("1 AES_256_CM_HMAC_SHA1_80 inline:{PHONE_KEY}");
    let (status, _) = call(&mut h, Transport::Tls, &sdp("RTP/SAVP", &[&line]));
    assert_eq!(status, 488);
}

#[test]
fn required_refuses_plain_calls_and_plain_sip() {
    let required = |c: &mut konferenz_sip::EndpointConfig| c.srtp = SrtpPolicy::Required;
    let mut h = Harness::with(required);
    assert_eq!(call(&mut h, Transport::Tls, &sdp("RTP/AVP", &[])).0, 488);
    let mut h = Harness::with(required);
    let offer = sdp("RTP/AVP", &[&phone_crypto()]);
    assert_eq!(call(&mut h, Transport::Udp, &offer).0, 488);
    let mut h = Harness::with(required);
    assert_eq!(call(&mut h, Transport::Tls, &offer).0, 200);
}

#[test]
fn off_answers_plain_and_refuses_savp() {
    let off = |c: &mut konferenz_sip::EndpointConfig| c.srtp = SrtpPolicy::Off;
    let mut h = Harness::with(off);
    assert_eq!(
        call(&mut h, Transport::Tls, &sdp("RTP/SAVP", &[&phone_crypto()])).0,
        488
    );
    let mut h = Harness::with(off);
    let (status, body) = call(&mut h, Transport::Tls, &sdp("RTP/AVP", &[&phone_crypto()]));
    assert_eq!(status, 200);
    assert!(our_crypto_line(&body).is_none());
}

/// Places a call with our key on `transport`; returns the INVITE sent.
fn place(h: &mut Harness, transport: Transport) -> String {
    let target = match transport {
        Transport::Tls => "sip:callee@127.0.0.1:5070;transport=tls",
        _ => "sip:callee@127.0.0.1:5070",
    };
    let call = OutgoingCall {
        target: target.into(),
        next_hop: PHONE,
        transport,
        from: "sip:konferenz@127.0.0.1".into(),
        display_name: None,
        asserted_identity: None,
        credentials: None,
        local: keyed(),
    };
    h.endpoint.invite(h.now, call).unwrap();
    h.drain();
    let (_, invite) = h.requests().pop().expect("INVITE sent");
    invite
}

fn answer(invite: &str, body: &str) -> String {
    let header = |name: &str| {
        invite
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=c1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:callee@127.0.0.1:5070;transport=tls>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        header("Via"),
        header("From"),
        header("To"),
        header("Call-ID"),
        header("CSeq"),
        body.len()
    )
}

#[test]
fn our_offers_over_tls_carry_a_key_and_take_the_answers() {
    let mut h = Harness::with(|c| c.tls_port = Some(5061));
    let invite = place(&mut h, Transport::Tls);
    assert!(
        invite.contains("Via: SIP/2.0/TLS 127.0.0.1:5061"),
        "{invite}"
    );
    assert!(
        invite.contains("m=audio 20000 RTP/AVP"),
        "optional: best effort"
    );
    let ours = our_crypto_line(&invite).expect("our key in the offer");
    assert_eq!((ours.tag, ours.key), (1, OUR_KEY));
    let reply = sdp(
        "RTP/AVP",
        &[&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{PHONE_KEY}")],
    );
    h.tls(&answer(&invite, &reply));
    let media = h
        .events
        .iter()
        .find_map(|e| match e {
            Event::Answered { media, .. } => Some(media.clone()),
            _ => None,
        })
        .expect("answered");
    assert_eq!(&media.srtp.expect("their key").key[..4], b"ABCD");
}

#[test]
fn required_offers_savp_and_hangs_up_on_a_plain_answer() {
    let mut h = Harness::with(|c| c.srtp = SrtpPolicy::Required);
    let invite = place(&mut h, Transport::Tls);
    assert!(invite.contains("m=audio 20000 RTP/SAVP"), "{invite}");
    h.tls(&answer(&invite, &sdp("RTP/AVP", &[])));
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::BadAnswer,
            ..
        }
    )));
}

#[test]
fn our_offers_over_udp_carry_no_key() {
    let mut h = Harness::new();
    let invite = place(&mut h, Transport::Udp);
    assert!(!invite.contains("a=crypto"), "{invite}");
}
