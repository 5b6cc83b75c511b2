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
