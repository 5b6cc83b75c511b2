//! The room's audio rules on an in-memory network and virtual time (no sockets): who
//! hears whom, muting, talking, dead-call detection, symmetric RTP and the source latch.

mod support;

use std::time::{Duration, Instant};

use konferenz_conference::*;
use konferenz_media::{Codec, LegConfig};
use support::net::{FakeIo, Net, Ports, TestPhone};
use support::room::{join_800, quiet_room};

fn target(phone: &TestPhone, ssrc: u32) -> MediaTarget {
    MediaTarget {
        config: LegConfig {
            codec: Codec::Pcmu,
            payload_type: 0,
            dtmf_payload_type: None,
            ssrc,
        },
        remote: Some(phone.socket.addr),
        send: true,
        srtp: None,
    }
}

fn room(timeout_ms: u64) -> Room<Ports> {
    quiet_room(Duration::from_millis(timeout_ms))
}

/// Joins each phone; returns the room's address for each.
fn join_all(
    net: &Net,
    room: &mut Room<Ports>,
    t0: Instant,
    phones: &[&TestPhone],
) -> Vec<std::net::SocketAddr> {
    phones
        .iter()
        .enumerate()
        .map(|(i, phone)| {
            let ports = net.ports();
            let addr = ports.rtp.addr;
            room.command(t0, join_800(i as u64, ports, target(phone, 100 + i as u32)));
            addr
        })
        .collect()
}

#[test]
fn each_participant_hears_the_others_summed_and_not_itself() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut phones = [
        TestPhone::new(&net, 1, 1000),
        TestPhone::new(&net, 2, 3000),
        TestPhone::new(&net, 3, 5000),
    ];
    let addrs = join_all(&net, &mut room, t0, &phones.iter().collect::<Vec<_>>());
    let mut events = Vec::new();
    for n in 0..20u32 {
        for (phone, addr) in phones.iter_mut().zip(&addrs) {
            phone.send_frame(*addr);
        }
        room.tick(
            t0 + Duration::from_millis(20 * u64::from(n)),
            &mut FakeIo,
            &mut events,
        );
    }
    let heard: Vec<i16> = phones
        .iter()
        .map(|p| p.heard().expect("audio arrives"))
        .collect();
    // G.711 is within a few percent of the linear value at these levels.
    for (got, want) in heard.iter().zip([8000, 6000, 4000]) {
        assert!(
            (i32::from(*got) - want).abs() < want / 20,
            "heard {heard:?}"
        );
    }
    let talking = events
        .iter()
        .filter(|e| matches!(e, RoomEvent::Talking { talking: true, .. }))
        .count();
    assert_eq!(talking, 3, "all three talk: {events:?}");
    assert!(
        events
            .iter()
            .all(|e| matches!(e, RoomEvent::Joined { .. } | RoomEvent::Talking { .. })),
        "{events:?}"
    );
}

#[test]
fn a_stranger_cannot_take_over_a_participants_stream() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut phone = TestPhone::new(&net, 1, 1000);
    let mut other = TestPhone::new(&net, 2, 3000);
    let mut stranger = TestPhone::new(&net, 9, 9000);
    let addrs = join_all(&net, &mut room, t0, &[&phone, &other]);
    let mut events = Vec::new();
    let mut at = t0;
    for n in 0..30u32 {
        at = t0 + Duration::from_millis(20 * u64::from(n));
        phone.send_frame(addrs[0]);
        other.send_frame(addrs[1]);
        // Once the phone is latched, a stranger sends to its port, twice the rate.
        if n >= 5 {
            stranger.send_frame(addrs[0]);
            stranger.send_frame(addrs[0]);
        }
        room.tick(at, &mut FakeIo, &mut events);
    }
    let heard_by_other = other.heard().expect("audio arrives");
    assert!(
        (i32::from(heard_by_other) - 1000).abs() < 50,
        "the other participant hears the phone, not the stranger: {heard_by_other}"
    );
    assert_eq!(
        stranger.heard(),
        None,
        "the stranger hears nothing of the room"
    );
    assert!(phone.heard().is_some(), "the phone still gets the room");
    // The phone goes quiet for longer than the re-latch time: a stranger still cannot take
    // the stream, however fast it sends, without the stream's SSRC and sequence.
    let mut later = at + RELATCH_AFTER + Duration::from_millis(20);
    stranger.heard();
    for _ in 0..50u32 {
        later += Duration::from_millis(20);
        for _ in 0..5 {
            stranger.send_frame(addrs[0]);
        }
        room.tick(later, &mut FakeIo, &mut events);
    }
    assert_eq!(
        stranger.heard(),
        None,
        "a silent phone's stream stays its own"
    );
    let foreign = room.participant_stats(CallId(0)).unwrap().foreign;
    assert!(
        foreign >= 250 + 50,
        "dropped packets are counted: {foreign}"
    );
    // Even the right SSRC from elsewhere is refused when the sequence does not continue.
    let mut guesser = TestPhone::new(&net, 100, 9000);
    guesser.seq = phone.seq.wrapping_add(5000);
    for _ in 0..10u32 {
        later += Duration::from_millis(20);
        guesser.send_frame(addrs[0]);
        room.tick(later, &mut FakeIo, &mut events);
    }
    assert_eq!(guesser.heard(), None, "right SSRC, wrong sequence: refused");
}

