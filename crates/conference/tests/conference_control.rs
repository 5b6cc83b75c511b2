//! Moderator commands and invitations on the conference machine, on virtual time: the fast
//! twins of the invite, mute and hang-up end-to-end tests.

mod support;

use std::time::{Duration, Instant};

use konferenz_conference::*;
use support::room;

fn conference() -> Conference {
    let mut c = Conference::new(ConferenceConfig {
        ring_timeout: Duration::from_secs(30),
        ..ConferenceConfig::default()
    });
    c.set_rooms([RoomInfo::new(room("800")), RoomInfo::new(room("801"))]);
    c
}

fn caller() -> CallerKey {
    CallerKey::new("192.0.2.1".parse().unwrap(), "anna")
}

fn number(n: &str) -> Dialable {
    Dialable::parse(n).unwrap()
}

fn drain(c: &mut Conference) -> Vec<ConferenceOutput> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn states(outputs: &[ConferenceOutput]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ConferenceOutput::Event {
                kind:
                    EventKind::Participant {
                        call,
                        state,
                        status,
                        ..
                    },
                ..
            } => Some(match status {
                Some(s) => format!("{call}:{state}:{s}"),
                None => format!("{call}:{state}"),
            }),
            _ => None,
        })
        .collect()
}

fn invite(c: &mut Conference, now: Instant, call: u64, n: &str) {
    let reply = c.command(
        now,
        Command::Invite {
            room: room("800"),
            number: number(n),
        },
    );
    assert_eq!(
        reply,
        Ok(Reply::Place {
            room: room("800"),
            number: number(n)
        })
    );
    c.invitation_placed(now, CallId(call), room("800"), &number(n));
}

#[test]
fn an_answered_invitation_goes_calling_ringing_connected_left() {
    let mut c = conference();
    let now = Instant::now();
    invite(&mut c, now, 10, "201");
    c.progress(CallId(10));
    c.answered(CallId(10));
    c.joined(CallId(10));
    c.ended(CallId(10), End::Normal);
    assert_eq!(
        states(&drain(&mut c)),
        ["10:calling", "10:ringing", "10:connected", "10:left"]
    );
}

#[test]
fn failures_map_to_busy_declined_failed() {
    let mut c = conference();
    let now = Instant::now();
    for (call, status) in [(1, 486), (2, 603), (3, 404)] {
        invite(&mut c, now, call, &format!("20{call}"));
        c.ended(
            CallId(call),
            End::Failed {
                status,
                reason: "x".into(),
            },
        );
    }
    invite(&mut c, now, 4, "204");
    c.ended(CallId(4), End::BadAnswer);
    assert_eq!(
        states(&drain(&mut c)),
        [
            "1:calling",
            "1:busy",
            "2:calling",
            "2:declined",
            "3:calling",
            "3:failed:404",
            "4:calling",
            "4:failed:488"
        ]
    );
}

#[test]
fn nobody_answering_within_the_ring_time_is_no_answer_and_hung_up() {
    let mut c = conference();
    let now = Instant::now();
    invite(&mut c, now, 7, "201");
    c.progress(CallId(7));
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_secs(30)));
    c.handle_timeout(now + Duration::from_secs(29));
    drain(&mut c);
    c.handle_timeout(now + Duration::from_secs(30));
    let out = drain(&mut c);
    assert_eq!(states(&out), ["7:no-answer"]);
    assert!(out.contains(&ConferenceOutput::HangUp(CallId(7))));
    // The CANCEL's end keeps the no-answer state.
    c.ended(CallId(7), End::Normal);
    assert_eq!(states(&drain(&mut c)), Vec::<String>::new());
}

