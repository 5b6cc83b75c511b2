//! An outsider cannot take over a participant's audio: two real phones (baresip) talk in
//! room 800 while a stranger floods the first phone's server RTP and RTCP ports with its
//! own stream at 250 packets a second (the rate that took streams over before the source
//! latch, build e3135d7). The stranger must get none of the room's audio, the other phone
//! must hear the first phone and not the stranger, and the server must count the dropped
//! datagrams.
//!
//! Tones: phones 790 and 1190 Hz, the stranger 1780 Hz (no intermodulation product lands
//! near another tone).

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use konferenz_media::linear_to_ulaw;
use support::audio::{fraction_between, read_wav, tone_samples};
use support::{Phone, PhoneConfig, Server, poll_until};

const SETUP: Duration = Duration::from_secs(10);
const RATE: u32 = 250;

/// Sends a 1780 Hz µ-law stream (SSRC of its own) to `to`, and RTCP receiver reports to
/// the next port, for `duration`; returns how many datagrams came back to it.
fn flood(to: SocketAddr, duration: Duration) -> (u64, u64) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let rtcp_to = SocketAddr::new(to.ip(), to.port() + 1);
    let tone: Vec<u8> = tone_samples(1780.0, 1.0)
        .into_iter()
        .map(linear_to_ulaw)
        .collect();
    let (mut sent, mut back) = (0u64, 0u64);
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let (mut seq, mut ts) = (7u16, 0u32);
    while start.elapsed() < duration {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x5eed_beefu32.to_be_bytes());
        let at = (ts as usize) % (tone.len() - 160);
        p.extend_from_slice(&tone[at..at + 160]);
        socket.send_to(&p, to).unwrap();
        // An empty receiver report (RFC 3550 §6.4.2) from the same SSRC.
        let mut rr = vec![0x80, 201, 0, 1];
        rr.extend_from_slice(&0x5eed_beefu32.to_be_bytes());
        socket.send_to(&rr, rtcp_to).unwrap();
        sent += 2;
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
        while socket.recv_from(&mut buf).is_ok() {
            back += 1;
        }
        std::thread::sleep(Duration::from_micros(1_000_000 / u64::from(RATE)));
    }
    std::thread::sleep(Duration::from_millis(200));
    while socket.recv_from(&mut buf).is_ok() {
        back += 1;
    }
    (sent, back)
}

#[test]
fn a_stranger_flooding_a_participants_port_gets_nothing_and_is_not_heard() {
    let server = Server::start();
    let mut anna = Phone::start(PhoneConfig::new("anna", 790.0));
    anna.dial(&server.uri("800"));
    anna.wait_established(SETUP);
    // Anna's call is the first: the lowest pair of the server's RTP range is hers.
    poll_until(SETUP, || {
        (server.metric("konferenz_participants")? >= 1.0).then_some(())
    })
    .expect("anna joined");
    let mut bert = Phone::start(PhoneConfig::new("bert", 1190.0));
    bert.dial(&server.uri("800"));
    bert.wait_established(SETUP);
    poll_until(SETUP, || {
        (server.metric("konferenz_participants")? >= 2.0).then_some(())
    })
    .expect("bert joined");
    std::thread::sleep(Duration::from_secs(1));

    let target = SocketAddr::from(([127, 0, 0, 1], server.rtp_ports.0));
    let (sent, back) = flood(target, Duration::from_secs(4));
    bert.hangup();
    anna.hangup();

    assert_eq!(
        back, 0,
        "the stranger received {back} datagrams of the room"
    );
    let foreign = server
        .metric("konferenz_rtp_packets_foreign_total")
        .unwrap_or(0.0);
    // Counted as they are drained (a few may still sit in a socket buffer at the hang-up).
    assert!(
        foreign >= sent as f64 * 0.8,
        "{sent} sent by the stranger, {foreign} counted as foreign"
    );
    let (rate, heard) = read_wav(&bert.heard_wav()).expect("bert's recording");
    let end = heard.len() as f64 / f64::from(rate);
    let anna_heard = fraction_between(&heard, rate, 790.0, end - 3.2, end - 0.2);
    let stranger_heard = fraction_between(&heard, rate, 1780.0, end - 3.2, end - 0.2);
    assert!(
        anna_heard > 0.5,
        "bert still hears anna through the flood: {anna_heard}"
    );
    assert!(
        stranger_heard < 0.02,
        "bert hears the stranger: {stranger_heard}"
    );
    anna.quit();
    bert.quit();
}
