//! [`PhoneNumber`]: a number that can be called, normalised to E.164, and its [`NumberLabel`].

use std::fmt;
use std::str::FromStr;

use phonenumber::country;

/// A phone number in E.164 form (`+41441234567`), checked against the numbering plan.
///
/// Built at the edge with [`PhoneNumber::parse`] from whatever people type or export
/// (`044 123 45 67`, `+49 (0)30 1234567`, `0049 30 …`) and a default country for numbers
/// written without a country code.
///
/// Phone numbers are personal data: log them at debug level only, never at info or above
/// (`debug!(number = %n)`; at info use the contact's id). `Debug` shows the number so that
/// test failures and debug logs stay readable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneNumber(String);

/// Why a text is not a [`PhoneNumber`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing but spaces and punctuation.
    #[error("the number is empty")]
    Empty,
    /// The default country is not an ISO 3166 code the numbering plan knows.
    #[error("unknown country {0:?}; use a two-letter code such as DE or CH")]
    UnknownRegion(String),
    /// Letters or other characters that no phone number contains.
    #[error("{0:?} is not a phone number")]
    NotANumber(String),
    /// It looks like a number but the numbering plan rejects it (length, country code).
    #[error("{text:?} is not a valid phone number ({reason})")]
    Invalid {
        /// The text as given.
        text: String,
        /// What is wrong with it, in words.
        reason: &'static str,
    },
    /// A stored value is not in E.164 form (the row was written by something else).
    #[error("{0:?} is not an E.164 number")]
    NotE164(String),
}

impl PhoneNumber {
    /// Parses a number as people write it; `default_region` (ISO 3166, e.g. "DE", "CH")
    /// is the country of numbers written without a country code.
    pub fn parse(text: &str, default_region: &str) -> Result<PhoneNumber, NumberError> {
        let region = parse_region(default_region)?;
        let trimmed = text.trim();
        if !trimmed.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(NumberError::Empty);
        }
        // The library reads vanity numbers (0800-FLOWERS); a phone book has none, and a
        // name pasted into a number column must be refused, not turned into digits.
        if !trimmed.chars().all(is_number_char) {
            return Err(NumberError::NotANumber(trimmed.to_owned()));
        }
        let parsed = phonenumber::parse(Some(region), trimmed).map_err(|e| invalid(trimmed, e))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(NumberError::Invalid {
                text: trimmed.to_owned(),
                reason: "no such number in the numbering plan",
            });
        }
        // The numbering plan lets some regions' numbers run past E.164's 15 digits (German
        // extensions); such a number could be stored but not read back, so it is refused.
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let number = Self::from_e164(&e164).map_err(|_| NumberError::Invalid {
            text: trimmed.to_owned(),
            reason: "longer than the 15 digits E.164 allows",
        })?;
        // Leading zeros after some country codes are dropped on the way to E.164
        // (`+47 0009167` → `+4709167`), which is then no number of the plan: what is stored
        // must read back to itself.
        let again = phonenumber::parse(Some(region), &e164).ok();
        let reads_back = again.is_some_and(|n| {
            phonenumber::is_valid(&n)
                && n.format().mode(phonenumber::Mode::E164).to_string() == e164
        });
        if !reads_back {
            return Err(NumberError::Invalid {
                text: trimmed.to_owned(),
                reason: "no such number in the numbering plan",
            });
        }
        Ok(number)
    }

    /// Reads back a number that was stored in E.164 form.
    pub fn from_e164(text: &str) -> Result<PhoneNumber, NumberError> {
        let well_formed = text.strip_prefix('+').is_some_and(|digits| {
            (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
        if !well_formed {
            return Err(NumberError::NotE164(text.to_owned()));
        }
        Ok(PhoneNumber(text.to_owned()))
    }

    /// The E.164 text, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ways someone might type the start of this number: E.164 (`+4144…`), with the
    /// international prefix (`004144…`) and the national form (`044…`), digits only except
    /// the leading `+`.
    pub(crate) fn dialled_forms(&self) -> Vec<String> {
        let digits = &self.0[1..];
        let mut forms = vec![self.0.clone(), format!("00{digits}")];
        if let Ok(parsed) = phonenumber::parse(None, &self.0) {
            let national: String = parsed
                .format()
                .mode(phonenumber::Mode::National)
                .to_string()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            forms.push(national);
        }
        forms
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a default-country code such as `DE` (case-insensitive).
pub fn parse_region(code: &str) -> Result<country::Id, NumberError> {
    code.trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .map_err(|_| NumberError::UnknownRegion(code.to_owned()))
}

/// Digits, the leading `+`, and the punctuation of written numbers: `+49 (0)30/123-45.67`.
fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || " +()-./\u{a0}".contains(c)
}

fn invalid(text: &str, error: phonenumber::ParseError) -> NumberError {
    use phonenumber::ParseError as P;
    let reason = match error {
        P::NoNumber => "too few digits",
        P::InvalidCountryCode => "unknown country code",
        P::TooShortAfterIdd | P::TooShortNsn => "too short",
        P::TooLong => "too long",
        _ => "not a phone number",
    };
    NumberError::Invalid {
        text: text.to_owned(),
        reason,
    }
}

/// What kind of number it is, as address books label them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NumberLabel {
    /// Office, business.
    Work,
    /// Mobile, cell.
    Mobile,
    /// Home, private.
    Home,
    /// Anything else (main, other, an unlabelled number).
    Other,
}

impl NumberLabel {
    /// The label's name as stored and printed: `work`, `mobile`, `home`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberLabel::Work => "work",
            NumberLabel::Mobile => "mobile",
            NumberLabel::Home => "home",
            NumberLabel::Other => "other",
        }
    }

    /// Reads the labels address books use, in English and German (`cell`, `Handy`,
    /// `geschäftlich`, `privat` …); anything unknown is [`NumberLabel::Other`].
    pub fn lenient(text: &str) -> NumberLabel {
        let t = super::search::fold(text);
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        if has(&["mobil", "cell", "handy", "natel", "iphone"]) {
            NumberLabel::Mobile
        } else if has(&[
            "work",
            "business",
            "office",
            "company",
            "geschaftlich",
            "buro",
            "dienst",
            "firma",
        ]) {
            NumberLabel::Work
        } else if has(&["home", "privat", "personal"]) {
            NumberLabel::Home
        } else {
            NumberLabel::Other
        }
    }
}

