//! `Dialable`: a number the server may call — E.164 (`+41441234567`), an internal or
//! national number (`201`, `0441234567`), or a registered phone's user name (`alice`).
//! Parsed at the edge (CLI, API, scheduler), so nothing that is not a valid SIP user part
//! ever reaches the dial plan or a Request-URI.

use std::fmt;

/// The longest number accepted (E.164 has at most 15 digits; user names are short).
pub const DIALABLE_MAX_LEN: usize = 64;

/// A number (or SIP user name) that can be dialled as the user part of a SIP URI without
/// escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dialable(String);

/// Why a text cannot be dialled. Variants name the problem, not the number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DialableError {
    #[error("number is empty")]
    Empty,
    #[error("number is longer than {DIALABLE_MAX_LEN} characters")]
    TooLong,
    #[error(
        "number contains {0:?}; use digits (a leading '+' for E.164), or letters, '-', '_', '.' and '*' for a phone's user name"
    )]
    BadCharacter(char),
    #[error("'+' may only stand first, followed by digits (E.164)")]
    MisplacedPlus,
}

impl Dialable {
    /// Parses a number as typed: spaces and the usual separators (`-`, `/`, `(`, `)`)
    /// between digits are dropped from numbers (`+41 44 123-45-67`); a user name is taken
    /// as it stands.
    pub fn parse(text: &str) -> Result<Self, DialableError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DialableError::Empty);
        }
        let numeric = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/().".contains(c))
            && text.chars().any(|c| c.is_ascii_digit());
        let cleaned: String = if numeric {
            text.chars().filter(|c| !" -/().".contains(*c)).collect()
        } else {
            text.to_owned()
        };
        if cleaned.len() > DIALABLE_MAX_LEN {
            return Err(DialableError::TooLong);
        }
        if let Some(rest) = cleaned.strip_prefix('+') {
            if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
                return Err(DialableError::MisplacedPlus);
            }
            return Ok(Self(cleaned));
        }
        if let Some(c) = cleaned
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*')))
        {
            return Err(if c == '+' {
                DialableError::MisplacedPlus
            } else {
                DialableError::BadCharacter(c)
            });
        }
        Ok(Self(cleaned))
    }

    /// The number as dialled.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is an E.164 number (`+` and digits).
    pub fn is_e164(&self) -> bool {
        self.0.starts_with('+')
    }
}

impl fmt::Display for Dialable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Dialable {
    type Err = DialableError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_cleaned_and_user_names_kept() {
        assert_eq!(
            Dialable::parse("+41 44 123-45-67").unwrap().as_str(),
            "+41441234567"
        );
        assert_eq!(
            Dialable::parse("(044) 123 45 67").unwrap().as_str(),
            "0441234567"
        );
        assert_eq!(Dialable::parse("201").unwrap().as_str(), "201");
        assert_eq!(Dialable::parse("alice").unwrap().as_str(), "alice");
        assert_eq!(Dialable::parse("*97").unwrap().as_str(), "*97");
        assert!(Dialable::parse("+41441234567").unwrap().is_e164());
    }

    #[test]
    fn what_a_sip_user_part_cannot_hold_is_refused() {
        assert_eq!(Dialable::parse(""), Err(DialableError::Empty));
        assert_eq!(Dialable::parse("  "), Err(DialableError::Empty));
        assert_eq!(
            Dialable::parse("12#"),
            Err(DialableError::BadCharacter('#'))
        );
        assert_eq!(
            Dialable::parse("a@b"),
            Err(DialableError::BadCharacter('@'))
        );
        assert_eq!(
            Dialable::parse("a;b"),
            Err(DialableError::BadCharacter(';'))
        );
        assert_eq!(
            Dialable::parse("a b"),
            Err(DialableError::BadCharacter(' '))
        );
        assert_eq!(Dialable::parse("12+3"), Err(DialableError::MisplacedPlus));
        assert_eq!(Dialable::parse("+"), Err(DialableError::MisplacedPlus));
        assert_eq!(Dialable::parse("+4a"), Err(DialableError::MisplacedPlus));
        assert_eq!(
            Dialable::parse(&"1".repeat(65)),
            Err(DialableError::TooLong)
        );
    }
}
