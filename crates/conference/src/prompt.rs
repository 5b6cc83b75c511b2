//! What callers hear: languages, the phrases of the voice menu and their stable file names.
//!
//! Each [`PromptId`] is one audio file, `<language>/<phrase>.wav` (e.g. `de/enter-pin.wav`),
//! so a script can generate the default set from [`PromptId::default_text`] and an
//! administrator can replace any single file.

use std::borrow::Cow;
use std::fmt;

/// A language the prompts exist in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// English, `en`; the caller selects it with `*` `1`.
    English,
    /// German, `de`; the caller selects it with `*` `2`.
    German,
}

/// Why a text is not a language code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown language {0:?}; use \"en\" or \"de\"")]
pub struct LanguageError(pub String);

impl Language {
    /// Every language, in the order of their switch digits.
    pub const ALL: [Language; 2] = [Language::English, Language::German];

    /// The ISO 639-1 code, also the prompt folder name.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
        }
    }

    /// Parses an ISO 639-1 code (`en`, `de`; case-insensitive).
    pub fn parse(code: &str) -> Result<Self, LanguageError> {
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| LanguageError(code.to_owned()))
    }

    /// The digit that selects this language after `*` at the start of PIN entry.
    pub fn switch_digit(self) -> char {
        match self {
            Language::English => '1',
            Language::German => '2',
        }
    }

    /// The language a switch digit selects, if any.
    pub fn from_switch_digit(digit: char) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.switch_digit() == digit)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The largest number with its own recording; more is "many other participants".
pub const MAX_SPOKEN_NUMBER: u8 = 99;

/// What is said, independent of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phrase {
    /// "Please enter the conference PIN, followed by the hash key."
    EnterPin,
    /// "That PIN is not valid. Please try again."
    InvalidPin,
    /// "Too many wrong attempts."
    TooManyAttempts,
    /// Caller or room locked out by the throttle: "PIN entry is blocked. Please try again later."
    TryLater,
    /// "Goodbye."
    Goodbye,
    /// Offered in its own language after [`Phrase::EnterPin`]: "For English, press star, one."
    LanguageOffer,
    /// "English." — confirms a language switch.
    LanguageSwitched,
    /// "You are now in the conference,"
    YouAreIn,
    /// "you are the only participant so far."
    AloneInRoom,
    /// "with one other participant."
    OneOtherParticipant,
    /// A number, 0 to [`MAX_SPOKEN_NUMBER`], one recording each (keeps grammar right).
    Number(u8),
    /// "other participants." — after a [`Phrase::Number`].
    OtherParticipants,
    /// "with many other participants." — for more than [`MAX_SPOKEN_NUMBER`].
    ManyOtherParticipants,
    /// Outside the schedule window, before it: "This conference has not started yet."
    NotStarted,
    /// Outside the schedule window, after it: "This conference has ended."
    ConferenceEnded,
    /// Locked by a moderator: "This conference is locked."
    ConferenceLocked,
    /// "This conference is full."
    ConferenceFull,
    /// Played to the room before a scheduled end: "This conference will end in a few minutes."
    EndsSoon,
    /// Before a scheduled conference's window: "This conference starts at" — then the hour
    /// and minute as [`Phrase::Number`]s (see [`starts_at`]).
    StartsAt,
    /// "o'clock" / "Uhr", in a spoken time.
    OClock,
    /// Five minutes before a scheduled end: "This conference ends in five minutes."
    EndsInFiveMinutes,
    /// One minute before a scheduled end: "This conference ends in one minute."
    EndsInOneMinute,
}

impl Phrase {
    /// Every phrase with a recording, numbers included, in a fixed order.
    pub fn all() -> impl Iterator<Item = Phrase> {
        use Phrase::*;
        let fixed = [
            EnterPin,
            InvalidPin,
            TooManyAttempts,
            TryLater,
            Goodbye,
            LanguageOffer,
            LanguageSwitched,
            YouAreIn,
            AloneInRoom,
            OneOtherParticipant,
            OtherParticipants,
            ManyOtherParticipants,
            NotStarted,
            ConferenceEnded,
            ConferenceLocked,
            ConferenceFull,
            EndsSoon,
            StartsAt,
            OClock,
            EndsInFiveMinutes,
            EndsInOneMinute,
        ];
        fixed.into_iter().chain((0..=MAX_SPOKEN_NUMBER).map(Number))
    }

