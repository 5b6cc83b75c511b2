//! konferenz-testkit: runs konferenz SIP [`Endpoint`]s against each other over a simulated
//! network with a virtual clock — no sockets, no threads, no wall-clock waits.
//!
//! [`SimNet`] owns the endpoints, each at the address it has in its
//! [`EndpointConfig::local_addr`]. Every [`Output::Transmit`] an endpoint emits becomes a
//! datagram that the net delivers to the endpoint owning its destination, after the
//! [`Link`]'s one-way delay (fixed part plus uniform jitter), or drops with the link's loss
//! probability. Links are set per direction. All random choices come from one RNG seeded in
//! [`SimNet::new`], so a seed replays the same run, packet for packet.
//!
//! Time only moves when the net is stepped ([`SimNet::advance`], [`SimNet::run_until`],
//! [`SimNet::run_until_idle`]): it jumps to the next delivery (in arrival order, from a
//! priority queue) or the next endpoint deadline ([`Endpoint::poll_timeout`], then
//! [`Endpoint::handle_timeout`]), whichever comes first. Each endpoint's [`Event`]s are
//! kept with the virtual time they were emitted at ([`SimNet::events`]); every datagram is
//! kept with its fate ([`SimNet::packets`], [`SimNet::trace`] for a readable ladder).
//!
//! The test plays the applications: it calls [`Endpoint::invite`], `accept`, `reject`,
//! `hangup` through [`SimNet::with`] (or [`SimNet::endpoint_mut`]), and can react to events
//! as they happen from the predicate of [`SimNet::run_until`], which gets the net mutably.
//!
//! ```
//! use std::time::Duration;
//! use konferenz_sip::{EndReason, Event};
//! use konferenz_testkit::{Link, SimNet};
//!
//! let mut net = SimNet::new(7);
//! // 50–150 ms one way, a quarter of all datagrams lost, both directions.
//! net.set_default_link(Link::new(Duration::from_millis(50), Duration::from_millis(100), 0.25));
//! let a = net.add_node("a", "127.0.0.1:5060".parse().unwrap());
//! let b = net.add_node("b", "127.0.0.1:5070".parse().unwrap());
//!
//! let call = net.place_call(a, b, "800");
//! // B's application answers as soon as the call is offered; run until A has the answer.
//! let answered = net.run_until(Duration::from_secs(64), |net| {
//!     for incoming in net.incoming_calls(b) {
//!         let media = net.local_media(b);
//!         // Err(WrongState) once accepted: fine, it is answered already.
//!         let _ = net.with(b, |ep, now| ep.accept(now, incoming, media));
//!     }
//!     net.events(a).iter().any(|e| matches!(e.event, Event::Answered { .. }))
//! });
//! assert!(answered, "{}", net.trace());
//! net.with(a, |ep, now| ep.hangup(now, call)).unwrap();
//! assert_eq!(net.end_reasons(a, call), vec![EndReason::LocalHangup]);
//! ```
//!
//! Only UDP is simulated: a `Transmit` over [`Transport::Tcp`] is recorded with
//! [`Fate::Tcp`] and not delivered.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use konferenz_sip::{
    CallHandle, EndReason, Endpoint, EndpointConfig, Event, LocalMedia, OutgoingCall, Output, PCMA,
    PCMU, Timers, Transport,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How many steps one net may take in its life before it is assumed to spin (an endpoint
/// whose deadline never moves forward); the test then panics instead of hanging.
const STEP_BUDGET: u64 = 10_000_000;

/// One direction of the path between two endpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    /// The fixed part of the one-way delay.
    pub delay: Duration,
    /// Up to this much more, uniformly drawn per datagram (so datagrams may overtake).
    pub jitter: Duration,
    /// The probability that a datagram is lost, 0.0 ..= 1.0.
    pub loss: f64,
}

impl Link {
    /// A link that loses everything.
    pub const DOWN: Link = Link {
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        loss: 1.0,
    };

