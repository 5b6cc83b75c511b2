//! [`Invitation`]: what one invitation (or update, or cancellation) says, and its checked
//! form that the calendar and the message are built from.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::clean;
use crate::dial::DialIn;
use crate::error::MailError;
use crate::mailbox::Mailbox;

/// The iTIP method (RFC 5546 §1.4): what the recipient's calendar should do with the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Add or update the event; the recipient can accept or decline.
    Request,
    /// Remove the event.
    Cancel,
}

impl Method {
    /// The iCalendar name: `REQUEST` or `CANCEL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The language of the fixed texts (labels, subject prefixes, date format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
}

impl Lang {
    /// The BCP 47 tag, for `lang` attributes and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

/// One scheduled conference's invitation as sent to every participant. The same `uid` with
/// a higher `sequence` updates (or, with [`Method::Cancel`], cancels) what was sent before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Stable per conference, e.g. `conference-42@konferenz.example.org` (RFC 5545 §3.8.4.7).
    pub uid: String,
    /// 0 for the first invitation, higher for every update and for the cancellation
    /// (RFC 5545 §3.8.7.4).
    pub sequence: u32,
    /// Invite/update or cancel.
    pub method: Method,
    /// Mail subject and calendar `SUMMARY`.
    pub title: String,
    /// The mail body text, with `<number>` and `<pin>` already filled in.
    pub description: String,
    /// Calendar `LOCATION`.
    pub location: String,
    /// Start of the conference.
    pub starts: Timestamp,
    /// End of the conference; must be after `starts`.
    pub ends: Timestamp,
    /// IANA time zone name, e.g. `Europe/Zurich`: the zone the times are shown in and the
    /// calendar's `TZID`.
    pub time_zone: String,
    /// The organizer (calendar `ORGANIZER`); attendees' replies go to this address.
    pub organizer: Mailbox,
    /// The invited participants' e-mail addresses (`Name <addr>` is accepted too).
    pub attendees: Vec<String>,
    /// The dial-in number as shown, e.g. `+41 44 123 45 67`.
    pub dial_in_number: String,
    /// The conference PIN, digits only.
    pub pin: String,
    /// Language of the fixed texts.
    pub lang: Lang,
}

/// An [`Invitation`] whose every field has been checked and cleaned; the calendar, the
/// bodies and the message are all made from this, so they agree with each other.
#[derive(Clone, Debug)]
pub(crate) struct Checked<'a> {
    pub inv: &'a Invitation,
    /// The zone, loaded from jiff's bundled database.
    pub tz: TimeZone,
    /// The zone's IANA name as the database spells it (used as `TZID`).
    pub tzid: String,
    pub title: String,
    pub location: String,
    pub description: String,
    pub dial: DialIn,
    pub organizer: Mailbox,
    pub attendees: Vec<Mailbox>,
}

impl Invitation {
    /// Validates and cleans every field; the first problem found is returned.
    pub(crate) fn check(&self) -> Result<Checked<'_>, MailError> {
        let uid = self.uid.trim();
        if uid.is_empty() || uid.chars().any(char::is_control) {
            return Err(MailError::InvalidUid(self.uid.clone()));
        }
        if self.ends <= self.starts {
            return Err(MailError::EndsBeforeStart {
                starts: self.starts,
                ends: self.ends,
            });
        }
        let tz = TimeZone::get(self.time_zone.trim())
            .map_err(|_| MailError::UnknownTimeZone(self.time_zone.clone()))?;
        let tzid = tz.iana_name().unwrap_or(self.time_zone.trim()).to_owned();
        let organizer = Mailbox::new(self.organizer.name.as_deref(), &self.organizer.email)?;
        let attendees = self
            .attendees
            .iter()
            .map(|a| Mailbox::parse(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Checked {
            inv: self,
            tz,
            tzid,
            title: clean::one_line(&self.title),
            location: clean::one_line(&self.location),
            description: clean::multi_line(&self.description),
            dial: DialIn::new(&self.dial_in_number, &self.pin)?,
            organizer,
            attendees,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Zurich conference on the night the clocks go back (2026-10-25, 03:00 CEST →
    /// 02:00 CET): 02:30 CEST (the first 02:30) to 03:30 CET, two real hours.
    pub(crate) fn zurich() -> Invitation {
        Invitation {
            uid: "conference-42@konferenz.example.org".into(),
            sequence: 0,
            method: Method::Request,
            title: "Weekly sync".into(),
            description: "Please dial in.\nNumber: +41 44 123 45 67, PIN: 482913".into(),
            location: "Telephone conference".into(),
            starts: "2026-10-25T00:30:00Z".parse().unwrap(),
            ends: "2026-10-25T02:30:00Z".parse().unwrap(),
            time_zone: "Europe/Zurich".into(),
            organizer: Mailbox::new(Some("Anna Müller"), "anna@example.org").unwrap(),
            attendees: vec!["bob@example.org".into(), "carla@example.com".into()],
            dial_in_number: "+41 44 123 45 67".into(),
            pin: "482913".into(),
            lang: Lang::En,
        }
    }

    #[test]
    fn checked_invitation_has_the_canonical_zone_name() {
        let mut inv = zurich();
        inv.time_zone = "europe/zurich".into();
        assert_eq!(inv.check().unwrap().tzid, "Europe/Zurich");
    }

    #[test]
    fn unknown_zone_is_refused() {
        let mut inv = zurich();
        inv.time_zone = "Mars/Olympus".into();
        assert!(matches!(inv.check(), Err(MailError::UnknownTimeZone(z)) if z == "Mars/Olympus"));
    }

    #[test]
    fn end_not_after_start_is_refused() {
        let mut inv = zurich();
        inv.ends = inv.starts;
        assert!(matches!(
            inv.check(),
            Err(MailError::EndsBeforeStart { .. })
        ));
    }

    #[test]
    fn bad_attendee_is_named() {
        let mut inv = zurich();
        inv.attendees.push("carla@@example.com".into());
        let err = inv.check().unwrap_err();
        assert!(err.to_string().contains("carla@@example.com"), "{err}");
    }

    #[test]
    fn empty_uid_is_refused() {
        let mut inv = zurich();
        inv.uid = " ".into();
        assert!(matches!(inv.check(), Err(MailError::InvalidUid(_))));
    }
}
