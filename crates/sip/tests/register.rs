//! REGISTER both ways, with virtual time: a phone registering at us (the request read
//! into an event, challenge → credentials → 200 with the bindings, 423, bad requests), and
//! us registering at a PBX (digest answered once, refresh before expiry, retry with
//! back-off after failure and timeout, removal with `Expires: 0`).

mod support;

use std::time::Duration;

use konferenz_sip::digest::{Answer, Check, DigestAlgorithm, DigestServer, Ha1};
use konferenz_sip::{Event, RegisterAnswer, RegisterRequest, Registration, Transport};
use support::{Harness, PHONE};

fn register_text(cseq: u32, extra: &str) -> String {
    format!(
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKreg{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:201@127.0.0.1>;tag=ph1\r\n\
         To: <sip:201@127.0.0.1>\r\n\
         Call-ID: reg-1@phone\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:201@127.0.0.1:5070;transport=udp>;expires=600\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
}

fn registers(h: &Harness) -> Vec<RegisterRequest> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::Register(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_register_is_read_into_an_event_and_answered_when_the_application_says() {
    let mut h = Harness::new();
    h.udp(&register_text(1, "Expires: 3600\r\n"));
    let r = registers(&h).pop().expect("Register event");
    assert_eq!(r.user, "201");
    assert_eq!(r.contacts.len(), 1);
    assert_eq!(r.contacts[0].uri, "sip:201@127.0.0.1:5070;transport=udp");
    assert_eq!(r.contacts[0].expires, Some(600));
    assert_eq!(r.expires, Some(3600));
    assert_eq!((r.source, r.transport), (PHONE, Transport::Udp));
    assert!(r.authorization.is_none());
    assert!(h.statuses().iter().all(|s| *s < 200), "no final answer yet");

    // A retransmission while the application decides is absorbed, not announced again.
    h.udp(&register_text(1, "Expires: 3600\r\n"));
    assert_eq!(registers(&h).len(), 1);

    let uri = r.contacts[0].uri.clone();
    h.endpoint
        .answer_register(h.now, r.id, RegisterAnswer::Bindings(vec![(uri, 600)]));
    h.drain();
    let (_, response) = h.responses().pop().unwrap();
    assert_eq!(response.status.code(), 200);
    let text =
        String::from_utf8_lossy(&sipx_sip::Message::Response(response).to_bytes()).into_owned();
    assert!(
        text.contains("Contact: <sip:201@127.0.0.1:5070;transport=udp>;expires=600"),
        "{text}"
    );
    assert_eq!(h.endpoint.pending_registers(), 0);
}

#[test]
fn challenge_then_credentials_computed_by_an_independent_client_verify() {
    let mut h = Harness::new();
    let mut server = DigestServer::new("konferenz", "secret", h.now, Duration::from_secs(300))
        .with_algorithms(&[DigestAlgorithm::Sha256, DigestAlgorithm::Md5]);
    h.udp(&register_text(1, ""));
    let first = registers(&h).pop().unwrap();
    h.endpoint.answer_register(
        h.now,
        first.id,
        RegisterAnswer::Challenge(server.challenges(h.now, false)),
    );
    h.drain();
    let (_, challenge) = h.responses().pop().unwrap();
    assert_eq!(challenge.status.code(), 401);
    let offered: Vec<_> = challenge
        .headers
        .get_all(&sipx_sip::HeaderName::WwwAuthenticate)
        .map(|v| String::from_utf8_lossy(&v.value()).into_owned())
        .collect();
    assert_eq!(offered.len(), 2, "SHA-256 and MD5 offered");
    assert!(offered[0].contains("SHA-256"));

    // The phone answers the strongest challenge (sipx-sip's client code).
    let parsed: Vec<_> = offered
        .iter()
        .filter_map(|v| sipx_sip::auth::Challenge::parse(v.as_bytes(), false))
        .collect();
    let chosen = sipx_sip::auth::strongest(parsed).unwrap();
    let credentials = sipx_sip::auth::Credentials::new("201", "pw201");
    let value = sipx_sip::auth::respond(
        &chosen,
        &credentials,
        "REGISTER",
        "sip:127.0.0.1:5060",
        1,
        "c1",
    );
    h.udp(&register_text(2, &format!("Authorization: {value}\r\n")));
    let second = registers(&h).pop().unwrap();
    let answer = Answer::parse(second.authorization.as_deref().unwrap()).unwrap();
    assert_eq!(answer.username(), "201");
    let wrong = Ha1::compute("201", "konferenz", "other");
    assert_eq!(
        server.check(h.now, &answer, "REGISTER", &wrong),
        Check::Invalid
    );
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    assert_eq!(server.check(h.now, &answer, "REGISTER", &ha1), Check::Valid);
    assert_eq!(
        server.check(h.now, &answer, "REGISTER", &ha1),
        Check::Invalid,
        "the same answer again is a replay"
    );
}

#[test]
fn interval_too_brief_names_the_minimum_and_rejects_are_sent_as_told() {
    let mut h = Harness::new();
    h.udp(&register_text(1, "Expires: 5\r\n"));
    let r = registers(&h).pop().unwrap();
    h.endpoint
        .answer_register(h.now, r.id, RegisterAnswer::IntervalTooBrief(60));
    h.drain();
    let (_, response) = h.responses().pop().unwrap();
    assert_eq!(response.status.code(), 423);
    let min = response
        .headers
        .value(&sipx_sip::HeaderName::MinExpires)
        .unwrap();
    assert_eq!(&min[..], b"60");

    h.udp(&register_text(2, ""));
    let r = registers(&h).pop().unwrap();
    h.endpoint
        .answer_register(h.now, r.id, RegisterAnswer::Reject(403));
    h.drain();
    assert_eq!(h.statuses().last(), Some(&403));
}

#[test]
fn a_wildcard_with_other_contacts_is_a_bad_request() {
    let mut h = Harness::new();
    let text = register_text(1, "Contact: *\r\nExpires: 0\r\n");
    h.udp(&text);
    assert!(registers(&h).is_empty());
    assert_eq!(h.statuses().last(), Some(&400));
    // A lone wildcard is fine.
    let text = register_text(2, "Expires: 0\r\n").replace(
        "Contact: <sip:201@127.0.0.1:5070;transport=udp>;expires=600\r\n",
        "Contact: *\r\n",
    );
    h.udp(&text);
    let r = registers(&h).pop().expect("wildcard REGISTER announced");
    assert!(r.wildcard && r.contacts.is_empty() && r.expires == Some(0));
}

// --- us registering at a PBX -------------------------------------------------------------

fn start(h: &mut Harness) -> u64 {
    let id = h
        .endpoint
        .register(
            h.now,
            Registration {
                registrar: "sip:pbx.test".into(),
                aor: "sip:konferenz@pbx.test".into(),
                next_hop: PHONE,
                transport: Transport::Udp,
                credentials: Some(("konferenz".into(), "trunkpass".into())),
                expires: 600,
            },
        )
        .unwrap();
    h.drain();
    id
}

fn last_register(h: &Harness) -> String {
    h.requests()
        .into_iter()
        .rev()
        .map(|(_, r)| r)
        .find(|r| r.starts_with("REGISTER "))
        .expect("a REGISTER sent")
}

fn header<'a>(request: &'a str, name: &str) -> &'a str {
    request
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {request}"))
}

fn reply(request: &str, status: &str, extra: &str) -> String {
    format!(
        "SIP/2.0 {status}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=pbx\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
        header(request, "Via"),
        header(request, "From"),
        header(request, "To"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
    )
}

fn registration_events(h: &Harness) -> Vec<Event> {
    h.events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Registered { .. } | Event::RegistrationFailed { .. }
            )
        })
        .cloned()
        .collect()
}

