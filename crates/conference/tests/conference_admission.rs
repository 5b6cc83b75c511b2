//! The conference machine's admission rules on virtual time, without sockets: the fast
//! twins of the PIN, shared-number, block and lock end-to-end tests.

mod support;

use std::time::{Duration, Instant};

use konferenz_conference::*;
use support::{pin, room};

fn caller(n: u8) -> CallerKey {
    CallerKey::new(format!("192.0.2.{n}").parse().unwrap(), "anna")
}

fn conference() -> Conference {
    let mut c = Conference::new(ConferenceConfig {
        shared_numbers: vec![room("700")],
        ..ConferenceConfig::default()
    });
    c.set_rooms([
        RoomInfo::new(room("800")),
        RoomInfo {
            pin: Some(pin("4711")),
            language: Some(Language::German),
            ..RoomInfo::new(room("801"))
        },
        RoomInfo {
            pin: Some(pin("1234")),
            ..RoomInfo::new(room("802"))
        },
    ]);
    c
}

/// Drains the outputs: (events as "room:type:state", everything else).
fn drain(c: &mut Conference) -> (Vec<String>, Vec<ConferenceOutput>) {
    let mut events = Vec::new();
    let mut other = Vec::new();
    while let Some(o) = c.poll_output() {
        match o {
            ConferenceOutput::Event { room, kind } => events.push(match kind {
                EventKind::Participant { call, state, .. } => format!("{room}:{call}:{state}"),
                other => format!("{room}:{}", other.name()),
            }),
            o => other.push(o),
        }
    }
    (events, other)
}

#[test]
fn a_room_without_pin_is_entered_at_once_and_listed_when_joined() {
    let mut c = conference();
    let now = Instant::now();
    let admission = c.incoming(now, CallId(1), "800", caller(1), Some("201"));
    assert_eq!(
        admission,
        Admission::Accept {
            room: room("800"),
            entry: Entry::Room {
                room: room("800"),
                pin_required: false
            },
            language: Language::English,
            language_switch: true,
        }
    );
    assert_eq!(drain(&mut c).0, Vec::<String>::new());
    c.joined(CallId(1));
    c.ended(CallId(1), End::Normal);
    assert_eq!(
        drain(&mut c).0,
        ["800:1:connected", "800:1:left", "800:conference-ended"]
    );
    assert_eq!(c.call_count(), 0, "finished calls leave the machine");
}

#[test]
fn unknown_and_malformed_numbers_are_refused_with_404() {
    let mut c = conference();
    let now = Instant::now();
    for dialled in ["999", "", "a@b", &"1".repeat(40)] {
        assert_eq!(
            c.incoming(now, CallId(1), dialled, caller(1), None),
            Admission::Reject { status: 404 }
        );
    }
    assert_eq!(c.call_count(), 0);
}

#[test]
fn a_pin_caller_is_in_menu_until_the_right_pin_and_the_room_language_applies() {
    let mut c = conference();
    let now = Instant::now();
    let Admission::Accept {
        entry, language, ..
    } = c.incoming(now, CallId(3), "801", caller(1), Some("201"))
    else {
        panic!("accepted");
    };
    assert_eq!(entry, support::with_pin("801"));
    assert_eq!(language, Language::German);
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(3), &pin("1234")),
        PinVerdict::Wrong
    );
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(3), &pin("4711")),
        PinVerdict::Admit(room("801"))
    );
    c.joined(CallId(3));
    assert_eq!(drain(&mut c).0, ["801:3:in-menu", "801:3:connected"]);
}

#[test]
fn a_shared_number_moves_the_caller_to_the_room_its_pin_opens() {
    let mut c = conference();
    let now = Instant::now();
    let Admission::Accept { room: r, entry, .. } =
        c.incoming(now, CallId(4), "700", caller(1), Some("201"))
    else {
        panic!("accepted");
    };
    assert_eq!((r, entry), (room("700"), Entry::Shared));
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(4), &pin("1234")),
        PinVerdict::Admit(room("802"))
    );
    assert_eq!(c.room_of(CallId(4)), Some(&room("802")));
    c.joined(CallId(4));
    assert_eq!(
        drain(&mut c).0,
        [
            "700:4:in-menu",
            "700:4:left",
            "802:4:in-menu",
            "802:4:connected"
        ]
    );
}

