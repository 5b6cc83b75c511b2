//! Transaction counters for metrics: each transaction counts once, by side, method and final
//! status — retransmissions, provisional responses and forked 2xx do not count again.

mod support;

use konferenz_sip::{LocalMedia, OutgoingCall, TransactionSide, Transport};
use support::{Harness, PHONE, Req, ms, pcmu_offer};

const IN: TransactionSide = TransactionSide::Received;
const OUT: TransactionSide = TransactionSide::Sent;

#[test]
fn answered_requests_count_once_by_method_and_status() {
    let mut h = Harness::new();
    let body = pcmu_offer();
    let invite = Req {
        body: &body,
        ..Default::default()
    }
    .text();
    h.udp(&invite);
    h.udp(&invite); // retransmission: absorbed
    let call = h.incoming();
    h.accept(call);
    h.advance(ms(2_000)); // the 200 is retransmitted while no ACK comes
    h.udp(
        &Req {
            method: "OPTIONS",
            branch: "z9hG4bK-opt",
            call_id: "probe@phone",
            ..Default::default()
        }
        .text(),
    );
    h.udp(
        &Req {
            method: "FROBNICATE",
            branch: "z9hG4bK-frob",
            call_id: "frob@phone",
            ..Default::default()
        }
        .text(),
    );
    let stats = h.endpoint.transaction_stats();
    assert_eq!(stats.get(IN, "INVITE", 200), 1);
    assert_eq!(stats.get(IN, "OPTIONS", 200), 1);
    assert_eq!(stats.get(IN, "OTHER", 501), 1);
    assert_eq!(stats.total(), 3, "{:?}", stats.iter().collect::<Vec<_>>());
    assert_eq!(h.endpoint.stats().calls_in, 1);
    assert_eq!(h.endpoint.stats().calls_out, 0);
}

#[test]
fn our_bye_timing_out_counts_as_408_and_our_invite_200_once() {
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
    h.endpoint.hangup(h.now, call).unwrap();
    h.drain();
    h.advance(ms(40_000));
    assert_eq!(h.endpoint.transaction_stats().get(OUT, "BYE", 408), 1);

    let handle = h
        .endpoint
        .invite(
            h.now,
            OutgoingCall {
                target: "sip:callee@127.0.0.1:5070".into(),
                next_hop: PHONE,
                transport: Transport::Udp,
                from: "sip:konferenz@127.0.0.1:5060".into(),
                display_name: None,
                asserted_identity: None,
                credentials: None,
                local: LocalMedia::plain("127.0.0.1:20000".parse().unwrap()),
            },
        )
        .unwrap();
    h.drain();
    let invite = h
        .requests()
        .into_iter()
        .rev()
        .map(|(_, r)| r)
        .find(|r| r.starts_with("INVITE "))
        .unwrap();
    let header = |name: &str| {
        invite
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    let answer = pcmu_offer();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=callee1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:callee@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
        header("Via"),
        header("From"),
        header("To"),
        header("Call-ID"),
        header("CSeq"),
        answer.len()
    );
    h.udp(&ok);
    h.udp(&ok); // a retransmitted (or forked) 2xx is acknowledged again, not counted again
    let stats = h.endpoint.transaction_stats();
    assert_eq!(stats.get(OUT, "INVITE", 200), 1, "{handle}");
    assert_eq!(h.endpoint.stats().calls_out, 1);
}

#[test]
fn invalid_requests_are_counted_with_the_status_they_got() {
    let mut h = Harness::new();
    // No Call-ID: validation answers 400.
    let text = Req {
        method: "OPTIONS",
        ..Default::default()
    }
    .text()
    .replace("Call-ID: call-1@phone\r\n", "");
    h.udp(&text);
    assert_eq!(h.endpoint.stats().rejected_invalid, 1);
    assert_eq!(h.endpoint.transaction_stats().get(IN, "OPTIONS", 400), 1);
}
