//! Overload protection: while the application says it is overloaded, new INVITEs get
//! `503` with `Retry-After` and make no call; calls already up go on (re-INVITE, BYE).

mod support;

use support::{Harness, Req, pcmu_offer};

#[test]
fn new_invites_get_503_with_retry_after_while_calls_in_progress_go_on() {
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
    let tag = h.to_tag();

    h.endpoint.set_overloaded(Some(3));
    assert!(h.endpoint.is_overloaded());
    let events = h.events.len();
    h.udp(
        &Req {
            body: &body,
            call_id: "call-2@phone",
            branch: "z9hG4bK-2",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.events.len(), events, "no call announced");
    assert_eq!(h.statuses().last(), Some(&503));
    let (_, sent) = h.sent.last().unwrap();
    let text = String::from_utf8_lossy(&sent.bytes).into_owned();
    assert!(text.contains("Retry-After: 3\r\n"), "{text}");
    assert_eq!(h.endpoint.stats().rejected_overload, 1);
    assert_eq!(h.endpoint.call_count(), 1);

    // The call in progress still gets its re-INVITE answered.
    h.udp(
        &Req {
            body: &body,
            to_tag: Some(&tag),
            cseq: 2,
            branch: "z9hG4bK-3",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses().last(), Some(&200));

    h.endpoint.set_overloaded(None);
    h.udp(
        &Req {
            body: &body,
            call_id: "call-3@phone",
            branch: "z9hG4bK-4",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.endpoint.call_count(), 2, "accepted again");
}

/// A new INVITE (call `n`) from `from`.
fn invite_from(h: &mut Harness, from: std::net::SocketAddr, n: u32, body: &str) {
    let call_id = format!("flood-{n}@phone");
    let branch = format!("z9hG4bK-f{n}");
    let text = Req {
        body,
        call_id: &call_id,
        branch: &branch,
        ..Default::default()
    }
    .text();
    h.endpoint.handle_datagram(h.now, from, text.as_bytes());
    h.drain();
}

#[test]
fn a_flooding_source_is_refused_then_ignored_while_others_get_in() {
    let mut h = Harness::new();
    h.endpoint.set_admission(konferenz_sip::AdmissionConfig {
        per_second: 10,
        burst: 5,
        drop_after: 3,
        drop_for: std::time::Duration::from_secs(60),
        retry_after: 7,
    });
    let body = pcmu_offer();
    let flooder: std::net::SocketAddr = "192.0.2.66:5060".parse().unwrap();
    for n in 0..5 {
        invite_from(&mut h, flooder, n, &body);
    }
    assert_eq!(h.endpoint.call_count(), 5, "the burst gets in");
    let answered = h.sent.len();
    // A retransmission of an admitted INVITE is no new call and costs nothing.
    invite_from(&mut h, flooder, 0, &body);
    assert_eq!(h.endpoint.stats().rejected_rate, 0);
    for n in 5..8 {
        invite_from(&mut h, flooder, n, &body);
    }
    assert_eq!(h.endpoint.stats().rejected_rate, 3);
    let refusals: Vec<String> = h.sent[answered..]
        .iter()
        .map(|(_, t)| String::from_utf8_lossy(&t.bytes).into_owned())
        .filter(|t| t.starts_with("SIP/2.0 503"))
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(
        refusals[0].contains("Retry-After: 7\r\n"),
        "{}",
        refusals[0]
    );
    let before = h.sent.len();
    for n in 8..100 {
        invite_from(&mut h, flooder, n, &body);
    }
    assert_eq!(
        h.sent.len(),
        before,
        "a repeat offender gets no answer at all"
    );
    assert_eq!(h.endpoint.stats().ignored_rate, 92);
    assert_eq!(h.endpoint.call_count(), 5, "no call state for the flood");
    // Someone else calls meanwhile: answered as ever.
    h.udp(
        &Req {
            body: &body,
            call_id: "other@phone",
            branch: "z9hG4bK-other",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.endpoint.call_count(), 6);
}
