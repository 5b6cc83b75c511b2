//! `RoomNumber`: the number callers dial to reach a conference room (the SIP user part).

use std::fmt;
use std::str::FromStr;

/// The number of a conference room, as dialled: `sip:800@host` reaches room `800`.
///
/// 1–32 characters of digits, ASCII letters, `+`, `-`, `_` and `.`; so it is always a
/// valid SIP user part without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomNumber(String);

/// Why a text is not a room number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoomNumberError {
    /// Nothing was given.
    #[error("room number is empty")]
    Empty,
    /// Longer than 32 characters.
    #[error("room number is longer than 32 characters")]
    TooLong,
    /// A character outside digits, letters and `+-_.`.
    #[error("room number contains {0:?}; use digits, letters, '+', '-', '_' or '.'")]
    BadCharacter(char),
}

impl RoomNumber {
    /// Parses and checks a room number.
    pub fn parse(text: &str) -> Result<Self, RoomNumberError> {
        if text.is_empty() {
            return Err(RoomNumberError::Empty);
        }
        if text.chars().count() > 32 {
            return Err(RoomNumberError::TooLong);
        }
        if let Some(c) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.')))
        {
            return Err(RoomNumberError::BadCharacter(c));
        }
        Ok(Self(text.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RoomNumber {
    type Err = RoomNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for RoomNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for RoomNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_digits_and_sip_safe_characters() {
        assert_eq!(RoomNumber::parse("800").unwrap().as_str(), "800");
        assert!(RoomNumber::parse("+4930-123_4.5").is_ok());
        assert!(RoomNumber::parse("sales").is_ok());
    }

    #[test]
    fn rejects_empty_long_and_unsafe_numbers() {
        assert_eq!(RoomNumber::parse(""), Err(RoomNumberError::Empty));
        assert_eq!(
            RoomNumber::parse(&"1".repeat(33)),
            Err(RoomNumberError::TooLong)
        );
        assert_eq!(
            RoomNumber::parse("80 0"),
            Err(RoomNumberError::BadCharacter(' '))
        );
        assert_eq!(
            RoomNumber::parse("8@0"),
            Err(RoomNumberError::BadCharacter('@'))
        );
    }
}
