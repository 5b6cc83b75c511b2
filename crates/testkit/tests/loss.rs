//! Calls between two konferenz endpoints over a lossy simulated network (25 % loss each
//! way, 50–150 ms one way), over several seeds: retransmissions (Timer A for the INVITE,
//! the 2xx until its ACK, Timer E for the BYE, Timer G for a rejection) carry every call
//! to its end. And a dead network: Timer B ends the call after 64·T1.

mod common;

use std::time::Duration;

use common::{
    accept_all, answered, assert_clean, count, established, ms, pair, requests, responses, secs,
    the_incoming,
};
use konferenz_sip::{EndReason, Event, Timers, TransactionSide};
use konferenz_testkit::{Fate, Link};

const SEEDS: std::ops::RangeInclusive<u64> = 1..=16;

fn lossy() -> Link {
    Link::new(ms(50), ms(100), 0.25)
}

#[test]
fn a_call_completes_and_its_bye_completes_under_loss_and_delay() {
    let (mut invites, mut oks, mut byes, mut lost) = (0, 0, 0, 0);
    for seed in SEEDS {
        let (mut net, a, b) = pair(seed, lossy());
        let call = net.place_call(a, b, "800");
        let up = net.run_until(secs(64), |n| {
            accept_all(n, b);
            answered(n, a, call) && n.incoming_calls(b).iter().any(|&c| established(n, b, c))
        });
        assert!(up, "seed {seed}: the call did not come up\n{}", net.trace());
        let callee = the_incoming(&net, b);
        assert_eq!(
            count(&net, a, |e| matches!(e, Event::Answered { .. })),
            1,
            "seed {seed}"
        );
        assert_eq!(
            count(&net, b, |e| matches!(e, Event::Established { .. })),
            1,
            "seed {seed}"
        );

        net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
        assert!(
            net.run_until(secs(64), |n| !n.end_reasons(b, callee).is_empty()),
            "seed {seed}: B never heard the BYE\n{}",
            net.trace()
        );
        assert!(net.run_until_idle(secs(120)), "seed {seed}");
        assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
        assert_eq!(net.end_reasons(b, callee), vec![EndReason::RemoteHangup]);
        let a_stats = net.endpoint(a).transaction_stats();
        assert_eq!(
            a_stats.get(TransactionSide::Sent, "BYE", 200),
            1,
            "seed {seed}: the BYE was not answered\n{}",
            net.trace()
        );
        assert_eq!(a_stats.get(TransactionSide::Sent, "BYE", 408), 0);
        assert_clean(&net, &[a, b]);

        invites += requests(&net, a, "INVITE") - 1;
        oks += responses(&net, b, 200, "INVITE") - 1;
        byes += requests(&net, a, "BYE") - 1;
        lost += net
            .packets()
            .iter()
            .filter(|p| p.fate == Fate::Lost)
            .count();
    }
    // The seeds exercised every retransmission on the way.
    assert!(lost > 0);
    assert!(invites > 0, "no INVITE retransmitted (Timer A)");
    assert!(oks > 0, "no 2xx retransmitted");
    assert!(byes > 0, "no BYE retransmitted (Timer E)");
}

#[test]
fn a_hangup_racing_the_ack_under_loss_ends_both_sides() {
    for seed in SEEDS {
        let (mut net, a, b) = pair(seed, lossy());
        let call = net.place_call(a, b, "800");
        assert!(
            net.run_until(secs(64), |n| {
                accept_all(n, b);
                answered(n, a, call)
            }),
            "seed {seed}\n{}",
            net.trace()
        );
        // At once: B may still be waiting for the ACK, which may be lost or overtaken.
        net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
        assert!(net.run_until_idle(secs(120)), "seed {seed}");
        let callee = the_incoming(&net, b);
        assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
        assert_eq!(
            net.end_reasons(b, callee),
            vec![EndReason::RemoteHangup],
            "seed {seed}\n{}",
            net.trace()
        );
        assert_clean(&net, &[a, b]);
    }
}

