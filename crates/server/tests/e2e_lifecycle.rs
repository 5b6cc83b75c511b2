//! The real server's call life cycle with baresip phones: unknown rooms are refused, SIP over
//! TCP works beside UDP, and SIGTERM hangs up every call with BYE before the server exits.

mod support;

use std::time::Duration;

use support::audio::{read_wav, tone_absent, tone_present};
use support::{Phone, PhoneConfig, Server};

const SETUP: Duration = Duration::from_secs(10);

#[test]
fn unknown_room_is_refused_with_404() {
    let server = Server::start();
    let mut phone = Phone::start(PhoneConfig::new("lost", 790.0));
    phone.dial(&server.uri("999"));
    let closed = phone.wait_closed(SETUP);
    assert!(closed.to_string().contains("404"), "CALL_CLOSED: {closed}");
    phone.quit();
}

#[test]
fn tcp_and_udp_phones_share_a_room() {
    let server = Server::start();
    let mut tcp = Phone::start(PhoneConfig::new("tcp", 790.0));
    let mut udp = Phone::start(PhoneConfig::new("udp", 1190.0));
    tcp.dial(&format!("{};transport=tcp", server.uri("800")));
    udp.dial(&server.uri("800"));
    tcp.wait_established(SETUP);
    udp.wait_established(SETUP);
    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation
    tcp.hangup();
    udp.hangup();
    let (rate, heard_by_tcp) = read_wav(&tcp.heard_wav()).unwrap();
    let (_, heard_by_udp) = read_wav(&udp.heard_wav()).unwrap();
    assert!(tone_present(&heard_by_tcp, rate, 1190.0) && tone_absent(&heard_by_tcp, rate, 790.0));
    assert!(tone_present(&heard_by_udp, rate, 790.0) && tone_absent(&heard_by_udp, rate, 1190.0));
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(
        log.contains("transport=Tcp"),
        "the TCP phone really used TCP"
    );
    tcp.quit();
    udp.quit();
}

#[test]
fn sigterm_hangs_up_every_call_and_exits_cleanly() {
    let mut server = Server::start();
    let mut a = Phone::start(PhoneConfig::new("a", 790.0));
    let mut b = Phone::start(PhoneConfig::new("b", 1190.0));
    a.dial(&server.uri("800"));
    b.dial(&server.uri("800"));
    a.wait_established(SETUP);
    b.wait_established(SETUP);
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("server exits after SIGTERM");
    assert!(status.success(), "exit status {status}");
    a.wait_closed(Duration::from_secs(5));
    b.wait_closed(Duration::from_secs(5));
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(
        log.contains("calls=2") && log.contains("hung up every call"),
        "{log}"
    );
    a.quit();
    b.quit();
}
