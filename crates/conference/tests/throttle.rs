//! The guessing throttle, alone and driving menus on the shared number, on virtual time.

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use konferenz_conference::*;
use support::*;

const MIN: u64 = 60;

fn caller(n: u32) -> CallerKey {
    CallerKey::new(IpAddr::from([192, 0, 2, 1]), &format!("+4930{n}"))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The driver's side for the shared number: a PIN directory and the throttle.
struct Exchange {
    throttle: Throttle,
    directory: HashMap<Pin, RoomNumber>,
    entry: RoomNumber,
}

impl Exchange {
    fn new(config: ThrottleConfig) -> Self {
        let directory = [("4711", "800"), ("0815", "801")]
            .into_iter()
            .map(|(p, r)| (pin(p), room(r)))
            .collect();
        Self {
            throttle: Throttle::new(config),
            directory,
            entry: room("0301234567"),
        }
    }

    /// A call to the shared number from `who` at `now`, typing each PIN of `pins` (after
    /// listening to every prompt); returns the menu's last output.
    fn call(&mut self, now: Instant, who: &CallerKey, pins: &[&str]) -> Output {
        let entry = match self.throttle.admit(now, who, &self.entry) {
            Ok(()) => Entry::Shared,
            Err(refusal) => Entry::Refused(refusal),
        };
        let mut call = Call::new(entry, MenuConfig::default());
        call.now = now;
        call.menu.start(now);
        let mut last = call.drain();
        for typed in pins {
            last.extend(call.listen());
            last.extend(call.keys(typed));
            last.extend(call.keys("#"));
            if let Some(attempt) = checked(&last) {
                let found = self.directory.get(&pin(&attempt));
                let verdict = self.throttle.settle(now, who, &self.entry, found);
                last = call.verdict(verdict);
            }
            if call.menu.is_done() {
                break;
            }
        }
        last.extend(call.listen());
        last.pop().expect("the menu said something")
    }
}

fn joined(r: &str) -> Output {
    Output::Join {
        room: room(r),
        language: Language::English,
    }
}

#[test]
fn shared_number_pin_selects_the_room() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    assert_eq!(x.call(t0, &caller(1), &["4711"]), joined("800"));
    assert_eq!(x.call(t0, &caller(2), &["0815"]), joined("801"));
}

#[test]
fn shared_number_unknown_pin_counts_as_wrong() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    let last = x.call(t0, &caller(1), &["1234", "9999", "0000"]);
    assert_eq!(last, Output::HangUp(HangUpReason::TooManyAttempts));
    assert_eq!(x.call(t0, &caller(1), &["1234", "4711"]), joined("800"));
}

#[test]
fn caller_lockout_refuses_further_calls_until_it_expires() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    let me = caller(1);
    x.call(t0, &me, &["1111", "1112", "1113"]);
    let last = x.call(t0 + secs(MIN), &me, &["1114", "1115", "1116"]);
    assert_eq!(
        last,
        Output::HangUp(HangUpReason::Refused(Refusal::CallerLocked))
    );
    let locked_at = t0 + secs(MIN);
    assert_eq!(
        x.throttle.poll_event(),
        Some(ThrottleEvent::CallerLocked {
            addr: me.addr(),
            failures: 6,
            until: locked_at + secs(15 * MIN)
        })
    );
    let refused = Output::HangUp(HangUpReason::Refused(Refusal::CallerLocked));
    assert_eq!(
        x.call(locked_at + secs(2 * MIN), &me, &["4711"]),
        refused,
        "even a right PIN"
    );
    assert_eq!(
        x.call(locked_at + secs(15 * MIN) - secs(1), &me, &["4711"]),
        refused
    );
    assert_eq!(
        x.call(locked_at + secs(15 * MIN), &me, &["4711"]),
        joined("800")
    );
    assert_eq!(
        x.call(t0, &caller(2), &["4711"]),
        joined("800"),
        "others are not locked"
    );
}

#[test]
fn caller_failures_older_than_the_window_do_not_count() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    let me = caller(1);
    x.call(t0, &me, &["1111", "1112", "1113"]);
    x.call(t0 + secs(10 * MIN), &me, &["1114", "1115", "1116"]);
    assert_eq!(x.throttle.poll_event(), None);
    assert_eq!(x.call(t0 + secs(10 * MIN), &me, &["4711"]), joined("800"));
}