#[test]
fn re_inviting_a_number_ends_the_earlier_call_first() {
    let mut c = conference();
    let now = Instant::now();
    invite(&mut c, now, 1, "201");
    c.answered(CallId(1));
    drain(&mut c);
    let reply = c.command(
        now,
        Command::Invite {
            room: room("800"),
            number: number("201"),
        },
    );
    assert!(matches!(reply, Ok(Reply::Place { .. })));
    assert_eq!(drain(&mut c), [ConferenceOutput::HangUp(CallId(1))]);
    // Another room's invitation of the same number is left alone.
    c.command(
        now,
        Command::Invite {
            room: room("801"),
            number: number("202"),
        },
    )
    .unwrap();
    assert_eq!(drain(&mut c), []);
}

#[test]
fn mute_all_but_the_host_also_mutes_later_joiners_and_is_persisted() {
    let mut c = conference();
    let now = Instant::now();
    for call in 1..=3 {
        c.incoming(now, CallId(call), "800", caller(), Some("201"));
        c.joined(CallId(call));
    }
    drain(&mut c);
    let reply = c.command(
        now,
        Command::MuteAll {
            room: room("800"),
            muted: true,
            except: Some(CallId(1)),
        },
    );
    assert_eq!(reply, Ok(Reply::Calls(vec![CallId(2), CallId(3)])));
    let out = drain(&mut c);
    assert!(out.contains(&ConferenceOutput::Mute {
        room: room("800"),
        call: CallId(2),
        muted: true
    }));
    assert!(out.contains(&ConferenceOutput::Persist(Persist::RoomMuted {
        room: room("800"),
        muted: true
    })));
    assert!(c.room(&room("800")).unwrap().muted);
    // A later joiner is muted at once.
    c.incoming(now, CallId(4), "800", caller(), Some("204"));
    c.joined(CallId(4));
    let out = drain(&mut c);
    assert!(
        out.contains(&ConferenceOutput::Mute {
            room: room("800"),
            call: CallId(4),
            muted: true
        }),
        "{out:?}"
    );
    // Unmute all: everyone, and later joiners are no longer muted.
    let reply = c.command(
        now,
        Command::MuteAll {
            room: room("800"),
            muted: false,
            except: None,
        },
    );
    assert_eq!(
        reply,
        Ok(Reply::Calls(vec![
            CallId(1),
            CallId(2),
            CallId(3),
            CallId(4)
        ]))
    );
    let out = drain(&mut c);
    let unmuted = out
        .iter()
        .filter(|o| matches!(o, ConferenceOutput::Mute { muted: false, .. }))
        .count();
    assert_eq!(unmuted, 3, "the host was never muted: {out:?}");
    c.incoming(now, CallId(5), "800", caller(), Some("205"));
    c.joined(CallId(5));
    assert!(
        !drain(&mut c)
            .iter()
            .any(|o| matches!(o, ConferenceOutput::Mute { .. }))
    );
}

#[test]
fn a_stored_room_wide_mute_applies_after_a_restart() {
    let mut c = Conference::new(ConferenceConfig::default());
    c.set_rooms([RoomInfo {
        muted: true,
        ..RoomInfo::new(room("800"))
    }]);
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(), None);
    c.joined(CallId(1));
    assert!(drain(&mut c).contains(&ConferenceOutput::Mute {
        room: room("800"),
        call: CallId(1),
        muted: true
    }));
}

#[test]
fn commands_name_what_is_wrong() {
    let mut c = conference();
    let now = Instant::now();
    assert_eq!(
        c.command(
            now,
            Command::Mute {
                call: CallId(9),
                muted: true
            }
        ),
        Err(CommandError::NoSuchCall(CallId(9)))
    );
    assert_eq!(
        c.command(
            now,
            Command::HangUp {
                call: CallId(9),
                block: false,
                block_for: None
            }
        ),
        Err(CommandError::NoSuchCall(CallId(9)))
    );
    assert_eq!(
        c.command(
            now,
            Command::Invite {
                room: room("999"),
                number: number("201")
            }
        ),
        Err(CommandError::NoSuchRoom(room("999")))
    );
    assert_eq!(
        c.command(now, Command::End { room: room("800") }),
        Err(CommandError::NoConference(room("800")))
    );
    // A caller still in the menu cannot be muted yet.
    let mut c = Conference::new(ConferenceConfig::default());
    c.set_rooms([RoomInfo {
        pin: Some(support::pin("1234")),
        ..RoomInfo::new(room("800"))
    }]);
    c.incoming(now, CallId(1), "800", caller(), None);
    assert_eq!(
        c.command(
            now,
            Command::Mute {
                call: CallId(1),
                muted: true
            }
        ),
        Err(CommandError::NotInRoom(CallId(1)))
    );
}

