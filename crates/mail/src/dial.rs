//! The dial-in as `tel:` URIs (RFC 3966): the number alone, and the one-tap string that
//! dials the number, pauses twice and types the PIN followed by `#`.

use crate::error::MailError;

/// The dial-in number and PIN in every form the mail shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DialIn {
    /// The number as the caller wrote it, e.g. `+41 44 123 45 67`.
    pub shown: String,
    /// The PIN, digits only.
    pub pin: String,
    /// `tel:+41441234567`.
    pub number_uri: String,
    /// `tel:+41441234567,,482913%23`: phones dial, wait two pauses, then send the PIN and
    /// `#` (escaped, since `#` would start a URI fragment).
    pub one_tap_uri: String,
}

impl DialIn {
    /// Checks the number (at least one digit) and the PIN (digits only, not empty).
    pub(crate) fn new(number: &str, pin: &str) -> Result<DialIn, MailError> {
        let dialable = dialable(number);
        if !dialable.chars().any(|c| c.is_ascii_digit()) {
            return Err(MailError::InvalidDialInNumber(number.to_owned()));
        }
        let pin = pin.trim();
        if pin.is_empty() || !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(MailError::InvalidPin);
        }
        Ok(DialIn {
            shown: crate::clean::one_line(number),
            pin: pin.to_owned(),
            number_uri: format!("tel:{dialable}"),
            one_tap_uri: format!("tel:{dialable},,{pin}%23"),
        })
    }
}

/// The digits of a shown number, with its leading `+` kept. In international form the
/// national trunk prefix written as `(0)` is not dialled, so it is dropped first:
/// `+41 (0)44 123 45 67` → `+41441234567`.
fn dialable(shown: &str) -> String {
    let shown = shown.trim();
    let international = shown.starts_with('+');
    let without_trunk = if international {
        shown.replace("(0)", "")
    } else {
        shown.to_owned()
    };
    let digits = without_trunk.chars().filter(char::is_ascii_digit);
    if international {
        std::iter::once('+').chain(digits).collect()
    } else {
        digits.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tap_uri_dials_pauses_and_sends_pin_and_hash() {
        let d = DialIn::new("+41 44 123 45 67", "482913").unwrap();
        assert_eq!(d.number_uri, "tel:+41441234567");
        assert_eq!(d.one_tap_uri, "tel:+41441234567,,482913%23");
        assert_eq!(d.shown, "+41 44 123 45 67");
    }

    #[test]
    fn trunk_prefix_in_parentheses_is_not_dialled() {
        let d = DialIn::new("+41 (0)44 123-45-67", "1").unwrap();
        assert_eq!(d.number_uri, "tel:+41441234567");
    }

    #[test]
    fn national_number_keeps_its_digits() {
        let d = DialIn::new("044 123 45 67", "1").unwrap();
        assert_eq!(d.number_uri, "tel:0441234567");
    }

    #[test]
    fn number_without_digits_is_refused() {
        assert!(matches!(
            DialIn::new("call us", "1"),
            Err(MailError::InvalidDialInNumber(n)) if n == "call us"
        ));
    }

    #[test]
    fn pin_must_be_digits() {
        assert!(matches!(
            DialIn::new("+41 1", ""),
            Err(MailError::InvalidPin)
        ));
        assert!(matches!(
            DialIn::new("+41 1", "12#4"),
            Err(MailError::InvalidPin)
        ));
    }
}
