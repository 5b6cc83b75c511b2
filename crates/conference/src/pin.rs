//! `Pin`: the digits that admit a caller to a room; shown only as `****`, compared in
//! constant time.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// The fewest digits a PIN has.
pub const PIN_MIN_DIGITS: usize = 4;
/// The most digits a PIN has.
pub const PIN_MAX_DIGITS: usize = 12;

/// A conference PIN: 4–12 decimal digits, as typed on a phone's keypad.
///
/// `Debug` and `Display` never print the digits (`Pin(****)`, `****`), so a PIN cannot reach
/// a log by accident (style habit 9); the places that must show them (the invitation mail,
/// the database) ask for them by name with [`Pin::reveal`]. Equality takes the same time
/// whichever digit differs, so comparing a guess leaks nothing through timing.
#[derive(Clone, Copy)]
pub struct Pin {
    /// ASCII digits, zero bytes after `len`; the zero tail makes equality a plain byte compare.
    digits: [u8; PIN_MAX_DIGITS],
    len: u8,
}

/// Why a text is not a PIN. Variants name the problem, never the digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    /// Nothing was given.
    #[error("PIN is empty")]
    Empty,
    /// Fewer than 4 digits.
    #[error("PIN has {0} digits; it needs at least 4")]
    TooShort(usize),
    /// More than 12 digits.
    #[error("PIN has more than 12 digits")]
    TooLong,
    /// A character that is not a decimal digit, at this 0-based position.
    #[error("PIN has a character that is not a digit at position {0}")]
    NotADigit(usize),
}

impl Pin {
    /// Parses and checks a PIN: 4–12 ASCII digits, nothing else (no spaces, no `#`).
    pub fn parse(text: &str) -> Result<Self, PinError> {
        if text.is_empty() {
            return Err(PinError::Empty);
        }
        if let Some(position) = text.chars().position(|c| !c.is_ascii_digit()) {
            return Err(PinError::NotADigit(position));
        }
        // All ASCII from here on, so bytes are characters.
        if text.len() < PIN_MIN_DIGITS {
            return Err(PinError::TooShort(text.len()));
        }
        if text.len() > PIN_MAX_DIGITS {
            return Err(PinError::TooLong);
        }
        let mut digits = [0; PIN_MAX_DIGITS];
        digits[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Self {
            digits,
            len: text.len() as u8,
        })
    }

    /// The digits in clear, for the few places that must show or store them (the invitation
    /// mail, the database). Never pass this to a log.
    pub fn reveal(&self) -> &str {
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or_default()
    }

    /// How many digits the PIN has.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Always false: a PIN has at least 4 digits (here for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl PartialEq for Pin {
    /// Constant time: every byte is looked at whatever the first difference is.
    fn eq(&self, other: &Self) -> bool {
        let mut diff = self.len ^ other.len;
        for (a, b) in self.digits.iter().zip(other.digits.iter()) {
            diff |= a ^ b;
        }
        // Keeps the optimiser from turning the fold into an early-exit compare.
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Pin {}

impl Hash for Pin {
    // Consistent with `eq`: equal PINs have equal `len` and `digits`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        self.digits.hash(state);
    }
}

impl FromStr for Pin {
    type Err = PinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fixed width: not even the length is shown.
        f.write_str("Pin(****)")
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_four_to_twelve_digits() {
        assert_eq!(Pin::parse("4711").unwrap().reveal(), "4711");
        assert_eq!(Pin::parse("012345678901").unwrap().reveal(), "012345678901");
        assert_eq!(Pin::parse("0000").unwrap().len(), 4);
        assert!(!Pin::parse("0000").unwrap().is_empty());
    }

    #[test]
    fn rejects_short_long_empty_and_non_digits() {
        assert_eq!(Pin::parse(""), Err(PinError::Empty));
        assert_eq!(Pin::parse("471"), Err(PinError::TooShort(3)));
        assert_eq!(Pin::parse("1234567890123"), Err(PinError::TooLong));
        assert_eq!(Pin::parse("47 11"), Err(PinError::NotADigit(2)));
        assert_eq!(Pin::parse("4711#"), Err(PinError::NotADigit(4)));
        assert_eq!(Pin::parse("٤٧١١"), Err(PinError::NotADigit(0)));
    }

    #[test]
    fn debug_and_display_never_show_digits() {
        let pin = Pin::parse("4711").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert_eq!(format!("{pin}"), "****");
        assert_eq!(format!("{:?}", Some(pin)), "Some(Pin(****))");
        let long = Pin::parse("123456789012").unwrap();
        assert_eq!(
            format!("{long:?}"),
            format!("{pin:?}"),
            "length is hidden too"
        );
    }

    #[test]
    fn errors_never_show_digits() {
        for text in ["4", "47a11", "1234567890123"] {
            let message = Pin::parse(text).unwrap_err().to_string();
            assert!(
                !message.contains("47") && !message.contains("123"),
                "{message}"
            );
        }
    }

    #[test]
    fn equal_only_with_same_digits_and_length() {
        let a = Pin::parse("4711").unwrap();
        assert_eq!(a, Pin::parse("4711").unwrap());
        assert_ne!(a, Pin::parse("4712").unwrap());
        assert_ne!(a, Pin::parse("47110").unwrap());
        assert_ne!(Pin::parse("0000").unwrap(), Pin::parse("00000").unwrap());
    }

    #[test]
    fn usable_as_map_key() {
        let mut rooms = std::collections::HashMap::new();
        rooms.insert(Pin::parse("4711").unwrap(), "800");
        assert_eq!(rooms.get(&"4711".parse::<Pin>().unwrap()), Some(&"800"));
        assert_eq!(rooms.get(&"47110".parse::<Pin>().unwrap()), None);
    }
}