    /// The stable file name without extension: `enter-pin`, `number-7`.
    pub fn file_stem(self) -> Cow<'static, str> {
        use Phrase::*;
        Cow::Borrowed(match self {
            EnterPin => "enter-pin",
            InvalidPin => "invalid-pin",
            TooManyAttempts => "too-many-attempts",
            TryLater => "try-later",
            Goodbye => "goodbye",
            LanguageOffer => "language-offer",
            LanguageSwitched => "language-switched",
            YouAreIn => "you-are-in",
            AloneInRoom => "alone-in-room",
            OneOtherParticipant => "one-other-participant",
            Number(n) => return Cow::Owned(format!("number-{n}")),
            OtherParticipants => "other-participants",
            ManyOtherParticipants => "many-other-participants",
            NotStarted => "not-started",
            ConferenceEnded => "conference-ended",
            ConferenceLocked => "conference-locked",
            ConferenceFull => "conference-full",
            EndsSoon => "ends-soon",
            StartsAt => "starts-at",
            OClock => "o-clock",
            EndsInFiveMinutes => "ends-in-five-minutes",
            EndsInOneMinute => "ends-in-one-minute",
        })
    }

    /// In a given language.
    pub fn in_language(self, language: Language) -> PromptId {
        PromptId {
            language,
            phrase: self,
        }
    }
}

/// One recording: a phrase in a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId {
    /// The language it is spoken in.
    pub language: Language,
    /// What is said.
    pub phrase: Phrase,
}

impl PromptId {
    /// Every recording the product needs: all phrases in all languages.
    pub fn all() -> impl Iterator<Item = PromptId> {
        Language::ALL
            .into_iter()
            .flat_map(|l| Phrase::all().map(move |p| p.in_language(l)))
    }

    /// The stable file name without extension, e.g. `enter-pin`.
    pub fn file_stem(&self) -> Cow<'static, str> {
        self.phrase.file_stem()
    }

    /// The path below the prompt directory: `en/enter-pin.wav`.
    pub fn relative_path(&self) -> String {
        format!("{}/{}.wav", self.language.code(), self.file_stem())
    }

    /// The text the default recording speaks (input for the generating script).
    pub fn default_text(&self) -> Cow<'static, str> {
        use Language::*;
        use Phrase::*;
        // Numbers as digits: a speech synthesiser reads "21" right in every language.
        if let Number(n) = self.phrase {
            return Cow::Owned(n.to_string());
        }
        Cow::Borrowed(match (self.phrase, self.language) {
            (EnterPin, English) => "Please enter the conference PIN, followed by the hash key.",
            (EnterPin, German) => {
                "Bitte geben Sie die Konferenz-PIN ein, gefolgt von der Rautetaste."
            }
            (InvalidPin, English) => "That PIN is not valid. Please try again.",
            (InvalidPin, German) => "Diese PIN ist ungültig. Bitte versuchen Sie es noch einmal.",
            (TooManyAttempts, English) => "Too many wrong attempts.",
            (TooManyAttempts, German) => "Zu viele falsche Versuche.",
            (TryLater, English) => "PIN entry is blocked for now. Please try again later.",
            (TryLater, German) => {
                "Die PIN-Eingabe ist gesperrt. Bitte versuchen Sie es später noch einmal."
            }
            (Goodbye, English) => "Goodbye.",
            (Goodbye, German) => "Auf Wiederhören.",
            (LanguageOffer, English) => "For English, press star, one.",
            (LanguageOffer, German) => "Für Deutsch drücken Sie Stern, zwei.",
            (LanguageSwitched, English) => "English.",
            (LanguageSwitched, German) => "Deutsch.",
            (YouAreIn, English) => "You are now in the conference,",
            (YouAreIn, German) => "Sie sind jetzt in der Konferenz,",
            (AloneInRoom, English) => "you are the only participant so far.",
            (AloneInRoom, German) => "bisher sind Sie allein.",
            (OneOtherParticipant, English) => "with one other participant.",
            (OneOtherParticipant, German) => "mit einer weiteren Person.",
            (OtherParticipants, English) => "other participants.",
            (OtherParticipants, German) => "weitere Teilnehmende.",
            (ManyOtherParticipants, English) => "with many other participants.",
            (ManyOtherParticipants, German) => "mit vielen weiteren Teilnehmenden.",
            (NotStarted, English) => "This conference has not started yet.",
            (NotStarted, German) => "Diese Konferenz hat noch nicht begonnen.",
            (ConferenceEnded, English) => "This conference has ended.",
            (ConferenceEnded, German) => "Diese Konferenz ist beendet.",
            (ConferenceLocked, English) => "This conference is locked.",
            (ConferenceLocked, German) => "Diese Konferenz ist gesperrt.",
            (ConferenceFull, English) => "This conference is full.",
            (ConferenceFull, German) => "Diese Konferenz ist voll.",
            (EndsSoon, English) => "This conference will end in a few minutes.",
            (EndsSoon, German) => "Diese Konferenz endet in wenigen Minuten.",
            (StartsAt, English) => "This conference starts at",
            (StartsAt, German) => "Diese Konferenz beginnt um",
            (OClock, English) => "o'clock.",
            (OClock, German) => "Uhr",
            (EndsInFiveMinutes, English) => "This conference ends in five minutes.",
            (EndsInFiveMinutes, German) => "Diese Konferenz endet in fünf Minuten.",
            (EndsInOneMinute, English) => "This conference ends in one minute.",
            (EndsInOneMinute, German) => "Diese Konferenz endet in einer Minute.",
            (Number(_), _) => unreachable!("numbers returned above"),
        })
    }
}

