//! The voice menu on virtual time: every rule of issue 3's "Dial-in with a PIN".

mod support;

use konferenz_conference::*;
use support::*;

use Phrase::*;

#[test]
fn room_with_pin_asks_for_it_and_offers_the_other_language() {
    let (mut call, out) = Call::start(with_pin("800"));
    assert_eq!(out, [Output::Play(en(EnterPin))]);
    assert_eq!(call.listen(), [Output::Play(de(LanguageOffer))]);
    assert_eq!(
        call.menu.poll_timeout(),
        Some(call.now + std::time::Duration::from_secs(10))
    );
}

#[test]
fn right_pin_joins_the_room() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    let out = call.keys("4711#");
    assert_eq!(checked(&out).as_deref(), Some("4711"));
    assert_eq!(
        call.verdict(PinVerdict::Admit(room("800"))),
        [Output::Join {
            room: room("800"),
            language: Language::English
        }]
    );
    assert!(call.menu.is_done());
    assert_eq!(call.menu.poll_timeout(), None);
}

#[test]
fn wrong_pin_is_refused_with_a_prompt_and_another_try() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    call.keys("1234#");
    assert_eq!(
        call.verdict(PinVerdict::Wrong),
        [Output::Play(en(InvalidPin))]
    );
    call.listen();
    let out = call.keys("4711#");
    assert_eq!(checked(&out).as_deref(), Some("4711"));
    assert!(matches!(
        call.verdict(PinVerdict::Admit(room("800")))[..],
        [Output::Join { .. }]
    ));
}

#[test]
fn wrong_pin_three_times_says_goodbye_then_hangs_up() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    for _ in 0..2 {
        call.keys("1111#");
        assert_eq!(played(&call.verdict(PinVerdict::Wrong)), [en(InvalidPin)]);
        call.listen();
    }
    call.keys("2222#");
    assert_eq!(
        call.verdict(PinVerdict::Wrong),
        [Output::Play(en(TooManyAttempts))]
    );
    assert_eq!(call.finish_prompt(), [Output::Play(en(Goodbye))]);
    assert!(!call.menu.is_done(), "no hang-up before goodbye finished");
    assert_eq!(
        call.finish_prompt(),
        [Output::HangUp(HangUpReason::TooManyAttempts)]
    );
    assert!(call.menu.is_done());
}

#[test]
fn silence_repeats_the_prompt_twice_then_says_goodbye() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert!(call.wait(9.9).is_empty());
    assert_eq!(call.wait(0.1), [Output::Play(en(EnterPin))]);
    assert_eq!(call.elapsed(), 10.0);
    call.listen();
    assert_eq!(call.wait(10.0), [Output::Play(en(EnterPin))]);
    call.listen();
    assert_eq!(call.wait(10.0), [Output::Play(en(Goodbye))]);
    assert_eq!(
        call.finish_prompt(),
        [Output::HangUp(HangUpReason::NoInput)]
    );
}

#[test]
fn silence_is_counted_from_the_end_of_the_prompt() {
    let (mut call, _) = Call::start(with_pin("800"));
    assert!(call.wait(60.0).is_empty(), "a long prompt is no silence");
    call.listen();
    assert_eq!(
        call.menu.poll_timeout(),
        Some(call.now + std::time::Duration::from_secs(10))
    );
}

#[test]
fn a_key_restarts_the_silence_count() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    for _ in 0..2 {
        call.wait(10.0);
        call.listen();
    }
    call.keys("4");
    assert_eq!(
        played(&call.wait(10.0)),
        [en(EnterPin)],
        "repeat, not goodbye"
    );
}

#[test]
fn silence_discards_a_half_typed_pin() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    call.keys("47");
    call.wait(10.0);
    call.listen();
    assert_eq!(checked(&call.keys("4711#")).as_deref(), Some("4711"));
}

#[test]
fn star_clears_what_was_typed() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert_eq!(checked(&call.keys("99*4711#")).as_deref(), Some("4711"));
}

#[test]
fn key_during_a_prompt_interrupts_it_and_counts() {
    let (mut call, _) = Call::start(with_pin("800"));
    assert_eq!(
        call.keys("4"),
        [Output::StopPrompt],
        "the language offer is dropped too"
    );
    assert_eq!(
        call.menu.poll_timeout(),
        Some(call.now + std::time::Duration::from_secs(10))
    );
    assert_eq!(checked(&call.keys("711#")).as_deref(), Some("4711"));
}

#[test]
fn key_during_invalid_pin_prompt_interrupts_it() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    call.keys("1111#");
    call.verdict(PinVerdict::Wrong);
    let out = call.keys("4711#");
    assert_eq!(out[0], Output::StopPrompt);
    assert_eq!(checked(&out).as_deref(), Some("4711"));
}

#[test]
fn goodbye_is_not_interrupted_by_keys() {
    let (mut call, _) = Call::start(Entry::Refused(Refusal::RoomLocked));
    assert!(call.keys("4711#").is_empty());
    assert_eq!(
        call.listen(),
        [
            Output::Play(en(Goodbye)),
            Output::HangUp(HangUpReason::Refused(Refusal::RoomLocked))
        ]
    );
}

