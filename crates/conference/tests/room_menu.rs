//! The room with callers in the voice menu, on an in-memory network and virtual time (no
//! sockets): the PIN prompt, digits from INFO, the PIN check round trip, music while
//! alone, the join tone, and a shared number's lobby handing a caller over.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use konferenz_conference::*;
use konferenz_media::{Codec, LegConfig, linear_to_ulaw};
use support::net::{FakeIo, Net, Ports, TestPhone};

const PROMPT: i16 = 500;
const MUSIC: i16 = 1000;
const JOIN: i16 = 2000;

/// A phone that sends a level on demand and reports the levels it hears.
type Ear = TestPhone;

struct Bench {
    room: Room<Ports>,
    net: Net,
    t0: Instant,
    n: u64,
    events: Vec<RoomEvent<Ports>>,
}

impl Bench {
    fn new(number: &str) -> Self {
        let settings = RoomSettings {
            media_timeout: Duration::ZERO,
            jitter_min: Duration::from_millis(20),
            jitter_max: Duration::from_millis(200),
        };
        let library = Arc::new(PromptSet::constant(PROMPT, MUSIC, JOIN, 3000));
        Self {
            room: Room::new(
                RoomNumber::parse(number).unwrap(),
                settings,
                library.clone(),
                library.music.clone(),
            ),
            net: Net::new(),
            t0: Instant::now(),
            n: 0,
            events: Vec::new(),
        }
    }

    fn now(&self) -> Instant {
        self.t0 + Duration::from_millis(20 * self.n)
    }

    /// Adds a caller entering this way; returns its phone and the room's address for it.
    fn call(&mut self, call: u64, entry: Entry) -> (Ear, std::net::SocketAddr) {
        let ear = Ear::new(&self.net, 7, 0);
        let sockets = self.net.ports();
        let addr = sockets.rtp.addr;
        let media = MediaTarget {
            config: LegConfig {
                codec: Codec::Pcmu,
                payload_type: 0,
                dtmf_payload_type: None,
                ssrc: call as u32,
            },
            remote: Some(ear.socket.addr),
            send: true,
            srtp: None,
        };
        let now = self.now();
        self.room.command(
            now,
            RoomCommand::Join {
                call: CallId(call),
                io: sockets,
                media,
                entry,
                menu: MenuConfig::default(),
                wallclock: Duration::from_secs(1_750_000_000),
            },
        );
        self.room.take_events(&mut self.events);
        (ear, addr)
    }

    fn command(&mut self, command: RoomCommand<Ports>) {
        let now = self.now();
        self.room.command(now, command);
        self.room.take_events(&mut self.events);
    }

    fn ticks(&mut self, n: u64) {
        for _ in 0..n {
            let now = self.now();
            self.room.tick(now, &mut FakeIo, &mut self.events);
            self.n += 1;
        }
    }

    fn keys(&mut self, call: u64, keys: &str) {
        for digit in keys.chars() {
            self.command(RoomCommand::Dtmf {
                call: CallId(call),
                digit,
            });
        }
    }
}

/// Equal within G.711's quantisation.
fn near(level: i16, want: i16) -> bool {
    (i32::from(level) - i32::from(want)).abs() <= i32::from(want.abs()) / 20 + 10
}

fn room_800(pin_required: bool) -> Entry {
    Entry::Room {
        room: RoomNumber::parse("800").unwrap(),
        pin_required,
    }
}

#[test]
fn pin_caller_hears_the_prompt_and_joins_after_the_check() {
    let mut b = Bench::new("800");
    let (ear, _) = b.call(1, room_800(true));
    b.ticks(3);
    assert!(
        ear.levels().iter().any(|&l| near(l, PROMPT)),
        "the PIN prompt plays"
    );
    b.keys(1, "4711#");
    let pin = b.events.iter().find_map(|e| match e {
        RoomEvent::CheckPin { pin, .. } => Some(*pin),
        _ => None,
    });
    assert_eq!(pin.expect("a PIN to check").reveal(), "4711");
    b.command(RoomCommand::PinChecked {
        call: CallId(1),
        verdict: PinVerdict::Admit(RoomNumber::parse("800").unwrap()),
    });
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e, RoomEvent::Joined { call: CallId(1) }))
    );
}