#[test]
fn wrong_pins_lock_the_caller_out_and_are_reported() {
    let mut c = conference();
    let now = Instant::now();
    // Six wrong tries over two calls lock the caller (address + caller ID) out: the
    // sixth is answered with the lockout.
    let mut verdicts = Vec::new();
    for call in 1..=2 {
        c.incoming(now, CallId(call), "802", caller(9), Some("201"));
        for _ in 0..3 {
            verdicts.push(c.pin_entered(
                now,
                jiff::Timestamp::UNIX_EPOCH,
                CallId(call),
                &pin("9999"),
            ));
        }
        c.ended(CallId(call), End::Normal);
    }
    assert_eq!(verdicts[..5], [const { PinVerdict::Wrong }; 5]);
    assert_eq!(verdicts[5], PinVerdict::Refused(Refusal::CallerLocked));
    let (_, other) = drain(&mut c);
    assert!(
        other.iter().any(|o| matches!(
            o,
            ConferenceOutput::Throttle(ThrottleEvent::CallerLocked { .. })
        )),
        "{other:?}"
    );
    let Admission::Accept { entry, .. } = c.incoming(now, CallId(3), "802", caller(9), Some("201"))
    else {
        panic!("accepted to hear why");
    };
    assert_eq!(entry, Entry::Refused(Refusal::CallerLocked));
    assert_eq!(drain(&mut c).0, ["802:refused"]);
    // Another caller is not affected; the lockout ends.
    let Admission::Accept { entry, .. } = c.incoming(now, CallId(4), "802", caller(8), Some("202"))
    else {
        panic!()
    };
    assert_eq!(entry, support::with_pin("802"));
    let later = now + Duration::from_secs(16 * 60);
    let Admission::Accept { entry, .. } =
        c.incoming(later, CallId(5), "802", caller(9), Some("201"))
    else {
        panic!()
    };
    assert_eq!(entry, support::with_pin("802"));
}

#[test]
fn a_blocked_caller_is_refused_with_403_until_the_block_expires() {
    let mut c = conference();
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(1), Some("201"));
    c.joined(CallId(1));
    c.command(
        now,
        Command::HangUp {
            call: CallId(1),
            block: true,
            block_for: Some(Duration::from_secs(600)),
        },
    )
    .unwrap();
    let (_, other) = drain(&mut c);
    assert_eq!(
        other,
        [
            ConferenceOutput::Persist(Persist::Block {
                room: room("800"),
                who: "201".into(),
                invited: false,
                lasts: Some(Duration::from_secs(600)),
            }),
            ConferenceOutput::HangUp(CallId(1))
        ]
    );
    c.ended(CallId(1), End::Normal);
    assert_eq!(
        c.incoming(now, CallId(2), "800", caller(1), Some("201")),
        Admission::Reject { status: 403 }
    );
    // Other rooms and other callers are not affected.
    assert!(matches!(
        c.incoming(now, CallId(3), "800", caller(2), Some("202")),
        Admission::Accept { .. }
    ));
    assert!(matches!(
        c.incoming(now, CallId(4), "801", caller(1), Some("201")),
        Admission::Accept { .. }
    ));
    let later = now + Duration::from_secs(601);
    c.handle_timeout(later);
    assert!(matches!(
        c.incoming(later, CallId(5), "800", caller(1), Some("201")),
        Admission::Accept { .. }
    ));
}

#[test]
fn a_locked_conference_turns_dial_ins_away_but_lets_invitations_in() {
    let mut c = conference();
    let now = Instant::now();
    assert_eq!(
        c.command(
            now,
            Command::Lock {
                room: room("801"),
                locked: true
            }
        ),
        Err(CommandError::NoConference(room("801"))),
        "nothing to lock in an empty room"
    );
    c.incoming(now, CallId(1), "801", caller(1), Some("201"));
    c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(1), &pin("4711"));
    c.joined(CallId(1));
    assert_eq!(
        c.command(
            now,
            Command::Lock {
                room: room("801"),
                locked: true
            }
        ),
        Ok(Reply::Done)
    );
    assert!(c.is_locked(&room("801")));
    let Admission::Accept { entry, .. } = c.incoming(now, CallId(2), "801", caller(2), Some("202"))
    else {
        panic!()
    };
    assert_eq!(entry, Entry::Refused(Refusal::Locked));
    // Through the shared number: the right PIN, but the room is locked.
    c.incoming(now, CallId(3), "700", caller(3), Some("203"));
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(3), &pin("4711")),
        PinVerdict::Refused(Refusal::Locked)
    );
    // An invitation still gets in.
    let number = Dialable::parse("204").unwrap();
    assert_eq!(
        c.command(
            now,
            Command::Invite {
                room: room("801"),
                number: number.clone()
            }
        ),
        Ok(Reply::Place {
            room: room("801"),
            number: number.clone()
        })
    );
    c.invitation_placed(now, CallId(4), room("801"), &number);
    c.answered(CallId(4));
    c.joined(CallId(4));
    let events = drain(&mut c).0;
    assert!(events.contains(&"801:room-locked".to_owned()), "{events:?}");
    assert!(events.contains(&"801:4:connected".to_owned()), "{events:?}");
    // Unlocked: dial-ins get in again.
    c.command(
        now,
        Command::Lock {
            room: room("801"),
            locked: false,
        },
    )
    .unwrap();
    let Admission::Accept { entry, .. } = c.incoming(now, CallId(5), "801", caller(5), Some("205"))
    else {
        panic!()
    };
    assert_eq!(entry, support::with_pin("801"));
}