impl fmt::Display for NumberLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The label is not one of `work`, `mobile`, `home`, `other`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown number label {0:?}; use work, mobile, home or other")]
pub struct LabelError(pub String);

impl FromStr for NumberLabel {
    type Err = LabelError;

    /// Strict: the four names (and `cell` for mobile), case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "work" => Ok(NumberLabel::Work),
            "mobile" | "cell" => Ok(NumberLabel::Mobile),
            "home" => Ok(NumberLabel::Home),
            "other" => Ok(NumberLabel::Other),
            _ => Err(LabelError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_round_trips() {
        let n = PhoneNumber::parse("+41 44 123 45 67", "DE").unwrap();
        assert_eq!(PhoneNumber::from_e164(n.as_str()).unwrap(), n);
        assert!(PhoneNumber::from_e164("0441234567").is_err());
    }

    #[test]
    fn a_number_that_would_not_read_back_is_refused() {
        // Found by the phone_number fuzz target: the leading zeros are dropped on the way
        // to E.164, and `+4709167` is no number of the plan.
        let dropped = PhoneNumber::parse("+47\u{a0}0009167", "DE");
        assert!(
            matches!(dropped, Err(NumberError::Invalid { .. })),
            "{dropped:?}"
        );
        for (text, region) in [("+47 22 12 34 56", "DE"), ("+41 44 668 18 00", "DE")] {
            let n = PhoneNumber::parse(text, region).unwrap();
            assert_eq!(PhoneNumber::parse(n.as_str(), region).unwrap(), n, "{text}");
        }
    }

    #[test]
    fn a_number_too_long_for_e164_is_refused_not_stored() {
        // Found by the phone_number fuzz target: the numbering plan takes it, E.164 does not,
        // and once stored it made the phone book unreadable (500 on every list).
        let long = PhoneNumber::parse("030/1235045-45677", "DE");
        assert!(matches!(long, Err(NumberError::Invalid { .. })), "{long:?}");
        assert!(PhoneNumber::parse("+49 30 1235045 45677", "CH").is_err());
        for text in ["+49 30 12345678", "030 1234567"] {
            let n = PhoneNumber::parse(text, "DE").unwrap();
            assert_eq!(PhoneNumber::from_e164(n.as_str()).unwrap(), n, "{text}");
        }
    }

    #[test]
    fn dialled_forms_include_national() {
        let n = PhoneNumber::parse("044 123 45 67", "CH").unwrap();
        assert_eq!(
            n.dialled_forms(),
            ["+41441234567", "0041441234567", "0441234567"]
        );
    }
}
