//! A scripted SIP phone and a harness around the endpoint with a virtual clock: tests
//! write requests as text, step time, and read back what the endpoint sent.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use konferenz_sip::{
    CallHandle, Endpoint, EndpointConfig, Event, LocalMedia, Output, PCMA, PCMU, Timers, Transmit,
    Transport,
};
use sipx_sip::{Limits, Message, Response};

pub const SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 5060);
pub const PHONE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 5070);

/// SDP offers a phone might send.
pub fn offer(formats: &str, rtpmaps: &[&str], direction: &str) -> String {
    let mut s = format!(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP {formats}\r\n"
    );
    for m in rtpmaps {
        s.push_str(&format!("a=rtpmap:{m}\r\n"));
    }
    s.push_str(&format!("a={direction}\r\n"));
    s
}

pub fn pcmu_offer() -> String {
    offer(
        "0 8 101",
        &["0 PCMU/8000", "8 PCMA/8000", "101 telephone-event/8000"],
        "sendrecv",
    )
}

/// The endpoint under test plus a virtual clock and everything it said.
pub struct Harness {
    pub endpoint: Endpoint,
    pub now: Instant,
    pub sent: Vec<(Instant, Transmit)>,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// A harness whose endpoint config `adjust` changed first.
    pub fn with(adjust: impl FnOnce(&mut EndpointConfig)) -> Self {
        let mut config = EndpointConfig {
            local_addr: SERVER,
            user_agent: "konferenz-test".into(),
            codecs: vec![PCMU, PCMA],
            timers: Timers::default(),
            tls_port: None,
            srtp: konferenz_sip::SrtpPolicy::default(),
        };
        adjust(&mut config);
        let endpoint = Endpoint::new(config, 7);
        Self {
            endpoint,
            now: Instant::now(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A datagram from the phone.
    pub fn udp(&mut self, text: &str) {
        self.endpoint
            .handle_datagram(self.now, PHONE, text.as_bytes());
        self.drain();
    }

    /// A message framed off a TCP connection from the phone.
    pub fn tcp(&mut self, text: &str) {
        self.stream(Transport::Tcp, text);
    }

    /// A message framed off a TLS connection from the phone.
    pub fn tls(&mut self, text: &str) {
        self.stream(Transport::Tls, text);
    }

    fn stream(&mut self, transport: Transport, text: &str) {
        let message = sipx_sip::parse_datagram(
            bytes::Bytes::copy_from_slice(text.as_bytes()),
            &Limits::stream(),
        )
        .expect("test message parses");
        self.endpoint
            .handle_message(self.now, transport, PHONE, message);
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit(t) => self.sent.push((self.now, t)),
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    /// Advances virtual time to `until`, firing every timer on the way.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(at) = self.endpoint.poll_timeout() {
            if at > until {
                break;
            }
            self.now = at.max(self.now);
            self.endpoint.handle_timeout(self.now);
            self.drain();
        }
        self.now = until.max(self.now);
    }

    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    pub fn accept(&mut self, call: CallHandle) {
        let local = LocalMedia::plain(SocketAddr::from((Ipv4Addr::LOCALHOST, 20_000)));
        self.accept_with(call, local);
    }

    pub fn accept_with(&mut self, call: CallHandle, local: LocalMedia) {
        self.endpoint.accept(self.now, call, local).expect("accept");
        self.drain();
    }

    /// The one IncomingCall announced so far.
    pub fn incoming(&self) -> CallHandle {
        let calls: Vec<_> = self
            .events
            .iter()
            .filter_map(|e| match e {
                Event::IncomingCall { call, .. } => Some(*call),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 1, "events: {:?}", self.events);
        calls[0]
    }

    /// Every response sent, parsed, with its send time.
    pub fn responses(&self) -> Vec<(Instant, Response)> {
        self.sent
            .iter()
            .filter_map(|(at, t)| {
                match sipx_sip::parse_datagram(t.bytes.clone(), &Limits::datagram()) {
                    Ok(Message::Response(r)) => Some((*at, r)),
                    _ => None,
                }
            })
            .collect()
    }

    pub fn statuses(&self) -> Vec<u16> {
        self.responses()
            .iter()
            .map(|(_, r)| r.status.code())
            .collect()
    }

    /// Requests the endpoint sent (BYE), as text.
    pub fn requests(&self) -> Vec<(Instant, String)> {
        self.sent
            .iter()
            .filter(|(_, t)| !t.bytes.starts_with(b"SIP/2.0"))
            .map(|(at, t)| (*at, String::from_utf8_lossy(&t.bytes).into_owned()))
            .collect()
    }

    /// The To tag of the last response.
    pub fn to_tag(&self) -> String {
        let (_, r) = self.responses().pop().expect("a response");
        let to = r.headers.value(&sipx_sip::HeaderName::To).expect("To");
        let to = String::from_utf8_lossy(&to).into_owned();
        to.split(";tag=").nth(1).expect("tag").to_owned()
    }

    pub fn body_of_last(&self) -> String {
        let (_, r) = self.responses().pop().expect("a response");
        String::from_utf8_lossy(r.body()).into_owned()
    }
}

/// A request from the phone, with the headers a real phone sends.
pub struct Req<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub branch: &'a str,
    pub cseq: u32,
    pub to_tag: Option<&'a str>,
    pub call_id: &'a str,
    pub transport: &'a str,
    pub body: &'a str,
    pub extra: &'a str,
}

impl Default for Req<'_> {
    fn default() -> Self {
        Self {
            method: "INVITE",
            uri: "sip:800@127.0.0.1:5060",
            branch: "z9hG4bK-1",
            cseq: 1,
            to_tag: None,
            call_id: "call-1@phone",
            transport: "UDP",
            body: "",
            extra: "",
        }
    }
}

impl Req<'_> {
    pub fn text(&self) -> String {
        let to_tag = self.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let content_type = if self.body.is_empty() {
            String::new()
        } else {
            "Content-Type: application/sdp\r\n".into()
        };
        format!(
            "{m} {uri} SIP/2.0\r\nVia: SIP/2.0/{tp} 127.0.0.1:5070;branch={br};rport\r\nMax-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=ph1\r\nTo: <sip:800@127.0.0.1:5060>{to_tag}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {cm}\r\nContact: <sip:alice@127.0.0.1:5070>\r\n{extra}{ct}Content-Length: {len}\r\n\r\n{body}",
            m = self.method,
            uri = self.uri,
            tp = self.transport,
            br = self.branch,
            cid = self.call_id,
            cseq = self.cseq,
            cm = self.method,
            extra = self.extra,
            ct = content_type,
            len = self.body.len(),
            body = self.body,
        )
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