#[test]
fn alone_hears_music_until_a_second_joins_with_a_join_tone() {
    let mut b = Bench::new("800");
    let (first, _) = b.call(1, room_800(false));
    // The announcement (stand-in prompts: 100 ms each) plays, then the music.
    b.ticks(30);
    let heard = first.levels();
    assert!(
        heard[..10].iter().all(|&l| near(l, PROMPT)),
        "announcement first: {heard:?}"
    );
    assert!(
        heard[heard.len() - 5..].iter().all(|&l| near(l, MUSIC)),
        "then music: {heard:?}"
    );
    let (_second, _) = b.call(2, room_800(false));
    b.ticks(10);
    let heard = first.levels();
    assert!(near(heard[0], JOIN), "the join tone: {heard:?}");
    assert!(
        heard[heard.len() - 3..].iter().all(|&l| l.abs() < 10),
        "no music with two: {heard:?}"
    );
}

#[test]
fn many_joining_at_once_make_one_join_tone_not_a_queue_of_them() {
    let mut b = Bench::new("800");
    let (first, _) = b.call(1, room_800(false));
    b.ticks(30);
    first.levels();
    for call in 2..=6 {
        b.call(call, room_800(false));
    }
    b.ticks(20);
    let heard = first.levels();
    let tone_frames = heard.iter().filter(|&&l| near(l, JOIN)).count();
    // The stand-in tone is 100 ms: five frames, once — not five tones (25 frames).
    assert_eq!(tone_frames, 5, "{heard:?}");
}

#[test]
fn callers_in_the_menu_are_not_heard_by_the_conference() {
    let mut b = Bench::new("800");
    let (inside, _) = b.call(1, room_800(false));
    let (_other, _) = b.call(2, room_800(false));
    let (mut typing, addr) = b.call(3, room_800(true));
    typing.level = 8000;
    for _ in 0..40 {
        typing.send_frame(addr);
        b.ticks(1);
    }
    let heard = inside.levels();
    assert!(
        heard[heard.len() - 10..].iter().all(|&l| l.abs() < 100),
        "{heard:?}"
    );
}

#[test]
fn shared_number_lobby_hands_the_caller_to_the_room_its_pin_opens() {
    let mut b = Bench::new("8000");
    let _ear = b.call(1, Entry::Shared);
    b.ticks(2);
    b.keys(1, "5555#");
    assert!(
        b.events
            .iter()
            .any(|e| matches!(e, RoomEvent::CheckPin { .. }))
    );
    b.command(RoomCommand::PinChecked {
        call: CallId(1),
        verdict: PinVerdict::Admit(RoomNumber::parse("900").unwrap()),
    });
    let moved = b.events.iter().find_map(|e| match e {
        RoomEvent::Transfer { participant, room } => Some((participant.call, room.clone())),
        _ => None,
    });
    assert_eq!(moved, Some((CallId(1), RoomNumber::parse("900").unwrap())));
    b.ticks(2);
}

#[test]
fn three_wrong_pins_end_in_a_hang_up() {
    let mut b = Bench::new("800");
    let _ear = b.call(1, room_800(true));
    for _ in 0..3 {
        b.keys(1, "1111#");
        b.command(RoomCommand::PinChecked {
            call: CallId(1),
            verdict: PinVerdict::Wrong,
        });
        b.ticks(20);
    }
    b.ticks(100);
    assert!(
        b.events.iter().any(|e| matches!(
            e,
            RoomEvent::HangUp {
                call: CallId(1),
                ..
            }
        )),
        "{:?}",
        b.events
    );
}

#[test]
fn the_first_way_a_phone_sends_keys_is_the_only_one_listened_to() {
    let mut b = Bench::new("800");
    let (mut phone, addr) = b.call(1, room_800(true));
    b.ticks(2);
    b.keys(1, "1");
    // Now the phone's audio carries a DTMF '9' (852 + 1477 Hz) for 200 ms: ignored.
    let mut t = 0usize;
    for _ in 0..10 {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&phone.seq.to_be_bytes());
        p.extend_from_slice(&(u32::from(phone.seq) * 160).to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        for _ in 0..160 {
            let x = t as f64 / 8000.0 * std::f64::consts::TAU;
            let s = 6000.0 * ((852.0 * x).sin() + (1477.0 * x).sin());
            p.push(linear_to_ulaw(s as i16));
            t += 1;
        }
        phone.socket.send_to(&p, addr).unwrap();
        phone.seq += 1;
        b.ticks(1);
    }
    b.ticks(10);
    b.keys(1, "234#");
    let pin = b.events.iter().find_map(|e| match e {
        RoomEvent::CheckPin { pin, .. } => Some(*pin),
        _ => None,
    });
    assert_eq!(pin.expect("a PIN").reveal(), "1234");
}
