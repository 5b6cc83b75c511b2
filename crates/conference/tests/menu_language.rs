//! The voice menu's language choice: `*` and a digit before the PIN, if the room allows it.

mod support;

use konferenz_conference::*;
use support::*;

use Phrase::*;

#[test]
fn star_then_digit_switches_language_before_the_pin() {
    let (mut call, _) = Call::start(with_pin("800"));
    let out = call.keys("*2");
    assert_eq!(
        out,
        [Output::StopPrompt, Output::Play(de(LanguageSwitched))]
    );
    assert_eq!(call.listen(), [Output::Play(de(EnterPin))]);
    call.keys("4711#");
    let joined = call.verdict(PinVerdict::Admit(room("800")));
    assert_eq!(
        joined,
        [Output::Join {
            room: room("800"),
            language: Language::German
        }]
    );
}

#[test]
fn german_room_offers_english_and_keeps_german_after_a_wrong_pin() {
    let config = MenuConfig {
        language: Language::German,
        ..MenuConfig::default()
    };
    let (mut call, out) = Call::start_with(with_pin("800"), config);
    assert_eq!(out, [Output::Play(de(EnterPin))]);
    assert_eq!(call.listen(), [Output::Play(en(LanguageOffer))]);
    call.keys("1111#");
    assert_eq!(
        call.verdict(PinVerdict::Wrong),
        [Output::Play(de(InvalidPin))]
    );
    call.listen();
    call.keys("*1");
    assert_eq!(
        call.menu.language(),
        Language::English,
        "switching works after a wrong try"
    );
}

#[test]
fn star_then_other_digit_starts_the_pin() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert_eq!(checked(&call.keys("*4711#")).as_deref(), Some("4711"));
    assert_eq!(call.menu.language(), Language::English);
}

#[test]
fn star_clears_rather_than_switches_once_digits_are_typed() {
    let (mut call, _) = Call::start(with_pin("800"));
    call.listen();
    assert_eq!(checked(&call.keys("9*2222#")).as_deref(), Some("2222"));
    assert_eq!(call.menu.language(), Language::English);
}

#[test]
fn language_switch_not_offered_when_the_room_forbids_it() {
    let config = MenuConfig {
        language_switch: false,
        ..MenuConfig::default()
    };
    let (mut call, out) = Call::start_with(with_pin("800"), config);
    assert_eq!(out, [Output::Play(en(EnterPin))]);
    assert!(call.finish_prompt().is_empty(), "no language offer");
    assert_eq!(checked(&call.keys("*2222#")).as_deref(), Some("2222"));
    assert_eq!(call.menu.language(), Language::English);
}

#[test]
fn a_scheduled_conference_refuses_in_its_own_language() {
    let (mut call, _) = Call::start(Entry::Shared);
    call.listen();
    call.keys("482913#");
    let refusal = Refusal::StartsAt { hour: 9, minute: 0 };
    assert_eq!(
        call.verdict(PinVerdict::RefusedIn(refusal, Language::German)),
        [Output::Play(de(StartsAt))],
        "an English menu, a German conference: told in German"
    );
    assert_eq!(call.menu.language(), Language::German);
}

#[test]
fn a_language_the_caller_chose_wins_over_the_conference_s() {
    let (mut call, _) = Call::start(Entry::Shared);
    call.keys("*1");
    call.listen();
    call.keys("482913#");
    assert_eq!(
        call.verdict(PinVerdict::RefusedIn(Refusal::Ended, Language::German)),
        [Output::Play(en(ConferenceEnded))]
    );
}
