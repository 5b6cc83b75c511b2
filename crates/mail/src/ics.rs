//! The iCalendar object (RFC 5545) carrying the iTIP method (RFC 5546): a `VCALENDAR` with
//! one `VTIMEZONE` and one `VEVENT`, written through the icalendar crate's properties.
//!
//! Why not `icalendar::Calendar`'s own `Display`: it writes every component through
//! `Component::fmt_write`, which adds `DTSTAMP` (read from the clock) and a random `UID` to
//! any component lacking them — including `VTIMEZONE`, `STANDARD` and `DAYLIGHT`, where
//! RFC 5545 §3.6.5 has no such properties. [`Node`] writes components the same way minus
//! that: the `BEGIN`/`END` lines and each property go through [`icalendar::Property`]'s
//! serialisation (TEXT escaping, parameter quoting, folding at 75 octets, CRLF). The
//! `VEVENT` is an [`icalendar::Event`] built with the crate's setters; its own rendering is
//! byte-identical (tested), since it has `DTSTAMP` and `UID`.

use icalendar::{Attendee, Component, Event, EventLike, EventStatus, PartStat, Property, Role};
use jiff::Timestamp;

use crate::clean;
use crate::error::MailError;
use crate::invitation::{Checked, Invitation, Method};
use crate::text;
use crate::vtimezone;

/// `PRODID` (RFC 5545 §3.7.3).
pub const PRODID: &str = "-//konferenz//konferenz//EN";

/// The `.ics` text of `inv`, with `date` as the `DTSTAMP` (when this version was made).
/// Lines end in CRLF and are folded at 75 octets.
pub fn calendar(inv: &Invitation, date: Timestamp) -> Result<String, MailError> {
    render(&inv.check()?, date)
}

/// The calendar of an already checked invitation.
pub(crate) fn render(c: &Checked, date: Timestamp) -> Result<String, MailError> {
    let calendar = Node {
        kind: "VCALENDAR".into(),
        properties: vec![
            Property::new("PRODID", PRODID),
            Property::new("VERSION", "2.0"),
            Property::new("CALSCALE", "GREGORIAN"),
            Property::new("METHOD", c.inv.method.as_str()),
        ],
        children: vec![vtimezone::vtimezone(c)?, Node::of(&event(c, date))],
    };
    calendar.to_text()
}

/// The `VEVENT`.
fn event(c: &Checked, date: Timestamp) -> Event {
    let inv = c.inv;
    let mut event = Event::new();
    event
        .uid(inv.uid.trim())
        .sequence(inv.sequence)
        .add_property("DTSTAMP", utc(date))
        .append_property(local_time("DTSTART", c, inv.starts))
        .append_property(local_time("DTEND", c, inv.ends))
        .summary(&c.title)
        .description(&text::calendar_description(c))
        .append_property(organizer(c))
        .status(match inv.method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        })
        .add_property("TRANSP", "OPAQUE")
        // One tap in Apple Calendar (URL) and in RFC 7986 clients (CONFERENCE).
        .url(&c.dial.one_tap_uri)
        .append_property(
            Property::new("CONFERENCE", c.dial.one_tap_uri.as_str())
                .add_parameter("VALUE", "URI")
                .add_parameter("FEATURE", "PHONE")
                .add_parameter("LABEL", text::dial_in_label(inv.lang))
                .done(),
        );
    if !c.location.is_empty() {
        event.location(&c.location);
    }
    for attendee in &c.attendees {
        let cn = attendee
            .display_name()
            .unwrap_or_else(|| attendee.email.clone());
        let mut a = Attendee::new(attendee.mailto())
            .cn(clean::param_value(&cn))
            .role(Role::ReqParticipant)
            .partstat(PartStat::NeedsAction);
        // A cancellation asks for no reply (RFC 5546 §3.2.5).
        if inv.method == Method::Request {
            a = a.rsvp(true);
        }
        event.attendee(a);
    }
    event.done()
}

/// `ORGANIZER;CN=…:mailto:…` (RFC 5545 §3.8.4.3).
fn organizer(c: &Checked) -> Property {
    let mut p = Property::new("ORGANIZER", c.organizer.mailto());
    if let Some(name) = c.organizer.display_name() {
        p.add_parameter("CN", &clean::param_value(&name));
    }
    p.done()
}

/// `DTSTART;TZID=Europe/Zurich:20261025T023000`: the local time in the conference's zone.
/// A local time that occurs twice (clocks going back) means its first occurrence (RFC 5545
/// §3.3.5), so an instant in the second one is written in UTC instead (`…Z`, no `TZID`).
fn local_time(key: &str, c: &Checked, ts: Timestamp) -> Property {
    let local = c.tz.to_datetime(ts);
    let first = c.tz.to_ambiguous_timestamp(local).earlier().ok();
    if first == Some(ts) {
        Property::new(key, local.strftime("%Y%m%dT%H%M%S").to_string())
            .add_parameter("TZID", &c.tzid)
            .done()
    } else {
        Property::new(key, utc(ts))
    }
}

