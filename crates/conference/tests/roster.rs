//! The roster (participants view) built from events: live calls stay, finished ones are
//! kept for a bounded time and number, so 89 000 short calls do not fill memory.

mod support;

use std::time::Duration;

use konferenz_conference::*;
use support::room;

fn event(seq: u64, at_ms: u64, call: u64, state: &ParticipantState) -> Event {
    Event {
        seq,
        at: at_ms,
        room: room("800"),
        kind: EventKind::participant(CallId(call), "201", state, false),
    }
}

#[test]
fn a_timeline_is_built_from_events() {
    let mut r = Roster::default();
    r.apply(&event(1, 1_000, 5, &ParticipantState::InMenu));
    r.apply(&event(2, 2_000, 5, &ParticipantState::Connected));
    r.apply(&Event {
        seq: 3,
        at: 2_500,
        room: room("800"),
        kind: EventKind::Muted {
            call: CallId(5),
            muted: true,
        },
    });
    let list = r.of_room(&room("800"));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].state, "connected");
    assert!(list[0].muted);
    assert_eq!(list[0].since, 2);
    let states: Vec<&str> = list[0].events.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(states, ["in-menu", "connected"]);
    assert!(r.of_room(&room("801")).is_empty());
}

#[test]
fn finished_calls_are_bounded_in_number_and_age_live_ones_stay() {
    let mut r = Roster::new(RosterConfig {
        keep_finished: Duration::from_secs(600),
        max_finished_per_room: 100,
        max_changes: 32,
    });
    r.apply(&event(1, 0, 1, &ParticipantState::Connected));
    let mut seq = 1;
    for call in 2..=89_001u64 {
        seq += 1;
        r.apply(&event(seq, call, call, &ParticipantState::Connected));
        seq += 1;
        r.apply(&event(seq, call + 1, call, &ParticipantState::Left));
    }
    let list = r.of_room(&room("800"));
    assert_eq!(list.len(), 101, "the live call and the latest 100 finished");
    assert_eq!(list[0].call, 1);
    assert_eq!(list[0].state, "connected");
    // Ten minutes later only the live call is left.
    r.prune(89_002 + 600_000);
    assert_eq!(r.len(), 1);
}

#[test]
fn restored_active_calls_are_reported_for_closing() {
    let mut r = Roster::default();
    r.restore(&room("800"), CallId(1), "201", "connected", None, None, 10);
    r.restore(
        &room("800"),
        CallId(2),
        "202",
        "busy",
        Some(486),
        Some("Busy Here"),
        10,
    );
    let active: Vec<u64> = r.active().iter().map(|(_, e)| e.call).collect();
    assert_eq!(active, [1]);
    let busy = &r.of_room(&room("800"))[1];
    assert_eq!(
        (busy.status, busy.reason.as_deref()),
        (Some(486), Some("Busy Here"))
    );
}

#[test]
fn events_serialise_with_a_type_tag() {
    let e = Event {
        seq: 7,
        at: 1234,
        room: room("800"),
        kind: EventKind::participant(CallId(3), "201", &ParticipantState::InMenu, false),
    };
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["type"], "participant");
    assert_eq!(json["state"], "in-menu");
    assert_eq!(json["room"], "800");
    assert_eq!(json["call"], 3);
    assert_eq!(json["seq"], 7);
}