    /// A link with this delay, jitter and loss probability.
    pub fn new(delay: Duration, jitter: Duration, loss: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&loss),
            "loss {loss} is not a probability"
        );
        Self {
            delay,
            jitter,
            loss,
        }
    }

    /// A lossless link with a fixed delay.
    pub fn fixed(delay: Duration) -> Self {
        Self::new(delay, Duration::ZERO, 0.0)
    }
}

impl Default for Link {
    /// 20 ms one way, no jitter, no loss.
    fn default() -> Self {
        Self::fixed(Duration::from_millis(20))
    }
}

/// An endpoint in a [`SimNet`]; index into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(usize);

/// An [`Event`] with the virtual time (since the net was made) it was emitted at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedEvent {
    pub at: Duration,
    pub event: Event,
}

/// What became of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Delivered (or to be delivered, if the run stopped first) at this virtual time.
    Delivered(Duration),
    /// Lost on the link.
    Lost,
    /// No endpoint of the net owns the destination address.
    NoRoute,
    /// Sent over TCP, which the net does not simulate.
    Tcp,
}

/// A datagram an endpoint sent, kept for assertions and [`SimNet::trace`].
#[derive(Clone, Debug)]
pub struct Packet {
    /// Virtual time it was sent at.
    pub sent: Duration,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
    pub fate: Fate,
}

impl Packet {
    /// The message as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The request or status line.
    pub fn first_line(&self) -> String {
        let text = self.text();
        text.lines().next().unwrap_or_default().to_owned()
    }

    /// The method of a request (`"INVITE"`), None for a response.
    pub fn method(&self) -> Option<String> {
        let line = self.first_line();
        if line.starts_with("SIP/") {
            return None;
        }
        line.split(' ').next().map(str::to_owned)
    }

    /// The status of a response, None for a request.
    pub fn status(&self) -> Option<u16> {
        let line = self.first_line();
        let rest = line.strip_prefix("SIP/2.0 ")?;
        rest.split(' ').next()?.parse().ok()
    }

    /// The method named in the CSeq header (for a response: the request it answers).
    pub fn cseq_method(&self) -> Option<String> {
        self.text().lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("CSeq") {
                return None;
            }
            value.split_whitespace().nth(1).map(str::to_owned)
        })
    }

    /// Whether it is a request with this method.
    pub fn is_request(&self, method: &str) -> bool {
        self.method().as_deref() == Some(method)
    }

    /// Whether it is a response with this status to a request with this method.
    pub fn is_response(&self, status: u16, method: &str) -> bool {
        self.status() == Some(status) && self.cseq_method().as_deref() == Some(method)
    }

    /// Whether it reached (or will reach) its destination.
    pub fn delivered(&self) -> bool {
        matches!(self.fate, Fate::Delivered(_))
    }
}

struct Node {
    name: String,
    addr: SocketAddr,
    endpoint: Endpoint,
    events: Vec<TimedEvent>,
}

/// A datagram on its way, ordered by arrival time, then by sending order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: usize,
    from: SocketAddr,
    /// Index into `SimNet::packets`.
    packet: usize,
}

/// A simulated network of SIP endpoints with a virtual clock. See the crate docs.
pub struct SimNet {
    seed: u64,
    start: Instant,
    now: Instant,
    nodes: Vec<Node>,
    by_addr: HashMap<SocketAddr, usize>,
    default_link: Link,
    links: HashMap<(usize, usize), Link>,
    queue: BinaryHeap<Reverse<InFlight>>,
    packets: Vec<Packet>,
    rng: StdRng,
    seq: u64,
    steps: u64,
}

impl SimNet {
    /// An empty net with [`Link::default`] everywhere; `seed` decides every loss and jitter
    /// draw and the endpoints' own seeds (tags, branches, Call-IDs).
    pub fn new(seed: u64) -> Self {
        let start = Instant::now();
        Self {
            seed,
            start,
            now: start,
            nodes: Vec::new(),
            by_addr: HashMap::new(),
            default_link: Link::default(),
            links: HashMap::new(),
            queue: BinaryHeap::new(),
            packets: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            seq: 0,
            steps: 0,
        }
    }