#[test]
fn a_blocked_invited_number_cannot_be_invited_again() {
    let mut c = conference();
    let now = Instant::now();
    invite(&mut c, now, 1, "201");
    c.command(
        now,
        Command::HangUp {
            call: CallId(1),
            block: true,
            block_for: None,
        },
    )
    .unwrap();
    c.ended(CallId(1), End::Normal);
    assert_eq!(
        c.command(
            now,
            Command::Invite {
                room: room("800"),
                number: number("201")
            }
        ),
        Err(CommandError::Blocked(number("201"), room("800")))
    );
}

#[test]
fn ending_the_conference_hangs_up_everyone_there() {
    let mut c = conference();
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(), None);
    c.joined(CallId(1));
    invite(&mut c, now, 2, "201");
    c.incoming(now, CallId(3), "801", caller(), None);
    drain(&mut c);
    assert_eq!(
        c.command(now, Command::End { room: room("800") }),
        Ok(Reply::Done)
    );
    assert_eq!(
        drain(&mut c),
        [
            ConferenceOutput::HangUp(CallId(1)),
            ConferenceOutput::HangUp(CallId(2))
        ]
    );
}

#[test]
fn talking_is_published_for_joined_participants_only() {
    let mut c = conference();
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(), None);
    c.talking(CallId(1), true);
    assert!(drain(&mut c).is_empty());
    c.joined(CallId(1));
    drain(&mut c);
    c.talking(CallId(1), true);
    assert_eq!(
        drain(&mut c),
        [ConferenceOutput::Event {
            room: room("800"),
            kind: EventKind::Talking {
                call: CallId(1),
                talking: true
            }
        }]
    );
}

#[test]
fn blocks_are_persisted_restored_and_lifted() {
    let mut c = conference();
    let now = Instant::now();
    c.incoming(now, CallId(1), "800", caller(), Some("201"));
    c.joined(CallId(1));
    drain(&mut c);
    let hour = Duration::from_secs(3600);
    c.command(
        now,
        Command::HangUp {
            call: CallId(1),
            block: true,
            block_for: Some(hour),
        },
    )
    .unwrap();
    let out = drain(&mut c);
    assert!(
        out.contains(&ConferenceOutput::Persist(Persist::Block {
            room: room("800"),
            who: "201".into(),
            invited: false,
            lasts: Some(hour),
        })),
        "{out:?}"
    );
    // A restarted machine gets the block back from the store.
    let mut restarted = conference();
    restarted.restore_block(now, room("800"), "201", Some(hour));
    assert_eq!(
        restarted.incoming(now, CallId(2), "800", caller(), Some("201")),
        Admission::Reject { status: 403 }
    );
    assert_eq!(
        restarted.command(
            now,
            Command::Unblock {
                room: room("800"),
                who: "201".into()
            }
        ),
        Ok(Reply::Done)
    );
    assert_eq!(
        drain(&mut restarted),
        [ConferenceOutput::Persist(Persist::Unblock {
            room: room("800"),
            who: "201".into()
        })]
    );
    assert!(matches!(
        restarted.incoming(now, CallId(3), "800", caller(), Some("201")),
        Admission::Accept { .. }
    ));
    assert_eq!(
        restarted.command(
            now,
            Command::Unblock {
                room: room("800"),
                who: "201".into()
            }
        ),
        Err(CommandError::NotBlocked("201".into(), room("800")))
    );
}
