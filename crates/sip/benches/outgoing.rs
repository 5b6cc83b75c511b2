//! Outgoing call cycles through the sans-IO endpoint, all in memory: `invite()` emits the
//! INVITE; a simulated callee answers it with 100 Trying, 180 Ringing and 200 OK (with an
//! SDP answer) built from that INVITE; the endpoint ACKs; we hang up (BYE) and the callee's
//! 200 ends the call. A batch of 100 calls is placed at once, then virtual time runs on
//! 64 s so every transaction (Timer K, RFC 6026 Timer M, …) ends and nothing accumulates.
//! Throughput is reported in elements/s = complete calls per second (callee's string
//! formatting included; no sockets).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use konferenz_sip::{
    CallHandle, Endpoint, EndpointConfig, Event, LocalMedia, OutgoingCall, Output, PCMA, PCMU,
    Timers, Transport,
};

const BATCH: usize = 100;
const CALLEE: &str = "127.0.0.1:5070";

const SDP: &str = "v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .split("\r\n")
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
        })
        .unwrap_or_default()
}

/// The callee's response to `request` (with its To tag; a body makes it carry SDP).
fn response(request: &str, code: u16, reason: &str, tag: &str, body: &str) -> String {
    let to = header(request, "To");
    let to_tag = if to.contains(";tag=") {
        String::new()
    } else {
        format!(";tag={tag}")
    };
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "SIP/2.0 {code} {reason}\r\nVia: {}\r\nFrom: {}\r\nTo: {to}{to_tag}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:callee@{CALLEE}>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        header(request, "Via"),
        header(request, "From"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
        body.len()
    )
}

struct Bench {
    endpoint: Endpoint,
    now: Instant,
    callee: SocketAddr,
    sent: Vec<String>,
    answered: usize,
}

impl Bench {
    fn new() -> Self {
        let endpoint = Endpoint::new(
            EndpointConfig {
                local_addr: "127.0.0.1:5060".parse().unwrap(),
                user_agent: "konferenz-bench".into(),
                codecs: vec![PCMU, PCMA],
                timers: Timers::default(),
                tls_port: None,
                srtp: konferenz_sip::SrtpPolicy::default(),
            },
            1,
        );
        Self {
            endpoint,
            now: Instant::now(),
            callee: CALLEE.parse().unwrap(),
            sent: Vec::new(),
            answered: 0,
        }
    }

    fn drain(&mut self) {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit(t) => self
                    .sent
                    .push(String::from_utf8_lossy(&t.bytes).into_owned()),
                Output::Event(Event::Answered { .. }) => self.answered += 1,
                Output::Event(_) => {}
            }
        }
    }

    fn feed(&mut self, text: &str) {
        self.endpoint
            .handle_datagram(self.now, self.callee, text.as_bytes());
        self.drain();
    }

    /// Places BATCH calls at once, answers them all, hangs them all up.
    fn batch(&mut self) {
        let mut calls: Vec<(CallHandle, String)> = Vec::with_capacity(BATCH);
        for i in 0..BATCH {
            let call = OutgoingCall {
                target: format!("sip:{}@{CALLEE}", 1000 + i),
                next_hop: self.callee,
                transport: Transport::Udp,
                from: "sip:konferenz@127.0.0.1:5060".into(),
                display_name: Some("Conference 800".into()),
                asserted_identity: None,
                credentials: None,
                local: LocalMedia::plain(SocketAddr::from(([127, 0, 0, 1], 20_000 + 2 * i as u16))),
            };
            let handle = self.endpoint.invite(self.now, call).expect("invite");
            self.sent.clear();
            self.drain();
            let invite = self.sent.pop().expect("INVITE sent");
            calls.push((handle, invite));
        }
        for (i, (_, invite)) in calls.iter().enumerate() {
            let tag = format!("c{i}");
            self.feed(&response(invite, 100, "Trying", &tag, ""));
            self.feed(&response(invite, 180, "Ringing", &tag, ""));
            self.sent.clear();
            self.feed(&response(invite, 200, "OK", &tag, SDP));
            debug_assert!(self.sent.iter().any(|s| s.starts_with("ACK ")));
        }
        for (handle, _) in &calls {
            self.sent.clear();
            self.endpoint.hangup(self.now, *handle).expect("hangup");
            self.drain();
            let bye = self.sent.pop().expect("BYE sent");
            self.feed(&response(&bye, 200, "OK", "", ""));
        }
        // Let every transaction run out (Timer K, Timer M) so nothing accumulates.
        self.now += Duration::from_secs(64);
        self.endpoint.handle_timeout(self.now);
        self.drain();
        debug_assert_eq!(self.endpoint.call_count(), 0);
    }
}

fn outgoing(c: &mut Criterion) {
    let mut group = c.benchmark_group("outgoing_calls");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("invite_180_200_ack_bye_x100", |b| {
        let mut bench = Bench::new();
        b.iter(|| {
            bench.batch();
            black_box(bench.answered)
        });
        assert!(bench.answered > 0);
        assert_eq!(bench.endpoint.call_count(), 0, "calls leak");
        assert_eq!(
            bench.endpoint.transaction_count(),
            (0, 0),
            "transactions leak"
        );
    });
    group.finish();
}

criterion_group!(benches, outgoing);
criterion_main!(benches);