#[test]
fn room_lockout_refuses_pin_entry_reports_a_warn_event_and_expires() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    // 20 failures from 20 callers (a guesser rotating caller IDs): each stays under N.
    for n in 0..19 {
        let last = x.call(t0, &caller(n), &["1000"]);
        assert_eq!(last, Output::Play(en(Phrase::InvalidPin)));
    }
    let last = x.call(t0 + secs(1), &caller(19), &["1000"]);
    assert_eq!(
        last,
        Output::HangUp(HangUpReason::Refused(Refusal::RoomLocked))
    );
    let until = t0 + secs(1) + secs(10 * MIN);
    let event = x.throttle.poll_event().unwrap();
    assert_eq!(
        event,
        ThrottleEvent::RoomLocked {
            room: x.entry.clone(),
            failures: 20,
            until
        }
    );
    assert!(
        !format!("{event:?}").contains("1000"),
        "no PIN in the event"
    );
    assert_eq!(x.throttle.poll_event(), None);

    let refused = Output::HangUp(HangUpReason::Refused(Refusal::RoomLocked));
    assert_eq!(
        x.call(t0 + secs(MIN), &caller(99), &["4711"]),
        refused,
        "right PIN too"
    );
    assert_eq!(x.throttle.room_locked_until(t0, &x.entry), Some(until));
    assert_eq!(x.call(until, &caller(99), &["4711"]), joined("800"));
}

#[test]
fn room_locked_by_direct_guessing_refuses_its_pin_on_the_shared_number() {
    let mut x = Exchange::new(ThrottleConfig::default());
    let t0 = Instant::now();
    for n in 0..20 {
        x.throttle.record_failure(t0, &caller(n), &room("800"));
    }
    let refused = Output::HangUp(HangUpReason::Refused(Refusal::RoomLocked));
    assert_eq!(x.call(t0, &caller(99), &["4711"]), refused);
    assert_eq!(x.call(t0, &caller(99), &["0815"]), joined("801"));
}

#[test]
fn flood_of_distinct_callers_stays_bounded_and_keeps_lockouts() {
    let config = ThrottleConfig {
        max_entries: 100,
        ..ThrottleConfig::default()
    };
    let mut throttle = Throttle::new(config);
    let t0 = Instant::now();
    let target = room("800");
    let guesser = caller(0);
    for _ in 0..6 {
        throttle.record_failure(t0, &guesser, &target);
    }
    for n in 1..20_000u32 {
        let who = CallerKey::new(IpAddr::from(n.to_be_bytes()), "");
        throttle.record_failure(
            t0 + secs(u64::from(n % 7)),
            &who,
            &room(&format!("9{}", n % 500)),
        );
        assert!(throttle.len().0 <= 100 && throttle.len().1 <= 100);
    }
    assert!(
        throttle.caller_locked_until(t0, &guesser).is_some(),
        "flood did not unlock it"
    );
    throttle.prune(t0 + secs(30 * MIN));
    assert!(throttle.is_empty());
}

#[test]
fn throttle_survives_absurd_configuration() {
    let limit = Limit {
        failures: 0,
        window: Duration::MAX,
        lockout: Duration::MAX,
    };
    let mut throttle = Throttle::new(ThrottleConfig {
        caller: limit,
        room: limit,
        max_entries: 0,
    });
    let t0 = Instant::now();
    assert_eq!(
        throttle.record_failure(t0, &caller(1), &room("800")),
        Some(Refusal::CallerLocked)
    );
    assert!(
        throttle
            .admit(t0 + secs(3600), &caller(1), &room("800"))
            .is_err()
    );
}

/// xorshift64: a reproducible stream without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn any_keys_and_answers_end_in_join_or_hang_up_within_the_time_limit() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let entries = [
        with_pin("800"),
        Entry::Shared,
        Entry::Refused(Refusal::Full),
    ];
    let mut endings = std::collections::HashSet::new();
    for run in 0..3000 {
        let config = MenuConfig {
            language: rng.pick(&Language::ALL),
            ..MenuConfig::default()
        };
        let (mut call, mut out) =
            Call::start_with(entries[(rng.next() % 3) as usize].clone(), config);
        let mut steps = 0;
        while !call.menu.is_done() {
            steps += 1;
            assert!(steps < 10_000, "run {run} does not end");
            match rng.next() % 8 {
                0..=3 => {
                    out.extend(call.keys(&rng.pick(&['1', '4', '*', '#', '2', 'A']).to_string()))
                }
                4 if call.playing.is_some() => out.extend(call.finish_prompt()),
                5 => out.extend(call.wait(rng.pick(&[0.5, 3.0, 10.0]))),
                6 if checked(&out).is_some() => {
                    out.clear();
                    let verdict = rng.pick(&[0, 1, 1, 1, 2]);
                    out.extend(call.verdict(match verdict {
                        0 => PinVerdict::Admit(room("800")),
                        1 => PinVerdict::Wrong,
                        _ => PinVerdict::Refused(Refusal::RoomLocked),
                    }));
                }
                _ => out.extend(call.wait(0.1)),
            }
        }
        assert!(
            call.elapsed() <= 180.0 + 30.0,
            "run {run} took {} s",
            call.elapsed()
        );
        match out.last() {
            Some(Output::Join { .. }) => endings.insert(None),
            Some(Output::HangUp(reason)) => endings.insert(Some(*reason)),
            other => panic!("run {run} ended with {other:?}"),
        };
        assert_eq!(call.menu.poll_output(), None);
        assert_eq!(call.menu.poll_timeout(), None);
    }
    assert_eq!(endings.len(), 6, "every ending reached: {endings:?}");
}