impl fmt::Display for PromptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.language.code(), self.file_stem())
    }
}

/// "This conference starts at HH:MM" as phrases, the way each language says a time:
/// English "starts at 9 o'clock" / "starts at 9 30", German "beginnt um 9 Uhr" / "um 9 Uhr 30".
pub fn starts_at(language: Language, hour: u8, minute: u8) -> Vec<Phrase> {
    let (hour, minute) = (hour.min(23), minute.min(59));
    let mut phrases = vec![Phrase::StartsAt, Phrase::Number(hour)];
    match (language, minute) {
        (Language::English, 0) => phrases.push(Phrase::OClock),
        (Language::English, m) => phrases.push(Phrase::Number(m)),
        (Language::German, 0) => phrases.push(Phrase::OClock),
        (Language::German, m) => phrases.extend([Phrase::OClock, Phrase::Number(m)]),
    }
    phrases
}

/// What a newcomer hears on joining: "you are now in the conference, N other participants".
///
/// The room calls this at the moment it admits the caller, because only the room knows N
/// then (the voice menu ends with [`crate::Output::Join`] and does not count participants).
/// `others` excludes the newcomer.
pub fn join_announcement(language: Language, others: usize) -> Vec<PromptId> {
    let phrases: &[Phrase] = match others {
        0 => &[Phrase::YouAreIn, Phrase::AloneInRoom],
        1 => &[Phrase::YouAreIn, Phrase::OneOtherParticipant],
        n if n <= usize::from(MAX_SPOKEN_NUMBER) => {
            return vec![
                Phrase::YouAreIn.in_language(language),
                Phrase::Number(n as u8).in_language(language),
                Phrase::OtherParticipants.in_language(language),
            ];
        }
        _ => &[Phrase::YouAreIn, Phrase::ManyOtherParticipants],
    };
    phrases.iter().map(|p| p.in_language(language)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_start_time_is_said_as_each_language_says_it() {
        use Phrase::*;
        assert_eq!(
            starts_at(Language::English, 9, 0),
            [StartsAt, Number(9), OClock]
        );
        assert_eq!(
            starts_at(Language::English, 14, 30),
            [StartsAt, Number(14), Number(30)]
        );
        assert_eq!(
            starts_at(Language::German, 9, 0),
            [StartsAt, Number(9), OClock]
        );
        assert_eq!(
            starts_at(Language::German, 14, 5),
            [StartsAt, Number(14), OClock, Number(5)]
        );
    }

    #[test]
    fn file_stems_are_stable_and_unique() {
        assert_eq!(
            Phrase::EnterPin.in_language(Language::English).file_stem(),
            "enter-pin"
        );
        assert_eq!(Phrase::Number(7).file_stem(), "number-7");
        assert_eq!(
            Phrase::Goodbye
                .in_language(Language::German)
                .relative_path(),
            "de/goodbye.wav"
        );
        let paths: HashSet<String> = PromptId::all().map(|p| p.relative_path()).collect();
        assert_eq!(paths.len(), PromptId::all().count());
        assert_eq!(paths.len(), 2 * (21 + 100));
    }

    #[test]
    fn every_prompt_has_a_default_text() {
        for prompt in PromptId::all() {
            assert!(!prompt.default_text().is_empty(), "{prompt}");
        }
        assert_eq!(
            Phrase::Number(21)
                .in_language(Language::German)
                .default_text(),
            "21"
        );
    }

    #[test]
    fn languages_parse_from_their_codes_and_switch_digits() {
        assert_eq!(Language::parse("DE"), Ok(Language::German));
        assert_eq!(Language::parse("en"), Ok(Language::English));
        assert!(Language::parse("fr").is_err());
        for l in Language::ALL {
            assert_eq!(Language::from_switch_digit(l.switch_digit()), Some(l));
        }
        assert_eq!(Language::from_switch_digit('9'), None);
        assert_eq!(Language::from_switch_digit('*'), None);
    }

    #[test]
    fn join_announcement_speaks_the_number_of_others() {
        use Phrase::*;
        let phrases = |n| -> Vec<Phrase> {
            join_announcement(Language::English, n)
                .into_iter()
                .map(|p| p.phrase)
                .collect()
        };
        assert_eq!(phrases(0), [YouAreIn, AloneInRoom]);
        assert_eq!(phrases(1), [YouAreIn, OneOtherParticipant]);
        assert_eq!(phrases(2), [YouAreIn, Number(2), OtherParticipants]);
        assert_eq!(phrases(99), [YouAreIn, Number(99), OtherParticipants]);
        assert_eq!(phrases(100), [YouAreIn, ManyOtherParticipants]);
        assert!(
            join_announcement(Language::German, 5)
                .iter()
                .all(|p| p.language == Language::German)
        );
    }
}
