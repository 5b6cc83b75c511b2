//! An encrypted participant (SRTP, keys by SDES) in a room on the in-memory network with
//! virtual time: it hears the room and is heard once its packets authenticate; plain or
//! forged packets to its port are neither heard nor move its latch, even from its own
//! address; nothing of the room reaches it in the clear; new keys on a re-INVITE take
//! effect.

mod support;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use konferenz_conference::*;
use konferenz_media::srtp::{Keys, Srtp, Suite};
use konferenz_media::{Codec, LegConfig};
use support::net::{FakeIo, Net, TestPhone};
use support::room::{join, quiet_room};

const SERVER_KEY: [u8; 30] = [0x33; 30];
const PHONE_KEY: [u8; 30] = [0x44; 30];

fn keys() -> Keys {
    Keys {
        suite: Suite::AesCm128HmacSha1_80,
        local: SERVER_KEY,
        remote: PHONE_KEY,
    }
}

/// The phone's side of `keys` (its key is the server's remote one).
fn phone_side(keys: Keys) -> RefCell<Srtp> {
    RefCell::new(
        Srtp::new(Keys {
            suite: keys.suite,
            local: keys.remote,
            remote: keys.local,
        })
        .unwrap(),
    )
}

fn target(phone: &TestPhone, ssrc: u32, srtp: Option<Keys>) -> MediaTarget {
    MediaTarget {
        config: LegConfig {
            codec: Codec::Pcmu,
            payload_type: 0,
            dtmf_payload_type: None,
            ssrc,
        },
        remote: Some(phone.socket.addr),
        send: true,
        srtp,
    }
}

#[test]
fn an_encrypted_participant_hears_and_is_heard_and_forgeries_are_not() {
    let net = Net::new();
    let mut room = quiet_room(Duration::ZERO);
    let t0 = Instant::now();
    let mut secure = TestPhone::new(&net, 1, 1000);
    secure.srtp = Some(phone_side(keys()));
    let mut plain = TestPhone::new(&net, 2, 3000);
    let addrs = [
        join(&mut room, &net, t0, 0, target(&secure, 100, Some(keys()))),
        join(&mut room, &net, t0, 1, target(&plain, 101, None)),
    ];
    let mut events = Vec::new();
    let mut at = t0;
    for n in 0..20u32 {
        at = t0 + Duration::from_millis(20 * u64::from(n));
        secure.send_frame(addrs[0]);
        plain.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    let heard = plain.heard().expect("the plain phone hears the room");
    assert!(
        (i32::from(heard) - 1000).abs() < 50,
        "it hears the encrypted one: {heard}"
    );
    let heard = secure.heard().expect("the encrypted phone hears the room");
    assert!(
        (i32::from(heard) - 3000).abs() < 150,
        "decrypted with its key: {heard}"
    );

    // Someone on the phone's own address, without the key: plain RTP continuing the
    // stream's SSRC and sequence, and packets encrypted with a wrong key.
    let mut forger = TestPhone::new(&net, 1, 9000);
    forger.socket = secure.socket.clone();
    forger.seq = secure.seq;
    let mut wrong = TestPhone::new(&net, 1, 9000);
    wrong.socket = secure.socket.clone();
    wrong.seq = secure.seq.wrapping_add(100);
    wrong.srtp = Some(phone_side(Keys {
        remote: [0x55; 30],
        ..keys()
    }));
    let silent_since = at;
    for n in 0..200u32 {
        at = silent_since + Duration::from_millis(20 * u64::from(n + 1));
        forger.send_frame(addrs[0]);
        wrong.send_frame(addrs[0]);
        plain.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    let levels = plain.levels();
    // The phone's last audio fades out (concealment); the forgers' 9000 never appears.
    assert!(
        levels.iter().all(|l| i32::from(*l).abs() <= 1050),
        "the forgeries are never heard: {levels:?}"
    );
    assert_eq!(levels.last(), Some(&0), "silence once concealment ends");
    // The real phone speaks again after 4 s of silence: it is still its stream.
    for _ in 0..10u32 {
        at += Duration::from_millis(20);
        secure.send_frame(addrs[0]);
        plain.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    let heard = plain.heard().expect("audio");
    assert!(
        (i32::from(heard) - 1000).abs() < 50,
        "the phone is heard again: {heard}"
    );
}

#[test]
fn nothing_goes_out_in_the_clear_and_new_keys_take_effect() {
    let net = Net::new();
    let mut room = quiet_room(Duration::ZERO);
    let t0 = Instant::now();
    let mut secure = TestPhone::new(&net, 1, 1000);
    secure.srtp = Some(phone_side(keys()));
    let mut plain = TestPhone::new(&net, 2, 3000);
    let addrs = [
        join(&mut room, &net, t0, 0, target(&secure, 100, Some(keys()))),
        join(&mut room, &net, t0, 1, target(&plain, 101, None)),
    ];
    let mut events = Vec::new();
    let mut at = t0;
    // A listener without the key sees only packets that do not parse as our 172-byte RTP.
    let eavesdropper = TestPhone::new(&net, 3, 0);
    for n in 0..10u32 {
        at = t0 + Duration::from_millis(20 * u64::from(n));
        secure.send_frame(addrs[0]);
        plain.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    let mut buf = [0u8; 1500];
    let mut sizes = Vec::new();
    while let Ok(n) = secure.socket.recv(&mut buf) {
        sizes.push(n);
    }
    assert!(!sizes.is_empty());
    assert!(
        sizes.iter().all(|n| *n == 172 + 10),
        "SRTP with an 80-bit tag: {sizes:?}"
    );
    assert_eq!(eavesdropper.heard(), None);

    // A re-INVITE brings new keys on both sides.
    let rekeyed = Keys {
        local: [0x66; 30],
        remote: [0x77; 30],
        ..keys()
    };
    room.command(
        at,
        RoomCommand::Update {
            call: CallId(0),
            media: target(&secure, 100, Some(rekeyed)),
        },
    );
    secure.srtp = Some(phone_side(rekeyed));
    for _ in 0..10u32 {
        at += Duration::from_millis(20);
        secure.send_frame(addrs[0]);
        plain.send_frame(addrs[1]);
        room.tick(at, &mut FakeIo, &mut events);
    }
    let heard = secure
        .heard()
        .expect("it hears the room under the new keys");
    assert!((i32::from(heard) - 3000).abs() < 150, "{heard}");
    let heard = plain.heard().expect("audio");
    assert!(
        (i32::from(heard) - 1000).abs() < 50,
        "heard under the new keys: {heard}"
    );
}
