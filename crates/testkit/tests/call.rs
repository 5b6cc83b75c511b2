//! Two konferenz endpoints calling each other over a lossless simulated network (20 ms one
//! way): a call placed, answered, confirmed and hung up by either side; a callee that
//! rejects; two calls crossing.

mod common;

use common::{
    accept_all, answered, assert_clean, count, established, ms, pair, requests, responses, secs,
    the_incoming,
};
use konferenz_sip::{EndReason, Event, TransactionSide};
use konferenz_testkit::Link;

#[test]
fn a_call_is_answered_confirmed_and_hung_up_by_the_caller() {
    let (mut net, a, b) = pair(1, Link::default());
    let call = net.place_call(a, b, "800");
    assert!(net.run_until(secs(1), |n| !n.incoming_calls(b).is_empty()));
    let callee = the_incoming(&net, b);
    match &net.events(b)[0].event {
        Event::IncomingCall {
            room,
            caller,
            source,
            media: Some(media),
            ..
        } => {
            assert_eq!(room, "800");
            assert_eq!(caller, "sip:a@127.0.0.1:5060");
            assert_eq!(*source, net.addr(a));
            assert_eq!(media.codec.name, "PCMU");
            assert_eq!(media.remote_rtp, Some(net.local_media(a).rtp));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(net.events(b)[0].at, ms(20), "one hop");

    let media = net.local_media(b);
    net.with(b, |ep, now| ep.accept(now, callee, media))
        .unwrap();
    assert!(net.run_until(secs(1), |n| answered(n, a, call)
        && established(n, b, callee)));
    let answer = net.events(a).iter().find_map(|e| match &e.event {
        Event::Answered { media, .. } => Some((e.at, media.clone())),
        _ => None,
    });
    let (at, media) = answer.unwrap();
    assert_eq!(at, ms(40));
    assert_eq!(media.codec.name, "PCMU");
    assert_eq!(media.remote_rtp, Some(net.local_media(b).rtp));
    assert!(net.saw(b, |e| *e == Event::Established { call: callee }));
    // Nothing was lost, so nothing was sent twice: no 100 Trying either (answered at once).
    assert_eq!(requests(&net, a, "INVITE"), 1, "{}", net.trace());
    assert_eq!(requests(&net, a, "ACK"), 1, "{}", net.trace());
    assert_eq!(responses(&net, b, 200, "INVITE"), 1, "{}", net.trace());

    // The call stays up, with nothing on the wire, as long as nobody hangs up.
    let before = net.packets().len();
    net.advance(secs(300));
    assert_eq!(net.packets().len(), before, "{}", net.trace());

    net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
    assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
    assert!(net.run_until(secs(1), |n| !n.end_reasons(b, callee).is_empty()));
    assert_eq!(net.end_reasons(b, callee), vec![EndReason::RemoteHangup]);
    assert!(net.run_until_idle(secs(64)), "{}", net.trace());
    assert_eq!(
        net.endpoint(a)
            .transaction_stats()
            .get(TransactionSide::Sent, "BYE", 200),
        1
    );
    assert_eq!(requests(&net, a, "BYE"), 1);
    assert_eq!(net.end_reasons(a, call).len(), 1);
    assert_eq!(net.end_reasons(b, callee).len(), 1);
    assert_clean(&net, &[a, b]);
}

#[test]
fn the_callee_hangs_up() {
    let (mut net, a, b) = pair(2, Link::default());
    let call = net.place_call(a, b, "800");
    assert!(net.run_until(secs(1), |n| {
        accept_all(n, b);
        answered(n, a, call) && established(n, b, the_incoming(n, b))
    }));
    let callee = the_incoming(&net, b);
    net.with(b, |ep, now| ep.hangup(now, callee)).unwrap();
    assert_eq!(net.end_reasons(b, callee), vec![EndReason::LocalHangup]);
    assert!(net.run_until(secs(1), |n| !n.end_reasons(a, call).is_empty()));
    assert_eq!(net.end_reasons(a, call), vec![EndReason::RemoteHangup]);
    assert!(net.run_until_idle(secs(64)));
    assert_eq!(
        net.endpoint(b)
            .transaction_stats()
            .get(TransactionSide::Sent, "BYE", 200),
        1
    );
    assert_clean(&net, &[a, b]);
}

#[test]
fn a_rejected_call_fails_with_the_callees_status() {
    for (code, reason) in [(486, "Busy Here"), (603, "Decline"), (404, "Not Found")] {
        let (mut net, a, b) = pair(3, Link::default());
        let call = net.place_call(a, b, "800");
        assert!(net.run_until(secs(1), |n| !n.incoming_calls(b).is_empty()));
        let callee = the_incoming(&net, b);
        net.with(b, |ep, now| ep.reject(now, callee, code)).unwrap();
        assert_eq!(net.end_reasons(b, callee), vec![EndReason::Rejected(code)]);
        assert!(net.run_until(secs(1), |n| !n.end_reasons(a, call).is_empty()));
        assert_eq!(
            net.end_reasons(a, call),
            vec![EndReason::Failed {
                status: code,
                reason: reason.into()
            }]
        );
        assert!(!net.saw(a, |e| matches!(e, Event::Answered { .. })));
        assert!(net.run_until_idle(secs(64)), "{}", net.trace());
        // A's ACK (same transaction, §17.1.1.3) stopped Timer G: the final answer went once.
        assert_eq!(responses(&net, b, code, "INVITE"), 1, "{}", net.trace());
        assert_eq!(requests(&net, a, "ACK"), 1);
        assert_clean(&net, &[a, b]);
    }
}

#[test]
fn calls_crossing_each_other_are_two_dialogs() {
    let (mut net, a, b) = pair(4, Link::new(ms(30), ms(20), 0.0));
    let ab = net.place_call(a, b, "800");
    let ba = net.place_call(b, a, "900");
    assert!(net.run_until(secs(2), |n| {
        accept_all(n, a);
        accept_all(n, b);
        answered(n, a, ab) && answered(n, b, ba)
    }));
    let at_b = the_incoming(&net, b);
    let at_a = the_incoming(&net, a);
    assert!(net.run_until(secs(2), |n| established(n, a, at_a)
        && established(n, b, at_b)));
    net.with(a, |ep, now| ep.hangup(now, ab)).unwrap();
    net.with(a, |ep, now| ep.hangup(now, at_a)).unwrap();
    assert!(net.run_until_idle(secs(64)), "{}", net.trace());
    assert_eq!(net.end_reasons(a, ab), vec![EndReason::LocalHangup]);
    assert_eq!(net.end_reasons(a, at_a), vec![EndReason::LocalHangup]);
    assert_eq!(net.end_reasons(b, at_b), vec![EndReason::RemoteHangup]);
    assert_eq!(net.end_reasons(b, ba), vec![EndReason::RemoteHangup]);
    assert_eq!(count(&net, a, |e| matches!(e, Event::Ended { .. })), 2);
    assert_clean(&net, &[a, b]);
}