#[test]
fn registers_with_digest_and_refreshes_before_expiry() {
    let mut h = Harness::new();
    let id = start(&mut h);
    let first = last_register(&h);
    assert!(first.contains("Expires: 600"), "{first}");
    assert!(
        first.contains("Contact: <sip:konferenz@127.0.0.1:5060>"),
        "{first}"
    );
    h.udp(&reply(
        &first,
        "401 Unauthorized",
        "WWW-Authenticate: Digest realm=\"pbx.test\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"\r\n",
    ));
    let second = last_register(&h);
    assert!(header(&second, "Authorization").contains("username=\"konferenz\""));
    assert!(header(&second, "Authorization").contains("uri=\"sip:pbx.test\""));
    assert_ne!(header(&first, "CSeq"), header(&second, "CSeq"));
    assert_eq!(header(&first, "Call-ID"), header(&second, "Call-ID"));
    h.udp(&reply(
        &second,
        "200 OK",
        "Contact: <sip:konferenz@127.0.0.1:5060>;expires=300\r\n",
    ));
    assert_eq!(
        registration_events(&h),
        vec![Event::Registered { id, expires: 300 }]
    );

    // The refresh goes out a minute before the granted 300 s end, not earlier.
    let sent_before = h.requests().len();
    h.advance(Duration::from_secs(239));
    assert_eq!(h.requests().len(), sent_before);
    h.advance(Duration::from_secs(2));
    let refresh = last_register(&h);
    assert_ne!(refresh, second);
    assert!(
        !refresh.contains("Authorization"),
        "a fresh attempt starts unauthenticated"
    );
}