#[test]
fn lone_hash_repeats_the_prompt_without_counting_a_try() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert_eq!(call.keys("#"), [Output::Play(en(EnterPin))]);
    for _ in 0..5 {
        call.keys("#");
    }
    call.keys("4711#");
    assert!(matches!(
        call.verdict(PinVerdict::Admit(room("800")))[..],
        [Output::Join { .. }]
    ));
}

#[test]
fn entry_that_cannot_be_a_pin_is_a_wrong_try_without_a_lookup() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert_eq!(call.keys("123#"), [Output::Play(en(InvalidPin))]);
    call.listen();
    assert_eq!(call.keys("1234567890123#"), [Output::Play(en(InvalidPin))]);
    call.listen();
    let out = call.keys("0#");
    assert_eq!(played(&out), [en(TooManyAttempts)]);
    assert_eq!(checked(&out), None);
}

#[test]
fn keys_other_than_digits_star_and_hash_are_ignored() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert!(call.keys("ABCD!x").is_empty());
    assert_eq!(checked(&call.keys("47A11#")).as_deref(), Some("4711"));
}

#[test]
fn keys_while_the_pin_is_checked_are_ignored() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    call.keys("4711#");
    assert!(call.keys("99#").is_empty());
    assert_eq!(
        call.menu.poll_timeout(),
        Some(call.t0 + std::time::Duration::from_secs(180))
    );
    assert!(matches!(
        call.verdict(PinVerdict::Admit(room("800")))[..],
        [Output::Join { .. }]
    ));
}

#[test]
fn verdict_without_a_pending_check_is_ignored() {
    let (mut call, _) = Call::start(with_pin("800"));
    assert!(call.verdict(PinVerdict::Admit(room("800"))).is_empty());
    call.listen();
    call.keys("4711#");
    call.verdict(PinVerdict::Wrong);
    assert!(
        call.verdict(PinVerdict::Admit(room("800"))).is_empty(),
        "a second answer"
    );
}

#[test]
fn room_without_pin_joins_at_once() {
    let entry = Entry::Room {
        room: room("801"),
        pin_required: false,
    };
    let (call, out) = Call::start(entry);
    assert_eq!(
        out,
        [Output::Join {
            room: room("801"),
            language: Language::English
        }]
    );
    assert!(call.menu.is_done());
}

#[test]
fn refused_entry_says_why_then_goodbye() {
    for (refusal, phrase) in [
        (Refusal::CallerLocked, TryLater),
        (Refusal::RoomLocked, TryLater),
        (Refusal::NotStarted, NotStarted),
        (Refusal::Ended, ConferenceEnded),
        (Refusal::Locked, ConferenceLocked),
        (Refusal::Full, ConferenceFull),
    ] {
        let (mut call, out) = Call::start(Entry::Refused(refusal));
        assert_eq!(out, [Output::Play(en(phrase))]);
        assert_eq!(call.finish_prompt(), [Output::Play(en(Goodbye))]);
        assert_eq!(
            call.finish_prompt(),
            [Output::HangUp(HangUpReason::Refused(refusal))]
        );
    }
}

#[test]
fn refused_verdict_ends_the_call_even_for_a_right_pin() {
    let (mut call, _) = Call::start(Entry::Shared);
    call.listen();
    call.keys("4711#");
    assert_eq!(
        call.verdict(PinVerdict::Refused(Refusal::NotStarted)),
        [Output::Play(en(NotStarted))]
    );
    assert_eq!(
        call.listen().last(),
        Some(&Output::HangUp(HangUpReason::Refused(Refusal::NotStarted)))
    );
}

#[test]
fn slow_typist_is_cut_off_at_the_time_limit() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    let mut out = Vec::new();
    while !call.menu.is_done() {
        out.extend(call.keys("1"));
        out.extend(call.wait(9.0));
        out.extend(call.listen());
    }
    assert_eq!(out.last(), Some(&Output::HangUp(HangUpReason::TimeLimit)));
    assert!(call.elapsed() <= 181.0, "ended after {} s", call.elapsed());
}

#[test]
fn line_is_cut_when_goodbye_never_finishes() {
    let (mut call, _) = Call::start(Entry::Refused(Refusal::Full));
    let out = call.wait(30.0);
    assert_eq!(
        out,
        [
            Output::StopPrompt,
            Output::HangUp(HangUpReason::Refused(Refusal::Full))
        ]
    );
}

#[test]
fn pending_check_is_abandoned_at_the_time_limit() {
    let (mut call, _) = Call::start(Entry::Shared);
    call.listen();
    call.keys("4711#");
    assert_eq!(call.wait(180.0), [Output::Play(en(Goodbye))]);
    assert!(
        call.verdict(PinVerdict::Admit(room("800"))).is_empty(),
        "late answer"
    );
    assert_eq!(
        call.finish_prompt(),
        [Output::HangUp(HangUpReason::TimeLimit)]
    );
}

#[test]
fn start_twice_and_inputs_before_start_are_harmless() {
    let mut call = Call::new(with_pin("800"), MenuConfig::default());
    call.menu.digit(call.now, '1');
    call.menu.prompt_finished(call.now);
    call.menu.handle_timeout(call.now);
    assert_eq!(call.drain(), []);
    assert_eq!(call.menu.poll_timeout(), None);
    call.menu.start(call.now);
    call.menu.start(call.now);
    assert_eq!(call.drain(), [Output::Play(en(EnterPin))]);
}