#[test]
fn the_lock_ends_with_the_conference() {
    let mut c = conference();
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(1), Some("201"));
    c.joined(CallId(1));
    c.command(
        now,
        Command::Lock {
            room: room("800"),
            locked: true,
        },
    )
    .unwrap();
    c.ended(CallId(1), End::Normal);
    let events = drain(&mut c).0;
    assert_eq!(
        events.last().map(String::as_str),
        Some("800:conference-ended")
    );
    assert!(!c.is_locked(&room("800")));
    let Admission::Accept { entry, .. } = c.incoming(now, CallId(2), "800", caller(2), None) else {
        panic!()
    };
    assert!(matches!(entry, Entry::Room { .. }));
}

#[test]
fn the_index_follows_the_store() {
    let mut c = conference();
    let now = Instant::now();
    c.set_rooms([RoomInfo {
        pin: Some(pin("5555")),
        ..RoomInfo::new(room("900"))
    }]);
    assert_eq!(
        c.incoming(now, CallId(1), "800", caller(1), None),
        Admission::Reject { status: 404 }
    );
    c.incoming(now, CallId(2), "700", caller(1), None);
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(2), &pin("5555")),
        PinVerdict::Admit(room("900"))
    );
}

fn limited(limits: CallLimits) -> Conference {
    let mut c = Conference::new(ConferenceConfig {
        shared_numbers: vec![room("700")],
        limits,
        ..ConferenceConfig::default()
    });
    c.set_rooms([
        RoomInfo::new(room("800")),
        RoomInfo {
            pin: Some(pin("4711")),
            ..RoomInfo::new(room("801"))
        },
    ]);
    c
}

#[test]
fn calls_per_source_and_in_all_are_limited_and_freed_when_calls_end() {
    let mut c = limited(CallLimits {
        calls: 3,
        per_room: 0,
        per_source: 2,
    });
    let now = Instant::now();
    let accepted = |a: &Admission| matches!(a, Admission::Accept { .. });
    assert!(accepted(&c.incoming(
        now,
        CallId(1),
        "800",
        caller(1),
        Some("201")
    )));
    assert!(accepted(&c.incoming(
        now,
        CallId(2),
        "800",
        caller(1),
        Some("202")
    )));
    assert_eq!(
        c.incoming(now, CallId(3), "800", caller(1), Some("203")),
        Admission::Reject { status: 503 },
        "a third call from the same address"
    );
    assert!(accepted(&c.incoming(
        now,
        CallId(4),
        "800",
        caller(2),
        Some("204")
    )));
    assert_eq!(
        c.incoming(now, CallId(5), "800", caller(3), Some("205")),
        Admission::Reject { status: 503 },
        "a fourth call in all"
    );
    assert_eq!(
        c.command(
            now,
            Command::Invite {
                room: room("800"),
                number: Dialable::parse("206").unwrap(),
            }
        ),
        Err(CommandError::TooManyCalls)
    );
    c.ended(CallId(1), End::Normal);
    assert!(accepted(&c.incoming(
        now,
        CallId(6),
        "800",
        caller(1),
        Some("201")
    )));
}

#[test]
fn a_full_room_says_so_to_callers_and_refuses_invitations() {
    let mut c = limited(CallLimits {
        calls: 0,
        per_room: 2,
        per_source: 0,
    });
    let now = Instant::now();
    for n in 1..=2 {
        let a = c.incoming(now, CallId(n), "800", caller(n as u8), Some("201"));
        assert!(matches!(a, Admission::Accept { .. }), "{a:?}");
    }
    let third = c.incoming(now, CallId(3), "800", caller(3), Some("203"));
    assert!(
        matches!(
            third,
            Admission::Accept {
                entry: Entry::Refused(Refusal::Full),
                ..
            }
        ),
        "told the conference is full: {third:?}"
    );
    assert_eq!(
        c.command(
            now,
            Command::Invite {
                room: room("800"),
                number: Dialable::parse("206").unwrap(),
            }
        ),
        Err(CommandError::RoomFull(room("800")))
    );
    // Through the shared number: the PIN leads to room 801, full once it has two calls.
    for n in 10..=12u64 {
        let a = c.incoming(now, CallId(n), "700", caller(n as u8), Some("210"));
        assert!(matches!(a, Admission::Accept { .. }), "{a:?}");
    }
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(10), &pin("4711")),
        PinVerdict::Admit(room("801"))
    );
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(11), &pin("4711")),
        PinVerdict::Admit(room("801"))
    );
    assert_eq!(
        c.pin_entered(now, jiff::Timestamp::UNIX_EPOCH, CallId(12), &pin("4711")),
        PinVerdict::Refused(Refusal::Full)
    );
}