#[test]
fn failures_are_reported_and_retried_with_back_off() {
    let mut h = Harness::new();
    let id = start(&mut h);
    let first = last_register(&h);
    h.udp(&reply(&first, "403 Forbidden", ""));
    let events = registration_events(&h);
    assert!(
        matches!(
            &events[..],
            [Event::RegistrationFailed { id: i, status: 403, retry_in, .. }]
                if *i == id && *retry_in == Duration::from_secs(30)
        ),
        "{events:?}"
    );

    // No answer at all: Timer F (32 s) fails the retry; the next waits twice as long.
    h.advance(Duration::from_secs(31));
    let retry = last_register(&h);
    assert_ne!(retry, first);
    h.advance(Duration::from_secs(40));
    let events = registration_events(&h);
    assert!(
        matches!(
            events.last(),
            Some(Event::RegistrationFailed { status: 408, retry_in, .. }) if *retry_in == Duration::from_secs(60)
        ),
        "{events:?}"
    );
}

#[test]
fn a_second_challenge_is_a_failure_not_a_loop() {
    let mut h = Harness::new();
    start(&mut h);
    let challenge = "WWW-Authenticate: Digest realm=\"pbx.test\", nonce=\"n1\"\r\n";
    let first = last_register(&h);
    h.udp(&reply(&first, "401 Unauthorized", challenge));
    let second = last_register(&h);
    h.udp(&reply(&second, "401 Unauthorized", challenge));
    assert!(matches!(
        registration_events(&h).last(),
        Some(Event::RegistrationFailed { status: 401, .. })
    ));
    assert_eq!(
        h.requests()
            .iter()
            .filter(|(_, r)| r.starts_with("REGISTER"))
            .count(),
        2
    );
}

#[test]
fn unregister_sends_expires_zero_and_stops_refreshing() {
    let mut h = Harness::new();
    let id = start(&mut h);
    let first = last_register(&h);
    h.udp(&reply(&first, "200 OK", "Expires: 600\r\n"));
    h.endpoint.unregister(h.now, id);
    h.drain();
    let removal = last_register(&h);
    assert!(removal.contains("Expires: 0"), "{removal}");
    h.udp(&reply(&removal, "200 OK", ""));
    let count = h.requests().len();
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.requests().len(), count, "no refresh after removal");
}
