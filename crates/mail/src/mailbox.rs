//! [`Mailbox`]: a display name and an e-mail address, validated at the edge.

use std::fmt;

use crate::clean;
use crate::error::MailError;

/// A person's mailbox: an optional display name and an e-mail address (`addr-spec`,
/// RFC 5322 §3.4.1). The fields are public for convenience; [`compose`](crate::compose) and
/// [`calendar`](crate::calendar) validate them again, so a hand-built invalid one is
/// refused there rather than sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, e.g. `Anna Müller`; `None` or blank shows the bare address.
    pub name: Option<String>,
    /// The address, e.g. `anna@example.org`.
    pub email: String,
}

impl Mailbox {
    /// A mailbox from a name and an address; fails with [`MailError::InvalidAddress`]
    /// naming `email` when it is not a valid address.
    pub fn new(name: Option<&str>, email: &str) -> Result<Mailbox, MailError> {
        let email = email.trim();
        check_address(email)?;
        Ok(Mailbox {
            name: name.map(str::to_owned),
            email: email.to_owned(),
        })
    }

    /// Parses `anna@example.org` or `Anna Müller <anna@example.org>` (a quoted display name
    /// works too); fails with [`MailError::InvalidAddress`] naming the input.
    pub fn parse(s: &str) -> Result<Mailbox, MailError> {
        let parsed: lettre::message::Mailbox = s
            .trim()
            .parse()
            .map_err(|_| MailError::InvalidAddress(s.to_owned()))?;
        Ok(Mailbox {
            name: parsed.name,
            email: parsed.email.to_string(),
        })
    }

    /// The display name with control characters removed, or `None` when it is blank.
    pub(crate) fn display_name(&self) -> Option<String> {
        self.name
            .as_deref()
            .map(clean::one_line)
            .filter(|n| !n.is_empty())
    }

    /// lettre's mailbox for the headers; validates the address again.
    pub(crate) fn to_lettre(&self) -> Result<lettre::message::Mailbox, MailError> {
        Ok(lettre::message::Mailbox::new(
            self.display_name(),
            check_address(self.email.trim())?,
        ))
    }

    /// The `mailto:` URI used as an iCalendar CAL-ADDRESS (RFC 5545 §3.3.3).
    pub(crate) fn mailto(&self) -> String {
        format!("mailto:{}", self.email.trim())
    }
}

impl fmt::Display for Mailbox {
    /// `Anna Müller <anna@example.org>` or the bare address (not header-encoded).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.display_name() {
            Some(name) => write!(f, "{name} <{}>", self.email),
            None => f.write_str(&self.email),
        }
    }
}

/// Validates an `addr-spec` with lettre's parser.
fn check_address(email: &str) -> Result<lettre::Address, MailError> {
    email
        .parse::<lettre::Address>()
        .map_err(|_| MailError::InvalidAddress(email.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_address() {
        let m = Mailbox::parse("Anna Müller <anna@example.org>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Anna Müller"));
        assert_eq!(m.email, "anna@example.org");
        assert_eq!(m.to_string(), "Anna Müller <anna@example.org>");
    }

    #[test]
    fn parses_bare_address() {
        let m = Mailbox::parse(" bob@example.org ").unwrap();
        assert_eq!(m.name, None);
        assert_eq!(m.email, "bob@example.org");
    }

    #[test]
    fn bad_address_is_named_in_the_error() {
        let err = Mailbox::parse("bob@@example").unwrap_err();
        assert!(matches!(&err, MailError::InvalidAddress(a) if a == "bob@@example"));
        assert!(err.to_string().contains("bob@@example"));
        let err = Mailbox::new(Some("Bob"), "no-at-sign").unwrap_err();
        assert!(err.to_string().contains("no-at-sign"));
    }

    #[test]
    fn hand_built_invalid_mailbox_is_refused_later() {
        let m = Mailbox {
            name: None,
            email: "not an address".into(),
        };
        assert!(matches!(m.to_lettre(), Err(MailError::InvalidAddress(_))));
    }
}
