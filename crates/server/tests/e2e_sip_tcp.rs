//! SIP over TCP under abuse, against the real server with small `[limits]`: connections
//! beyond the per-source limit are closed at once while the admitted ones work; an idle
//! connection and one that never finishes its message are closed after their timeouts; a
//! request followed by junk in the same segment is still answered before the connection
//! closes. Throughout, a fresh connection and UDP keep being answered.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use support::{Server, ServerOptions};

fn options(port: u16, transport: &str, branch: &str) -> String {
    format!(
        "OPTIONS sip:800@127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5999;branch=z9hG4bK-{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag={branch}\r\n\
         To: <sip:800@127.0.0.1>\r\nCall-ID: {branch}@tester\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", server.sip_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

/// What the server sent until it closed the connection or `wait` passed; `true` if closed.
fn read_until_closed(s: &mut TcpStream, wait: Duration) -> (String, bool) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < wait {
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (String::from_utf8_lossy(&got).into(), true),
        }
    }
    (String::from_utf8_lossy(&got).into(), false)
}

fn tcp_answers(server: &Server, branch: &str) -> bool {
    let mut s = connect(server);
    s.write_all(options(server.sip_port, "TCP", branch).as_bytes())
        .unwrap();
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(2));
    text.starts_with("SIP/2.0 200")
}

fn udp_answers(server: &Server) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
        .send_to(
            options(server.sip_port, "UDP", "udp").as_bytes(),
            ("127.0.0.1", server.sip_port),
        )
        .unwrap();
    let mut buf = [0u8; 4096];
    socket
        .recv(&mut buf)
        .is_ok_and(|n| buf[..n].starts_with(b"SIP/2.0 200"))
}

fn server_with(idle_secs: u64) -> Server {
    Server::start_with(&ServerOptions::default().room("800").config(&format!(
        "[limits]\ntcp_connections_per_source = 4\ntcp_idle_secs = {idle_secs}\n\
         tcp_message_secs = 2\n"
    )))
}

fn server() -> Server {
    server_with(2)
}

#[test]
fn connections_beyond_the_per_source_limit_are_closed_and_the_rest_work() {
    let server = server_with(30);
    let mut admitted: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut refused = 0;
    for _ in 0..6 {
        let mut s = connect(&server);
        let (_, closed) = read_until_closed(&mut s, Duration::from_millis(600));
        refused += usize::from(closed);
    }
    assert_eq!(refused, 6, "every connection over the limit is closed");
    for (i, s) in admitted.iter_mut().enumerate() {
        s.write_all(options(server.sip_port, "TCP", &format!("a{i}")).as_bytes())
            .unwrap();
        let (text, _) = read_until_closed(s, Duration::from_millis(800));
        assert!(text.starts_with("SIP/2.0 200"), "admitted {i}: {text:?}");
    }
    drop(admitted);
    std::thread::sleep(Duration::from_millis(300));
    assert!(tcp_answers(&server, "after"), "slots are given back");
    assert!(udp_answers(&server));
}

#[test]
fn idle_and_unfinished_connections_are_closed_after_their_timeouts() {
    let server = server();
    let mut idle = connect(&server);
    let mut slow = connect(&server);
    let text =
        options(server.sip_port, "TCP", "slow").replace("Content-Length: 0", "Content-Length: 100");
    slow.write_all(text.as_bytes()).unwrap();
    slow.write_all(b"v=0\r\n").unwrap();
    let started = Instant::now();
    let (_, slow_closed) = read_until_closed(&mut slow, Duration::from_secs(5));
    let slow_after = started.elapsed();
    let (_, idle_closed) = read_until_closed(&mut idle, Duration::from_secs(5));
    let idle_after = started.elapsed();
    assert!(slow_closed, "an unfinished message is not given forever");
    assert!(
        slow_after >= Duration::from_millis(1500),
        "closed too early: {slow_after:?}"
    );
    assert!(idle_closed, "an idle connection is closed");
    assert!(
        idle_after < Duration::from_secs(5),
        "idle closed after {idle_after:?}"
    );
    assert!(tcp_answers(&server, "still"));
}

#[test]
fn a_request_followed_by_junk_in_one_segment_is_answered_before_closing() {
    let server = server();
    let mut s = connect(&server);
    let segment = format!(
        "{}this is not SIP at all\r\n\r\n",
        options(server.sip_port, "TCP", "junk")
    );
    s.write_all(segment.as_bytes()).unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(3));
    assert!(
        text.starts_with("SIP/2.0 200"),
        "the request before the junk is answered: {text:?}"
    );
    assert!(closed, "the unframeable stream is closed");
    assert!(tcp_answers(&server, "next"));
    assert!(udp_answers(&server));
}

#[test]
fn unframeable_and_oversized_requests_are_answered_then_closed() {
    let server = server_with(30);
    // RFC 4475 §3.1.2.7 (ltgtruri): a Request-URI in angle brackets cannot be read.
    let mut s = connect(&server);
    let bad = options(server.sip_port, "TCP", "ltgt").replacen(
        &format!("OPTIONS sip:800@127.0.0.1:{} SIP/2.0", server.sip_port),
        &format!("OPTIONS <sip:800@127.0.0.1:{}> SIP/2.0", server.sip_port),
        1,
    );
    s.write_all(bad.as_bytes()).unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(3));
    assert!(text.starts_with("SIP/2.0 400"), "{text:?}");
    assert!(
        text.contains("branch=z9hG4bK-ltgt"),
        "answered to its Via: {text:?}"
    );
    assert!(closed);

    // A 70 KB header field: 513 Message Too Large, not a silent close.
    let mut s = connect(&server);
    let big = options(server.sip_port, "TCP", "big").replacen(
        "Content-Length: 0\r\n",
        &format!("X-Padding: {}\r\nContent-Length: 0\r\n", "a".repeat(70_000)),
        1,
    );
    s.write_all(big.as_bytes()).unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(3));
    assert!(
        text.starts_with("SIP/2.0 513"),
        "{:?}",
        &text[..text.len().min(200)]
    );
    assert!(closed);
    assert!(tcp_answers(&server, "after"));
}
