//! REGISTER between two konferenz endpoints: A registers at B, whose application is a
//! registrar with digest authentication (`DigestServer`): challenge, credentials, binding,
//! the refresh before it runs out; a wrong password fails. Lossless and under loss.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{ms, pair, secs};
use konferenz_sip::digest::{Answer, Check, DigestServer, Ha1};
use konferenz_sip::{Event, RegisterAnswer, Registration, Transport};
use konferenz_testkit::{Link, NodeId, SimNet};

/// B's registrar: user 201 with password "pw201" in realm "konferenz".
struct Registrar {
    digest: DigestServer,
    ha1: Ha1,
    answered: HashSet<u64>,
}

impl Registrar {
    fn new(net: &SimNet) -> Self {
        Self {
            digest: DigestServer::new("konferenz", "secret", net.now(), Duration::from_secs(300)),
            ha1: Ha1::compute("201", "konferenz", "pw201"),
            answered: HashSet::new(),
        }
    }

    /// Answers every REGISTER B announced and has not answered yet.
    fn serve(&mut self, net: &mut SimNet, b: NodeId) {
        let pending: Vec<_> = net
            .events(b)
            .iter()
            .filter_map(|e| match &e.event {
                Event::Register(r) if !self.answered.contains(&r.id) => Some(r.clone()),
                _ => None,
            })
            .collect();
        for r in pending {
            self.answered.insert(r.id);
            let now = net.now();
            let answer = match r.authorization.as_deref().and_then(Answer::parse) {
                Some(a)
                    if a.username() == "201"
                        && self.digest.check(now, &a, "REGISTER", &self.ha1) == Check::Valid =>
                {
                    let bindings = r.contacts.iter().map(|c| (c.uri.clone(), 600)).collect();
                    RegisterAnswer::Bindings(bindings)
                }
                _ => RegisterAnswer::Challenge(self.digest.challenges(now, false)),
            };
            net.with(b, |ep, now| ep.answer_register(now, r.id, answer));
        }
    }
}

fn registration(net: &SimNet, b: NodeId, password: &str) -> Registration {
    Registration {
        registrar: format!("sip:{}", net.addr(b)),
        aor: format!("sip:201@{}", net.addr(b)),
        next_hop: net.addr(b),
        transport: Transport::Udp,
        credentials: Some(("201".into(), password.into())),
        expires: 600,
    }
}

fn registered(net: &SimNet, a: NodeId) -> Vec<(Duration, u32)> {
    net.events(a)
        .iter()
        .filter_map(|e| match e.event {
            Event::Registered { expires, .. } => Some((e.at, expires)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_registers_at_b_with_digest_and_refreshes_before_expiry() {
    for (seed, link) in [(1, Link::default())]
        .into_iter()
        .chain((1..=8).map(|seed| (seed, Link::new(ms(50), ms(100), 0.25))))
    {
        let (mut net, a, b) = pair(seed, link);
        let mut registrar = Registrar::new(&net);
        let config = registration(&net, b, "pw201");
        net.with(a, |ep, now| ep.register(now, config)).unwrap();
        let ok = net.run_until(secs(64), |n| {
            registrar.serve(n, b);
            !registered(n, a).is_empty()
        });
        assert!(ok, "seed {seed}: not registered\n{}", net.trace());
        let first = registered(&net, a)[0];
        assert_eq!(first.1, 600);
        // Challenged once, then accepted: B's application saw two REGISTERs (retransmissions
        // are absorbed by B's transactions).
        assert_eq!(registrar.answered.len(), 2, "seed {seed}");
        assert!(
            !net.saw(a, |e| matches!(e, Event::RegistrationFailed { .. })),
            "seed {seed}"
        );

        // The refresh comes 60 s before the 600 s run out, challenged and answered again.
        let ok = net.run_until(secs(600), |n| {
            registrar.serve(n, b);
            registered(n, a).len() == 2
        });
        assert!(ok, "seed {seed}: no refresh\n{}", net.trace());
        let second = registered(&net, a)[1];
        assert!(
            second.0 > first.0 + secs(540) && second.0 < first.0 + secs(600),
            "seed {seed}: refreshed at {:?} after {:?}",
            second.0,
            first.0
        );
    }
}

#[test]
fn a_wrong_password_fails_the_registration() {
    let (mut net, a, b) = pair(1, Link::default());
    let mut registrar = Registrar::new(&net);
    let config = registration(&net, b, "wrong");
    net.with(a, |ep, now| ep.register(now, config)).unwrap();
    let failed = net.run_until(secs(64), |n| {
        registrar.serve(n, b);
        n.saw(a, |e| matches!(e, Event::RegistrationFailed { .. }))
    });
    assert!(failed, "{}", net.trace());
    let failure = net.events(a).iter().find_map(|e| match &e.event {
        Event::RegistrationFailed {
            status, retry_in, ..
        } => Some((*status, *retry_in)),
        _ => None,
    });
    assert_eq!(failure, Some((401, secs(30))));
    assert!(registered(&net, a).is_empty());
    // One challenge answered once: no loop of credentials.
    assert_eq!(registrar.answered.len(), 2);
}
