//! Scheduled conferences in the conference machine, on virtual time: the PIN opens the
//! room only in its window (before: "starts at HH:MM" in the conference's zone, after:
//! "has ended", neither counted as a guess), warnings five minutes and one minute before the
//! end reach the room, and the closing window hangs everybody up.

mod support;

use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use konferenz_conference::schedule::Window;
use konferenz_conference::*;
use support::{pin, room};

fn caller(n: u8) -> CallerKey {
    CallerKey::new(format!("192.0.2.{n}").parse().unwrap(), "anna")
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

/// Shared number 8000; conference c1 with PIN 482913 on 2026-12-07 09:00–10:00 Zurich time
/// (08:00–09:00 UTC), dial-in 10 minutes before, 5 minutes' grace; room 800 has PIN 4711.
fn conference() -> Conference {
    let mut c = Conference::new(ConferenceConfig {
        shared_numbers: vec![room("8000")],
        throttle: ThrottleConfig {
            caller: Limit {
                failures: 2,
                window: mins(10),
                lockout: mins(15),
            },
            ..ThrottleConfig::default()
        },
        ..ConferenceConfig::default()
    });
    c.set_rooms([RoomInfo {
        pin: Some(pin("4711")),
        ..RoomInfo::new(room("800"))
    }]);
    c.set_scheduled([ScheduledRoom {
        number: room("c1"),
        pin: pin("482913"),
        window: Window::new(ts("2026-12-07T08:00:00Z"), mins(60), mins(10), mins(5)).unwrap(),
        time_zone: TimeZone::get("Europe/Zurich").unwrap(),
        language: None,
    }]);
    c
}

fn dial_in(c: &mut Conference, call: u64) {
    let admission = c.incoming(
        Instant::now(),
        CallId(call),
        "8000",
        caller(call as u8),
        Some("555"),
    );
    assert!(
        matches!(admission, Admission::Accept { .. }),
        "{admission:?}"
    );
}

#[test]
fn the_pin_opens_the_room_only_inside_its_window() {
    let mut c = conference();
    let now = Instant::now();
    dial_in(&mut c, 1);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T07:49:00Z"), CallId(1), &pin("482913")),
        PinVerdict::Refused(Refusal::StartsAt { hour: 9, minute: 0 }),
        "before: told the start in Zurich time"
    );
    dial_in(&mut c, 2);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T07:50:00Z"), CallId(2), &pin("482913")),
        PinVerdict::Admit(room("c1"))
    );
    dial_in(&mut c, 3);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T09:05:00Z"), CallId(3), &pin("482913")),
        PinVerdict::Refused(Refusal::Ended)
    );
    // Three right PINs at wrong times are no guesses: the caller is not locked out.
    dial_in(&mut c, 4);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T08:30:00Z"), CallId(4), &pin("4711")),
        PinVerdict::Admit(room("800"))
    );
    dial_in(&mut c, 5);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T08:30:00Z"), CallId(5), &pin("999999")),
        PinVerdict::Wrong
    );
    // Direct dialling of the conference's room is not a way in.
    assert_eq!(
        c.incoming(now, CallId(6), "c1", caller(6), None),
        Admission::Reject { status: 404 }
    );
}

#[test]
fn the_room_is_warned_before_the_end_and_emptied_when_the_window_closes() {
    let mut c = conference();
    let now = Instant::now();
    dial_in(&mut c, 1);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T08:10:00Z"), CallId(1), &pin("482913")),
        PinVerdict::Admit(room("c1"))
    );
    c.joined(CallId(1));
    while c.poll_output().is_some() {}
    let outputs = |c: &mut Conference, from: &str, to: &str| {
        c.schedule_tick(ts(from), ts(to));
        let mut out = Vec::new();
        while let Some(o) = c.poll_output() {
            if !matches!(o, ConferenceOutput::Event { .. }) {
                out.push(o);
            }
        }
        out
    };
    assert!(outputs(&mut c, "2026-12-07T08:54:00Z", "2026-12-07T08:54:59Z").is_empty());
    assert_eq!(
        outputs(&mut c, "2026-12-07T08:54:59Z", "2026-12-07T08:55:00Z"),
        [ConferenceOutput::Announce {
            room: room("c1"),
            phrases: vec![Phrase::EndsInFiveMinutes]
        }]
    );
    assert_eq!(
        outputs(&mut c, "2026-12-07T08:58:59Z", "2026-12-07T08:59:01Z"),
        [ConferenceOutput::Announce {
            room: room("c1"),
            phrases: vec![Phrase::EndsInOneMinute]
        }]
    );
    assert!(outputs(&mut c, "2026-12-07T09:00:00Z", "2026-12-07T09:04:59Z").is_empty());
    assert_eq!(
        outputs(&mut c, "2026-12-07T09:04:59Z", "2026-12-07T09:05:00Z"),
        [ConferenceOutput::HangUp(CallId(1))]
    );
}

#[test]
fn a_refused_caller_hears_the_start_time_in_its_language() {
    assert_eq!(
        Refusal::StartsAt {
            hour: 9,
            minute: 30
        }
        .phrases(Language::German),
        [
            Phrase::StartsAt,
            Phrase::Number(9),
            Phrase::OClock,
            Phrase::Number(30)
        ]
    );
    assert_eq!(
        Refusal::StartsAt {
            hour: 14,
            minute: 0
        }
        .phrases(Language::English),
        [Phrase::StartsAt, Phrase::Number(14), Phrase::OClock]
    );
}

#[test]
fn the_refusal_carries_the_conference_s_language() {
    let mut c = conference();
    c.set_scheduled([ScheduledRoom {
        number: room("c1"),
        pin: pin("482913"),
        window: Window::new(ts("2026-12-07T08:00:00Z"), mins(60), mins(10), mins(5)).unwrap(),
        time_zone: TimeZone::get("Europe/Zurich").unwrap(),
        language: Some(Language::German),
    }]);
    let now = Instant::now();
    dial_in(&mut c, 1);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T07:00:00Z"), CallId(1), &pin("482913")),
        PinVerdict::RefusedIn(Refusal::StartsAt { hour: 9, minute: 0 }, Language::German)
    );
    dial_in(&mut c, 2);
    assert_eq!(
        c.pin_entered(now, ts("2026-12-07T10:00:00Z"), CallId(2), &pin("482913")),
        PinVerdict::RefusedIn(Refusal::Ended, Language::German)
    );
}