#[test]
fn a_phone_that_moves_keeps_its_stream_and_a_stranger_racing_it_loses() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut phone = TestPhone::new(&net, 1, 1000);
    let mut other = TestPhone::new(&net, 2, 3000);
    let mut stranger = TestPhone::new(&net, 9, 9000);
    let addrs = join_all(&net, &mut room, t0, &[&phone, &other]);
    let mut events = Vec::new();
    // A stranger's packet arrives first; the phone's own (its SDP's address) takes over.
    stranger.send_frame(addrs[0]);
    room.tick(t0, &mut FakeIo, &mut events);
    let mut at = t0;
    for n in 1..20u32 {
        at = t0 + Duration::from_millis(20 * u64::from(n));
        phone.send_frame(addrs[0]);
        other.send_frame(addrs[1]);
        stranger.send_frame(addrs[0]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    stranger.levels();
    let heard = other.heard().expect("audio arrives");
    assert!(
        (i32::from(heard) - 1000).abs() < 50,
        "the phone is heard: {heard}"
    );
    for _ in 0..3 {
        at += Duration::from_millis(20);
        stranger.send_frame(addrs[0]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    assert_eq!(stranger.heard(), None, "the stranger gets nothing");

    // The phone's NAT binding changes: it goes quiet, then sends from a new address with
    // its SSRC and the next sequence numbers (a few lost on the way). The stream follows.
    let mut moved = TestPhone::new(&net, 1, 1000);
    moved.seq = phone.seq.wrapping_add(3);
    at += RELATCH_AFTER + Duration::from_millis(20);
    for _ in 0..10u32 {
        at += Duration::from_millis(20);
        moved.send_frame(addrs[0]);
        other.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    assert!(
        moved.heard().is_some(),
        "the room's audio follows the phone"
    );
    let heard = other.heard().expect("audio arrives");
    assert!(
        (i32::from(heard) - 1000).abs() < 50,
        "and it is still heard: {heard}"
    );
}

#[test]
fn silent_participant_is_reported_once_after_the_timeout() {
    let net = Net::new();
    let mut room = room(1000);
    let t0 = Instant::now();
    let mut talker = TestPhone::new(&net, 1, 1000);
    let mute = TestPhone::new(&net, 2, 0);
    let addrs = join_all(&net, &mut room, t0, &[&talker, &mute]);
    let mut events = Vec::new();
    for n in 0..100u64 {
        talker.send_frame(addrs[0]);
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
    }
    let timeouts: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, RoomEvent::MediaTimeout { .. }))
        .collect();
    assert_eq!(timeouts.len(), 1, "{events:?}");
    assert!(matches!(
        timeouts[0],
        RoomEvent::MediaTimeout { call: CallId(1) }
    ));
}

#[test]
fn audio_goes_to_where_packets_come_from() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut a = TestPhone::new(&net, 1, 4000);
    let mut b = TestPhone::new(&net, 2, 0);
    // B's SDP names an address nobody listens on; B's packets come from its real one.
    let mut wrong = target(&b, 21);
    wrong.remote = Some("127.0.0.1:9".parse().unwrap());
    let a_ports = net.ports();
    let a_addr = a_ports.rtp.addr;
    let b_ports = net.ports();
    let b_addr = b_ports.rtp.addr;
    room.command(t0, join_800(1, a_ports, target(&a, 20)));
    room.command(t0, join_800(2, b_ports, wrong));
    let mut events = Vec::new();
    for n in 0..10u64 {
        a.send_frame(a_addr);
        b.send_frame(b_addr);
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
    }
    let heard = b.heard().expect("B hears A at its real address");
    assert!((i32::from(heard) - 4000).abs() < 200, "{heard}");
}

#[test]
fn a_muted_participant_is_not_heard_but_still_hears_and_does_not_talk() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut phones = [TestPhone::new(&net, 1, 3000), TestPhone::new(&net, 2, 5000)];
    let addrs = join_all(&net, &mut room, t0, &phones.iter().collect::<Vec<_>>());
    room.command(
        t0,
        RoomCommand::Mute {
            call: CallId(1),
            muted: true,
        },
    );
    let mut events = Vec::new();
    for n in 0..20u64 {
        for (phone, addr) in phones.iter_mut().zip(&addrs) {
            phone.send_frame(*addr);
        }
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
    }
    let heard: Vec<i16> = phones
        .iter()
        .map(|p| p.heard().expect("audio arrives"))
        .collect();
    assert!(
        heard[0].abs() < 50,
        "phone 0 does not hear the muted phone 1: {heard:?}"
    );
    assert!(
        (i32::from(heard[1]) - 3000).abs() < 150,
        "the muted phone hears phone 0: {heard:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            RoomEvent::Talking {
                call: CallId(1),
                talking: true
            }
        )),
        "a muted participant is not talking to the room: {events:?}"
    );
}

#[test]
fn talking_stops_after_the_speaker_falls_quiet() {
    let net = Net::new();
    let mut room = room(0);
    let t0 = Instant::now();
    let mut loud = TestPhone::new(&net, 1, 3000);
    let mut quiet = TestPhone::new(&net, 2, 0);
    let addrs = join_all(&net, &mut room, t0, &[&loud, &quiet]);
    let mut events = Vec::new();
    for n in 0..20u64 {
        loud.send_frame(addrs[0]);
        quiet.send_frame(addrs[1]);
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
    }
    loud.level = 0;
    for n in 20..80u64 {
        loud.send_frame(addrs[0]);
        quiet.send_frame(addrs[1]);
        room.tick(t0 + Duration::from_millis(20 * n), &mut FakeIo, &mut events);
    }
    let changes: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            RoomEvent::Talking {
                call: CallId(0),
                talking,
            } => Some(*talking),
            _ => None,
        })
        .collect();
    assert_eq!(changes, [true, false], "{events:?}");
}