/// A UTC DATE-TIME, `20260901T120000Z` (RFC 5545 §3.3.5 form #2).
pub(crate) fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A component to write: its properties in order, then its sub-components.
pub(crate) struct Node {
    pub kind: String,
    pub properties: Vec<Property>,
    pub children: Vec<Node>,
}

impl Node {
    /// The properties of a component built with the icalendar crate, in the order the crate
    /// writes them (single-valued, then multi-valued such as `ATTENDEE`).
    fn of(component: &impl Component) -> Node {
        Node {
            kind: component.component_kind(),
            properties: component
                .properties()
                .values()
                .chain(component.multi_properties().values().flatten())
                .cloned()
                .collect(),
            children: Vec::new(),
        }
    }

    /// The component as iCalendar text.
    pub(crate) fn to_text(&self) -> Result<String, MailError> {
        let mut out = String::new();
        self.write(&mut out)?;
        Ok(out)
    }

    fn write(&self, out: &mut String) -> Result<(), MailError> {
        let line = |p: Property| -> Result<String, std::fmt::Error> { p.try_into() };
        out.push_str(&line(Property::new("BEGIN", self.kind.as_str()))?);
        for property in &self.properties {
            out.push_str(&line(property.clone())?);
        }
        for child in &self.children {
            child.write(out)?;
        }
        out.push_str(&line(Property::new("END", self.kind.as_str()))?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use icalendar::parser::{read_calendar, unfold};

    use super::*;
    use crate::invitation::tests::zurich;
    use crate::invitation::{Lang, Method};

    fn stamp() -> Timestamp {
        "2026-09-01T12:00:00Z".parse().unwrap()
    }

    /// The unfolded, unescaped value of the first `key` property of the `kind` component.
    fn value(ics: &str, kind: &str, key: &str) -> Option<String> {
        let unfolded = unfold(ics);
        let cal = read_calendar(&unfolded).unwrap();
        let comp = cal.components.iter().find(|c| c.name == kind)?;
        comp.find_prop(key).map(|p| p.val.as_str().to_owned())
    }

    #[test]
    fn calendar_has_itip_header_and_event_fields() {
        let ics = calendar(&zurich(), stamp()).unwrap();
        let cal: icalendar::Calendar = ics.parse().unwrap();
        assert_eq!(cal.property_value("PRODID"), Some(PRODID));
        assert_eq!(cal.property_value("VERSION"), Some("2.0"));
        assert_eq!(cal.property_value("METHOD"), Some("REQUEST"));
        assert_eq!(cal.property_value("CALSCALE"), Some("GREGORIAN"));
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_uid(), Some("conference-42@konferenz.example.org"));
        assert_eq!(event.get_sequence(), Some(0));
        assert_eq!(event.get_summary(), Some("Weekly sync"));
        assert_eq!(event.get_location(), Some("Telephone conference"));
        assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
        assert_eq!(event.property_value("TRANSP"), Some("OPAQUE"));
        assert_eq!(event.property_value("DTSTAMP"), Some("20260901T120000Z"));
        assert_eq!(event.get_url(), Some("tel:+41441234567,,482913%23"));
        let conference = event.properties().get("CONFERENCE").unwrap();
        assert_eq!(conference.value(), "tel:+41441234567,,482913%23");
        assert_eq!(conference.params().get("FEATURE").unwrap().value(), "PHONE");
        assert_eq!(conference.params().get("VALUE").unwrap().value(), "URI");
        let description = event.get_description().unwrap();
        assert!(
            description.starts_with("Please dial in.\nNumber: +41 44 123 45 67, PIN: 482913\n\n")
        );
        assert!(description.contains("Dial-in number: +41 44 123 45 67\nPIN: 482913\n"));
        assert!(description.contains("tel:+41441234567,,482913%23"));

        let organizer = event.properties().get("ORGANIZER").unwrap();
        assert_eq!(organizer.value(), "mailto:anna@example.org");
        assert_eq!(organizer.params().get("CN").unwrap().value(), "Anna Müller");

        let attendees = event.get_attendees();
        assert_eq!(attendees.len(), 2);
        assert_eq!(attendees[0].cal_address, "mailto:bob@example.org");
        assert_eq!(attendees[0].cn.as_deref(), Some("bob@example.org"));
        assert_eq!(attendees[0].role, Some(Role::ReqParticipant));
        assert_eq!(attendees[0].part_stat, Some(PartStat::NeedsAction));
        assert_eq!(attendees[0].rsvp, Some(true));
        assert_eq!(attendees[1].cal_address, "mailto:carla@example.com");
    }

    #[test]
    fn lines_end_in_crlf_and_fold_at_75_octets() {
        let mut inv = zurich();
        inv.description = "Ä long description with ümlauts that must be folded, ".repeat(8);
        let ics = calendar(&inv, stamp()).unwrap();
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");
        assert!(!ics.replace("\r\n", "").contains('\r'), "bare CR");
        let lines: Vec<&str> = ics.split("\r\n").collect();
        assert!(
            lines.iter().all(|l| l.len() <= 75),
            "a line is longer than 75 octets"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(' ')),
            "nothing was folded"
        );
        // Folding never splits a UTF-8 character: every line is valid on its own.
        let description = value(&ics, "VEVENT", "DESCRIPTION").unwrap();
        assert!(description.starts_with("Ä long description with ümlauts"));
    }

