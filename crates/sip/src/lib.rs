//! konferenz-sip: the SIP user-agent server as a sans-IO state machine — message parsing
//! by sipx-sip, transactions by its RFC 3261/6026 machines, and our transaction user:
//! dialogs, SDP offer/answer, 2xx retransmission, CANCEL and BYE; and the framing of SIP
//! over a byte stream ([`Framer`]) for the server's TCP transport.

mod admission;
mod bad_request;
mod call;
pub mod digest;
mod endpoint;
mod headers;
mod info;
pub mod sdp;
mod stats;
mod stream_framer;
mod timer_queue;

pub use admission::AdmissionConfig;
pub use call::CallHandle;
pub use endpoint::{
    CallError, EndReason, Endpoint, EndpointConfig, EndpointStats, Event, OutgoingCall, Output,
    RegisterAnswer, RegisterContact, RegisterRequest, Registration, SrtpPolicy, Transmit,
    Transport, default_timers,
};
pub use sdp::{CodecSpec, CryptoSuite, Direction, LocalMedia, LocalSrtp, NegotiatedMedia, SdesKey};
pub use sipx_sip::{Limits, Message, StreamParser, Timers};
pub use stats::{TransactionSide, TransactionStats};
pub use stream_framer::{Framed, Framer, Refused};

/// Opus (RFC 7587), always written `opus/48000/2` in SDP; a dynamic payload type.
pub const OPUS: CodecSpec = CodecSpec {
    name: "opus",
    clock_rate: 48000,
    static_payload_type: None,
};
/// G.722 (wideband), whose RTP clock is written 8000 (RFC 3551 §4.5.2).
pub const G722: CodecSpec = CodecSpec {
    name: "G722",
    clock_rate: 8000,
    static_payload_type: Some(9),
};
/// G.711 µ-law as negotiated in SDP.
pub const PCMU: CodecSpec = CodecSpec {
    name: "PCMU",
    clock_rate: 8000,
    static_payload_type: Some(0),
};
/// G.711 A-law as negotiated in SDP.
pub const PCMA: CodecSpec = CodecSpec {
    name: "PCMA",
    clock_rate: 8000,
    static_payload_type: Some(8),
};

/// The host (name or IP, brackets removed) and port (default 5060) of a SIP URI, for
/// resolving where a call goes.
pub fn parse_uri(text: &str) -> Option<(String, u16)> {
    let (host, port) = uri_host_port(text)?;
    Some((host, port.unwrap_or(5060)))
}

/// The host (name or IP, brackets removed) of a SIP URI and its port if the URI names one
/// (RFC 3263 resolves a name without a port through NAPTR and SRV).
pub fn uri_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let uri = sipx_sip::Uri::parse(bytes::Bytes::copy_from_slice(text.as_bytes())).ok()?;
    let host = String::from_utf8_lossy(&uri.host()?.to_bytes()).into_owned();
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Some((host, uri.port()))
}

/// The user part of a SIP URI (`sip:alice@host` → `alice`), percent-decoded.
pub fn uri_user(text: &str) -> Option<String> {
    let uri = sipx_sip::Uri::parse(bytes::Bytes::copy_from_slice(text.as_bytes())).ok()?;
    Some(String::from_utf8_lossy(&uri.decoded_user()?).into_owned())
}

#[doc(hidden)]
/// Fuzzing entry: `value` as a phone's `Authorization` header, parsed and checked.
pub fn fuzz_authorization(value: &str, now: std::time::Instant) {
    let mut server =
        digest::DigestServer::new("fuzz", "secret", now, std::time::Duration::from_secs(300))
            .with_algorithms(&[
                digest::DigestAlgorithm::Sha256,
                digest::DigestAlgorithm::Md5,
            ]);
    if let Some(answer) = digest::Answer::parse(value) {
        let _ = answer.username();
        let _ = server.check(
            now,
            &answer,
            "REGISTER",
            &digest::Ha1::compute("201", "fuzz", "pw"),
        );
    }
}

/// Fuzzing entry: the body of a SIP INFO as the endpoint reads it for a key press —
/// `application/dtmf-relay` when `dtmf_relay`, else `application/dtmf`. Returns the key
/// (`0`–`9`, `*`, `#`, `A`–`D`) or None. Must never panic.
#[doc(hidden)]
pub fn fuzz_dtmf_info(dtmf_relay: bool, body: &[u8]) -> Option<char> {
    info::dtmf_digit(if dtmf_relay { "dtmf-relay" } else { "dtmf" }, body)
}

/// Fuzzing entry: feeds `data` to an endpoint as one UDP datagram, answers any call it
/// announces, and runs its timers to the end. Must never panic. `now` is the virtual start
/// time (the caller reads the clock; this crate never does).
#[doc(hidden)]
pub fn fuzz_datagram(data: &[u8], now: std::time::Instant) {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Duration;
    let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 5060));
    let mut endpoint = Endpoint::new(
        EndpointConfig {
            local_addr: local,
            user_agent: "fuzz".into(),
            codecs: vec![OPUS, G722, PCMU, PCMA],
            timers: Timers::default(),
            tls_port: None,
            srtp: crate::SrtpPolicy::default(),
        },
        1,
    );
    let from = SocketAddr::from((Ipv4Addr::LOCALHOST, 5070));
    endpoint.handle_datagram(now, from, data);
    let rtp = LocalMedia::plain(SocketAddr::from((Ipv4Addr::LOCALHOST, 20000)));
    let mut digest = digest::DigestServer::new("fuzz", "secret", now, Duration::from_secs(300));
    let ha1 = digest::Ha1::compute("201", "fuzz", "password");
    while let Some(output) = endpoint.poll_output() {
        match output {
            Output::Event(Event::IncomingCall { call, .. }) => {
                let _ = endpoint.accept(now, call, rtp.clone());
            }
            // A registrar's answers: challenge, or check the credentials and bind.
            Output::Event(Event::Register(r)) => {
                let answer = match r.authorization.as_deref().and_then(digest::Answer::parse) {
                    Some(a) if digest.check(now, &a, "REGISTER", &ha1) == digest::Check::Valid => {
                        let bindings = r.contacts.iter().map(|c| (c.uri.clone(), 60)).collect();
                        RegisterAnswer::Bindings(bindings)
                    }
                    _ => RegisterAnswer::Challenge(digest.challenges(now, false)),
                };
                endpoint.answer_register(now, r.id, answer);
            }
            _ => {}
        }
    }
    let mut t = now;
    for _ in 0..64 {
        match endpoint.poll_timeout() {
            Some(at) => t = at.max(t),
            None => break,
        }
        endpoint.handle_timeout(t);
        while endpoint.poll_output().is_some() {}
        t += Duration::from_millis(1);
    }
}
