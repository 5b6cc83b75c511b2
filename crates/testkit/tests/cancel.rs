//! A caller hanging up before the callee answers (RFC 3261 §9), between two konferenz
//! endpoints: the callee is offered the call and never answers; the caller's hangup must
//! CANCEL the INVITE so that the callee's call ends `Cancelled` and the INVITE gets 487.
//! And the race: the callee answers after the caller hung up.
//!
//! Our UAS answers an INVITE it has not accepted with 100 Trying only (never 180), so the
//! caller's INVITE never leaves the state "Calling" for the endpoint's call logic.

mod common;

use std::time::Duration;

use common::{accept_all, assert_clean, ms, pair, requests, responses, secs, the_incoming};
use konferenz_sip::{EndReason, Event};
use konferenz_testkit::{Link, NodeId, SimNet};

/// A calls B; B is offered the call and leaves it ringing; A hangs up `after` the call was
/// placed. Returns the net and the two nodes once everything ran out (or after 10 minutes).
fn hang_up_unanswered(seed: u64, link: Link, after: Duration) -> (SimNet, NodeId, NodeId) {
    let (mut net, a, b) = pair(seed, link);
    let call = net.place_call(a, b, "800");
    net.advance(after);
    net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
    assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
    net.run_until_idle(secs(600));
    (net, a, b)
}

fn assert_cancelled(net: &SimNet, a: NodeId, b: NodeId, what: &str) {
    let callee = the_incoming(net, b);
    assert_eq!(
        net.end_reasons(b, callee),
        vec![EndReason::Cancelled],
        "{what}\n{}",
        net.trace()
    );
    assert!(requests(net, a, "CANCEL") >= 1, "{what}");
    assert!(responses(net, b, 487, "INVITE") >= 1, "{what}");
    assert!(
        net.events(a)
            .iter()
            .all(|e| !matches!(e.event, Event::Answered { .. })),
        "{what}"
    );
    assert_eq!(
        net.events(a)
            .iter()
            .filter(|e| matches!(e.event, Event::Ended { .. }))
            .count(),
        1,
        "{what}: A is told once, at hangup"
    );
    assert!(net.is_idle(), "{what}: still busy after 10 minutes");
    assert_clean(net, &[a, b]);
}

/// `hangup()` of a call we placed that has seen no provisional, or only 100 Trying: the
/// CANCEL goes out once any provisional arrived, 100 included (RFC 3261 §9.1). (This found
/// a bug: the endpoint waited for a 101–199, and the INVITE client transaction, in
/// Proceeding after the 100, has no Timer B — both sides kept the call forever.)
#[test]
fn hanging_up_an_unanswered_call_cancels_it_at_the_callee() {
    // Before the INVITE reached B, after B was offered it (before its 100 Trying, sent
    // after 200 ms), and after the 100 Trying reached A.
    for after in [ms(5), ms(100), secs(1), secs(20)] {
        let (net, a, b) = hang_up_unanswered(1, Link::default(), after);
        assert_cancelled(&net, a, b, &format!("hangup after {after:?}"));
    }
}

/// The same under loss and delay (the CANCEL and the 487 retransmitted, Timer E and G).
#[test]
fn hanging_up_an_unanswered_call_cancels_it_under_loss() {
    for seed in 1..=16 {
        let (net, a, b) = hang_up_unanswered(seed, Link::new(ms(50), ms(100), 0.25), secs(5));
        assert_cancelled(&net, a, b, &format!("seed {seed}"));
    }
}

/// The callee's 200 crosses the caller's hangup: the caller ACKs it and sends BYE at once,
/// and never reports the answer; the callee's call ends by that BYE (a CANCEL arriving
/// after the 200 changes nothing, §9.2).
#[test]
fn an_answer_after_the_caller_hung_up_is_acked_and_hung_up() {
    for (seed, link) in [(1, Link::default())]
        .into_iter()
        .chain((1..=16).map(|seed| (seed, Link::new(ms(50), ms(100), 0.25))))
    {
        let (mut net, a, b) = pair(seed, link);
        let call = net.place_call(a, b, "800");
        assert!(net.run_until(secs(64), |n| !n.incoming_calls(b).is_empty()));
        net.advance(secs(1));
        // At the same instant: the 200 and A's CANCEL (if any) cross on the wire.
        net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
        accept_all(&mut net, b);
        assert!(net.run_until_idle(secs(120)), "seed {seed}");
        let callee = the_incoming(&net, b);
        assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
        assert!(
            !net.saw(a, |e| matches!(e, Event::Answered { .. })),
            "seed {seed}"
        );
        assert_eq!(
            net.end_reasons(b, callee),
            vec![EndReason::RemoteHangup],
            "seed {seed}\n{}",
            net.trace()
        );
        assert!(requests(&net, a, "BYE") >= 1);
        assert_clean(&net, &[a, b]);
    }
}