    #[test]
    fn text_values_are_escaped() {
        let mut inv = zurich();
        inv.title = "<b>&\" a, b; c".into();
        inv.description = "one, two; three\\four\nfive".into();
        inv.location = "Room 1; floor 2, left".into();
        let ics = calendar(&inv, stamp()).unwrap();
        let raw = unfold(&ics);
        assert!(raw.contains("SUMMARY:<b>&\" a\\, b\\; c\r\n"), "{raw}");
        assert!(
            raw.contains("DESCRIPTION:one\\, two\\; three\\\\four\\nfive\\n\\n"),
            "{raw}"
        );
        assert!(
            raw.contains("LOCATION:Room 1\\; floor 2\\, left\r\n"),
            "{raw}"
        );
        let cal: icalendar::Calendar = ics.parse().unwrap();
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_summary(), Some("<b>&\" a, b; c"));
        assert_eq!(event.get_location(), Some("Room 1; floor 2, left"));
        assert!(
            event
                .get_description()
                .unwrap()
                .starts_with("one, two; three\\four\nfive\n\n")
        );
    }

    #[test]
    fn names_with_separators_are_quoted_parameters() {
        let mut inv = zurich();
        inv.organizer.name = Some("Müller, Anna \"AM\"".into());
        inv.attendees = vec!["\"Doe; John\" <john@example.org>".into()];
        let ics = calendar(&inv, stamp()).unwrap();
        let raw = unfold(&ics);
        assert!(
            raw.contains("ORGANIZER;CN=\"Müller, Anna 'AM'\":mailto:anna@example.org\r\n"),
            "{raw}"
        );
        assert!(raw.contains("CN=\"Doe; John\""), "{raw}");
        let cal: icalendar::Calendar = ics.parse().unwrap();
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_attendees()[0].cn.as_deref(), Some("Doe; John"));
    }

    #[test]
    fn times_are_local_with_tzid() {
        let ics = calendar(&zurich(), stamp()).unwrap();
        let raw = unfold(&ics);
        // 00:30Z is the first 02:30 (still CEST); 02:30Z is 03:30 CET.
        assert!(
            raw.contains("DTSTART;TZID=Europe/Zurich:20261025T023000\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("DTEND;TZID=Europe/Zurich:20261025T033000\r\n"),
            "{raw}"
        );
    }

    #[test]
    fn second_occurrence_of_a_repeated_local_time_is_written_in_utc() {
        let mut inv = zurich();
        inv.starts = "2026-10-25T01:30:00Z".parse().unwrap(); // the second 02:30 (CET)
        let ics = calendar(&inv, stamp()).unwrap();
        let raw = unfold(&ics);
        assert!(raw.contains("DTSTART:20261025T013000Z\r\n"), "{raw}");
        assert!(
            raw.contains("DTEND;TZID=Europe/Zurich:20261025T033000\r\n"),
            "{raw}"
        );
    }

    #[test]
    fn cancel_has_method_status_and_same_uid_with_higher_sequence() {
        let request = zurich();
        let mut cancel = zurich();
        cancel.method = Method::Cancel;
        cancel.sequence = request.sequence + 1;
        let ics = calendar(&cancel, stamp()).unwrap();
        let cal: icalendar::Calendar = ics.parse().unwrap();
        assert_eq!(cal.property_value("METHOD"), Some("CANCEL"));
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_status(), Some(EventStatus::Cancelled));
        assert_eq!(event.get_uid(), Some(request.uid.as_str()));
        assert_eq!(event.get_sequence(), Some(1));
        assert!(event.get_attendees().iter().all(|a| a.rsvp.is_none()));
    }

    #[test]
    fn german_conference_label() {
        let mut inv = zurich();
        inv.lang = Lang::De;
        let ics = calendar(&inv, stamp()).unwrap();
        let cal: icalendar::Calendar = ics.parse().unwrap();
        let event = cal.events().next().unwrap();
        let conference = event.properties().get("CONFERENCE").unwrap();
        assert_eq!(
            conference.params().get("LABEL").unwrap().value(),
            "Einwahlnummer"
        );
        assert!(
            event
                .get_description()
                .unwrap()
                .contains("Einwahlnummer: +41 44 123 45 67")
        );
    }

    #[test]
    fn no_clock_and_no_randomness() {
        let a = calendar(&zurich(), stamp()).unwrap();
        let b = calendar(&zurich(), stamp()).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.matches("DTSTAMP").count(),
            1,
            "only the VEVENT has a DTSTAMP"
        );
        assert_eq!(a.matches("\r\nUID").count(), 1, "only the VEVENT has a UID");
    }

    #[test]
    fn event_node_writes_what_the_crate_writes() {
        let inv = zurich();
        let c = inv.check().unwrap();
        let event = event(&c, stamp());
        assert_eq!(Node::of(&event).to_text().unwrap(), event.to_string());
    }
}
