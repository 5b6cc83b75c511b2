//! Helpers shared by the testkit's scenario tests: two endpoints on a net, an application
//! that answers every call, and short questions about what the endpoints reported.
#![allow(dead_code)]

use std::time::Duration;

use konferenz_sip::{CallHandle, Event};
use konferenz_testkit::{Link, NodeId, SimNet};

/// A (the caller, at 127.0.0.1:5060) and B (the callee, at 127.0.0.1:5070), every
/// direction on `link`.
pub fn pair(seed: u64, link: Link) -> (SimNet, NodeId, NodeId) {
    let mut net = SimNet::new(seed);
    net.set_default_link(link);
    let a = net.add_node("a", "127.0.0.1:5060".parse().unwrap());
    let b = net.add_node("b", "127.0.0.1:5070".parse().unwrap());
    (net, a, b)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The application at `id` accepts every call offered to it (again and again: accepting a
/// call answered or ended already is refused, harmlessly).
pub fn accept_all(net: &mut SimNet, id: NodeId) {
    for call in net.incoming_calls(id) {
        let media = net.local_media(id);
        let _ = net.with(id, |ep, now| ep.accept(now, call, media));
    }
}

/// How many events of `id` match.
pub fn count(net: &SimNet, id: NodeId, pred: impl Fn(&Event) -> bool) -> usize {
    net.events(id).iter().filter(|e| pred(&e.event)).count()
}

pub fn answered(net: &SimNet, id: NodeId, call: CallHandle) -> bool {
    net.saw(
        id,
        |e| matches!(e, Event::Answered { call: c, .. } if *c == call),
    )
}

pub fn established(net: &SimNet, id: NodeId, call: CallHandle) -> bool {
    net.saw(
        id,
        |e| matches!(e, Event::Established { call: c } if *c == call),
    )
}

/// The one call offered to `id` so far.
pub fn the_incoming(net: &SimNet, id: NodeId) -> CallHandle {
    let calls = net.incoming_calls(id);
    assert_eq!(calls.len(), 1, "offered calls\n{}", net.trace());
    calls[0]
}

/// Requests with this method sent by `id` (retransmissions included).
pub fn requests(net: &SimNet, id: NodeId, method: &str) -> usize {
    net.sent_by(id).filter(|p| p.is_request(method)).count()
}

/// Responses with this status to this method sent by `id` (retransmissions included).
pub fn responses(net: &SimNet, id: NodeId, status: u16, method: &str) -> usize {
    net.sent_by(id)
        .filter(|p| p.is_response(status, method))
        .count()
}

/// Both endpoints forgot every call, transaction and timer.
pub fn assert_clean(net: &SimNet, ids: &[NodeId]) {
    for &id in ids {
        let ep = net.endpoint(id);
        assert_eq!(ep.call_count(), 0, "{} keeps a call", net.name(id));
        assert_eq!(
            ep.transaction_count(),
            (0, 0),
            "{} keeps transactions",
            net.name(id)
        );
        assert_eq!(ep.timer_count(), 0, "{} keeps timers", net.name(id));
    }
}