    /// Adds an endpoint made with [`endpoint_config`]`(addr)` and a seed derived from the
    /// net's seed and its position.
    pub fn add_node(&mut self, name: &str, addr: SocketAddr) -> NodeId {
        let seed = self
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(self.nodes.len() as u64 + 1);
        self.add_endpoint(name, addr, Endpoint::new(endpoint_config(addr), seed))
    }

    /// Adds an endpoint made by the caller; `addr` must be its `EndpointConfig::local_addr`.
    pub fn add_endpoint(&mut self, name: &str, addr: SocketAddr, endpoint: Endpoint) -> NodeId {
        assert!(
            !self.by_addr.contains_key(&addr),
            "{addr} is taken by another endpoint"
        );
        let index = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_owned(),
            addr,
            endpoint,
            events: Vec::new(),
        });
        self.by_addr.insert(addr, index);
        NodeId(index)
    }

    /// Sets the link for every direction without one of its own.
    pub fn set_default_link(&mut self, link: Link) {
        self.default_link = link;
    }

    /// Sets the link from `from` to `to` (one direction).
    pub fn set_link(&mut self, from: NodeId, to: NodeId, link: Link) {
        self.links.insert((from.0, to.0), link);
    }

    /// Sets the link both ways between `a` and `b`.
    pub fn set_links(&mut self, a: NodeId, b: NodeId, link: Link) {
        self.set_link(a, b, link);
        self.set_link(b, a, link);
    }

    /// The link datagrams from `from` to `to` take.
    pub fn link(&self, from: NodeId, to: NodeId) -> Link {
        self.links
            .get(&(from.0, to.0))
            .copied()
            .unwrap_or(self.default_link)
    }

    /// The virtual now, to pass to endpoint calls.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the net was made.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// The endpoint's address.
    pub fn addr(&self, id: NodeId) -> SocketAddr {
        self.nodes[id.0].addr
    }

    /// The name the endpoint was added with.
    pub fn name(&self, id: NodeId) -> &str {
        &self.nodes[id.0].name
    }

    pub fn endpoint(&self, id: NodeId) -> &Endpoint {
        &self.nodes[id.0].endpoint
    }

    /// The endpoint, for commands. What it outputs is collected (and sent at the current
    /// virtual time) on the next step, or at once with [`SimNet::flush`].
    pub fn endpoint_mut(&mut self, id: NodeId) -> &mut Endpoint {
        &mut self.nodes[id.0].endpoint
    }

    /// Runs `f` on the endpoint with the virtual now, then collects what it output.
    pub fn with<R>(&mut self, id: NodeId, f: impl FnOnce(&mut Endpoint, Instant) -> R) -> R {
        let now = self.now;
        let result = f(&mut self.nodes[id.0].endpoint, now);
        self.drain(id.0);
        result
    }

    /// Collects every endpoint's pending output now.
    pub fn flush(&mut self) {
        for index in 0..self.nodes.len() {
            self.drain(index);
        }
    }

    /// Every event the endpoint emitted so far, in order.
    pub fn events(&self, id: NodeId) -> &[TimedEvent] {
        &self.nodes[id.0].events
    }

    /// The calls announced by [`Event::IncomingCall`] so far, in order.
    pub fn incoming_calls(&self, id: NodeId) -> Vec<CallHandle> {
        self.events(id)
            .iter()
            .filter_map(|e| match e.event {
                Event::IncomingCall { call, .. } => Some(call),
                _ => None,
            })
            .collect()
    }

    /// Every [`Event::Ended`] reason for `call` (a correct endpoint reports at most one).
    pub fn end_reasons(&self, id: NodeId, call: CallHandle) -> Vec<EndReason> {
        self.ends(id, call).into_iter().map(|(_, r)| r).collect()
    }

    /// When `call` ended (the first [`Event::Ended`]).
    pub fn ended_at(&self, id: NodeId, call: CallHandle) -> Option<Duration> {
        self.ends(id, call).first().map(|(at, _)| *at)
    }

    fn ends(&self, id: NodeId, call: CallHandle) -> Vec<(Duration, EndReason)> {
        self.events(id)
            .iter()
            .filter_map(|e| match &e.event {
                Event::Ended { call: c, reason } if *c == call => Some((e.at, reason.clone())),
                _ => None,
            })
            .collect()
    }

    /// Whether the endpoint emitted an event matching `pred`.
    pub fn saw(&self, id: NodeId, pred: impl Fn(&Event) -> bool) -> bool {
        self.events(id).iter().any(|e| pred(&e.event))
    }

    /// Every datagram sent so far, in sending order.
    pub fn packets(&self) -> &[Packet] {
        &self.packets
    }

    /// Datagrams sent by `id`.
    pub fn sent_by(&self, id: NodeId) -> impl Iterator<Item = &Packet> + '_ {
        let addr = self.addr(id);
        self.packets.iter().filter(move |p| p.from == addr)
    }

    /// Datagrams still on their way.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// The RTP address the endpoint would announce (its IP, port 20000 + 2·index).
    pub fn local_media(&self, id: NodeId) -> LocalMedia {
        let port = 20_000 + 2 * id.0 as u16;
        LocalMedia::plain(SocketAddr::new(self.addr(id).ip(), port))
    }

    /// A call from `from` to `user` at `to`, over UDP, straight to `to` (no proxy).
    pub fn outgoing_call(&self, from: NodeId, to: NodeId, user: &str) -> OutgoingCall {
        OutgoingCall {
            target: format!("sip:{user}@{}", self.addr(to)),
            next_hop: self.addr(to),
            transport: Transport::Udp,
            from: format!("sip:{}@{}", self.name(from), self.addr(from)),
            display_name: None,
            asserted_identity: None,
            credentials: None,
            local: self.local_media(from),
        }
    }

    /// Places [`SimNet::outgoing_call`] from `from` now.
    pub fn place_call(&mut self, from: NodeId, to: NodeId, user: &str) -> CallHandle {
        let call = self.outgoing_call(from, to, user);
        self.with(from, |ep, now| ep.invite(now, call))
            .expect("the target is a SIP URI")
    }

    /// Whether nothing is on the wire and no endpoint has a deadline.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self
                .nodes
                .iter()
                .all(|n| n.endpoint.poll_timeout().is_none())
    }

    /// Runs everything due within `d`, then sets the clock to `now + d`.
    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        while self.step(until) {}
        self.now = until;
    }

    /// Steps until `pred` holds (checked before the first step and after each one) or
    /// `within` has passed; returns whether `pred` held. `pred` gets the net mutably, so it
    /// can play an application that reacts to events as they come.
    pub fn run_until(
        &mut self,
        within: Duration,
        mut pred: impl FnMut(&mut SimNet) -> bool,
    ) -> bool {
        let deadline = self.now + within;
        loop {
            self.flush();
            if pred(self) {
                return true;
            }
            if !self.step(deadline) {
                self.now = deadline.max(self.now);
                self.flush();
                return pred(self);
            }
        }
    }

    /// Steps until [`SimNet::is_idle`] (every transaction and timer ran out) or `within`
    /// has passed; returns whether it went idle.
    pub fn run_until_idle(&mut self, within: Duration) -> bool {
        self.run_until(within, |net| net.is_idle())
    }

    /// One thing: the next delivery, or else the endpoint deadlines due, if not after
    /// `limit`. Returns false when there was nothing to do.
    fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let packet = self.queue.peek().map(|Reverse(p)| p.at);
        let timer = self
            .nodes
            .iter()
            .filter_map(|n| n.endpoint.poll_timeout())
            .min();
        let next = match (packet, timer) {
            (Some(p), Some(t)) => p.min(t),
            (Some(at), None) | (None, Some(at)) => at,
            (None, None) => return false,
        };
        if next > limit {
            return false;
        }
        self.steps += 1;
        assert!(
            self.steps <= STEP_BUDGET,
            "the simulation took {STEP_BUDGET} steps: an endpoint spins at {:?}",
            self.elapsed()
        );
        self.now = self.now.max(next);
        if packet.is_some_and(|at| at <= self.now) {
            let Reverse(p) = self.queue.pop().expect("peeked");
            let bytes = std::mem::take(&mut self.packets[p.packet].bytes);
            self.nodes[p.to]
                .endpoint
                .handle_datagram(self.now, p.from, &bytes);
            self.packets[p.packet].bytes = bytes;
            self.drain(p.to);
            return true;
        }
        for index in 0..self.nodes.len() {
            if self.nodes[index]
                .endpoint
                .poll_timeout()
                .is_some_and(|at| at <= self.now)
            {
                self.nodes[index].endpoint.handle_timeout(self.now);
                self.drain(index);
            }
        }
        true
    }

    /// Takes the endpoint's output: events are recorded, datagrams put on the wire.
    fn drain(&mut self, index: usize) {
        let elapsed = self.elapsed();
        while let Some(output) = self.nodes[index].endpoint.poll_output() {
            match output {
                Output::Event(event) => self.nodes[index]
                    .events
                    .push(TimedEvent { at: elapsed, event }),
                Output::Transmit(t) => self.send(index, t.transport, t.dest, t.bytes.to_vec()),
            }
        }
    }

    fn send(&mut self, from: usize, transport: Transport, dest: SocketAddr, bytes: Vec<u8>) {
        let from_addr = self.nodes[from].addr;
        let to = self.by_addr.get(&dest).copied();
        let fate = match (transport, to) {
            (Transport::Tcp | Transport::Tls, _) => Fate::Tcp,
            (Transport::Udp, None) => Fate::NoRoute,
            (Transport::Udp, Some(to)) => {
                let link = self.link(NodeId(from), NodeId(to));
                // Always two draws per datagram, so one link's settings do not shift the
                // random sequence seen by the others.
                let lost = self.rng.r#gen::<f64>() < link.loss;
                let jitter = self.rng.r#gen::<f64>() * link.jitter.as_secs_f64();
                if lost {
                    Fate::Lost
                } else {
                    let at = self.now + link.delay + Duration::from_secs_f64(jitter);
                    self.seq += 1;
                    self.queue.push(Reverse(InFlight {
                        at,
                        seq: self.seq,
                        to,
                        from: from_addr,
                        packet: self.packets.len(),
                    }));
                    Fate::Delivered(at - self.start)
                }
            }
        };
        self.packets.push(Packet {
            sent: self.elapsed(),
            from: from_addr,
            to: dest,
            bytes,
            fate,
        });
    }

    /// Every datagram so far as one line each: send time, who to whom, the first line, and
    /// what became of it. Handy in assertion messages.
    pub fn trace(&self) -> String {
        let name = |addr: &SocketAddr| {
            self.by_addr
                .get(addr)
                .map_or_else(|| addr.to_string(), |&i| self.nodes[i].name.clone())
        };
        let mut out = String::new();
        for p in &self.packets {
            let fate = match p.fate {
                Fate::Delivered(at) => format!("arrives {:.3}", at.as_secs_f64()),
                Fate::Lost => "LOST".into(),
                Fate::NoRoute => "no route".into(),
                Fate::Tcp => "TCP, not simulated".into(),
            };
            let cseq = if p.status().is_some() {
                format!(" ({})", p.cseq_method().unwrap_or_default())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{:>9.3} {} -> {}: {}{cseq} [{fate}]",
                p.sent.as_secs_f64(),
                name(&p.from),
                name(&p.to),
                p.first_line(),
            );
        }
        out
    }
}

/// A config for an endpoint at `addr`: PCMU and PCMA, the default timers (T1 500 ms).
pub fn endpoint_config(addr: SocketAddr) -> EndpointConfig {
    EndpointConfig {
        local_addr: addr,
        user_agent: "konferenz-testkit".into(),
        codecs: vec![PCMU, PCMA],
        timers: Timers::default(),
        tls_port: None,
        srtp: konferenz_sip::SrtpPolicy::default(),
    }
}