#[test]
fn a_rejection_reaches_the_caller_under_loss() {
    let mut rejections = 0;
    for seed in SEEDS {
        let (mut net, a, b) = pair(seed, lossy());
        let call = net.place_call(a, b, "800");
        assert!(
            net.run_until(secs(64), |n| !n.incoming_calls(b).is_empty()),
            "seed {seed}"
        );
        let callee = the_incoming(&net, b);
        net.with(b, |ep, now| ep.reject(now, callee, 486)).unwrap();
        assert!(net.run_until_idle(secs(120)), "seed {seed}");
        assert_eq!(
            net.end_reasons(a, call),
            vec![EndReason::Failed {
                status: 486,
                reason: "Busy Here".into()
            }],
            "seed {seed}\n{}",
            net.trace()
        );
        assert_eq!(net.end_reasons(b, callee), vec![EndReason::Rejected(486)]);
        assert_clean(&net, &[a, b]);
        rejections += responses(&net, b, 486, "INVITE") - 1;
    }
    assert!(rejections > 0, "no 486 retransmitted (Timer G)");
}

#[test]
fn a_dead_network_ends_the_call_by_timer_b_after_64_t1() {
    let (mut net, a, b) = pair(1, Link::DOWN);
    let call = net.place_call(a, b, "800");
    assert!(net.run_until(secs(120), |n| !n.end_reasons(a, call).is_empty()));
    assert_eq!(
        net.end_reasons(a, call),
        vec![EndReason::Failed {
            status: 408,
            reason: "Request Timeout".into()
        }]
    );
    let timeout = Timers::default().timeout();
    assert_eq!(timeout, secs(32));
    assert_eq!(net.ended_at(a, call), Some(timeout));
    // Timer A: at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, none arriving.
    let sent: Vec<Duration> = net
        .sent_by(a)
        .filter(|p| p.is_request("INVITE"))
        .map(|p| p.sent)
        .collect();
    let expected: Vec<Duration> = [0, 500, 1500, 3500, 7500, 15500, 31500]
        .into_iter()
        .map(ms)
        .collect();
    assert_eq!(sent, expected);
    assert!(net.packets().iter().all(|p| p.fate == Fate::Lost));
    assert!(net.events(b).is_empty());
    assert!(net.run_until_idle(secs(64)));
    assert_clean(&net, &[a, b]);
    assert_eq!(
        net.endpoint(a)
            .transaction_stats()
            .get(TransactionSide::Sent, "INVITE", 408),
        1
    );
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let run = |seed| {
        let (mut net, a, b) = pair(seed, lossy());
        let call = net.place_call(a, b, "800");
        net.run_until(secs(64), |n| {
            accept_all(n, b);
            answered(n, a, call)
        });
        net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
        net.run_until_idle(secs(120));
        net.trace()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

#[test]
fn a_one_way_outage_is_bridged_by_the_2xx_retransmission() {
    let (mut net, a, b) = pair(1, Link::default());
    net.set_link(b, a, Link::DOWN);
    let call = net.place_call(a, b, "800");
    // B answers at once; for 5 s nothing of B's reaches A.
    net.run_until(secs(5), |n| {
        accept_all(n, b);
        false
    });
    let callee = the_incoming(&net, b);
    assert!(!answered(&net, a, call));
    net.set_link(b, a, Link::default());
    assert!(net.run_until(secs(32), |n| answered(n, a, call)
        && established(n, b, callee)));
    // Until then A retransmitted its INVITE (Timer A; B absorbs them, RFC 6026 Accepted)
    // and B its 200 (0.5, 1.5, 3.5, 7.5 s: the one at 7.5 s got through).
    assert_eq!(requests(&net, a, "INVITE"), 5, "{}", net.trace());
    assert_eq!(responses(&net, b, 200, "INVITE"), 5, "{}", net.trace());
    assert_eq!(net.incoming_calls(b).len(), 1);
    assert_eq!(net.ended_at(a, call), None);
    assert_eq!(net.ended_at(b, callee), None);
}

#[test]
fn a_call_to_an_address_nobody_owns_times_out() {
    let (mut net, a, _b) = pair(1, Link::default());
    let mut call = net.outgoing_call(a, a, "800");
    call.target = "sip:800@127.0.0.1:5999".into();
    call.next_hop = "127.0.0.1:5999".parse().unwrap();
    let call = net.with(a, |ep, now| ep.invite(now, call)).unwrap();
    assert!(net.run_until_idle(secs(120)));
    assert!(net.packets().iter().all(|p| p.fate == Fate::NoRoute));
    assert_eq!(net.ended_at(a, call), Some(secs(32)));
}
