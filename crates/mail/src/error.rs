//! [`MailError`]: everything that can stop an invitation from being composed.

/// Why an invitation could not be composed. Each variant names the offending input, so the
/// caller can tell the user which field to fix; nothing here is an I/O failure.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An e-mail address (organizer, attendee, sender, recipient or reply-to) is not a
    /// valid RFC 5322 `addr-spec`.
    #[error("invalid e-mail address {0:?}")]
    InvalidAddress(String),
    /// `time_zone` is not a name in the IANA time zone database.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// A time could not be placed in the conference's time zone (out of jiff's range).
    #[error("time {time} cannot be shown in time zone {zone}: {source}")]
    Time {
        /// The instant that failed.
        time: jiff::Timestamp,
        /// The IANA name of the zone.
        zone: String,
        /// What jiff said.
        source: jiff::Error,
    },
    /// The conference does not end after it starts.
    #[error("the conference ends ({ends}) before or when it starts ({starts})")]
    EndsBeforeStart {
        /// `Invitation::starts`.
        starts: jiff::Timestamp,
        /// `Invitation::ends`.
        ends: jiff::Timestamp,
    },
    /// The dial-in number contains no digit, so no `tel:` URI can be made from it.
    #[error("dial-in number {0:?} has no digits")]
    InvalidDialInNumber(String),
    /// The PIN is empty or contains something other than the digits 0–9.
    #[error("PIN must be digits only")]
    InvalidPin,
    /// The UID is empty or contains control characters.
    #[error("invalid calendar UID {0:?}")]
    InvalidUid(String),
    /// The domain for the Message-ID is not a dot-atom (RFC 5322 §3.6.4).
    #[error("invalid Message-ID domain {0:?}")]
    InvalidMessageIdDomain(String),
    /// lettre refused to build the message (e.g. a header it cannot encode).
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
    /// A MIME content type could not be built.
    #[error("cannot build content type {0:?}")]
    ContentType(String),
    /// Writing the calendar text failed.
    #[error("cannot write the calendar: {0}")]
    Calendar(#[from] std::fmt::Error),
}
