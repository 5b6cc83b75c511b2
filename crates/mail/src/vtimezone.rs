//! The `VTIMEZONE` (RFC 5545 §3.6.5) of the conference's zone, built from the zone's real
//! transitions in jiff's bundled time zone database: the observance in effect when the
//! event's year begins, then every transition until the end of the year the event ends in.
//! Each is one `STANDARD` or `DAYLIGHT` with `DTSTART`, `TZOFFSETFROM`, `TZOFFSETTO` and
//! `TZNAME`; no `RRULE`, so nothing is claimed about years the event does not touch.
//! Outlook derives a yearly rule from such a `DTSTART` (its weekday-of-month), which fits
//! the event's year by construction; Google, Apple and Thunderbird go by the IANA `TZID`.

use icalendar::Property;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone, TimeZoneTransition};
use jiff::{SignedDuration, Timestamp};

use crate::error::MailError;
use crate::ics::Node;
use crate::invitation::Checked;

/// One onset of a time zone observance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Observance {
    /// `DAYLIGHT` when the clocks go forward, else `STANDARD`. (The offsets decide, not the
    /// database's DST flag: with negative DST, as in Europe/Dublin, the flag marks winter.)
    pub daylight: bool,
    /// The local time of the onset, on the clock before it (RFC 5545 §3.6.5: `DTSTART` is
    /// local time in `TZOFFSETFROM`).
    pub onset: DateTime,
    pub from: Offset,
    pub to: Offset,
    /// The abbreviation after the onset, e.g. `CET`.
    pub name: String,
}

impl Observance {
    fn from_transition(tz: &TimeZone, t: &TimeZoneTransition) -> Observance {
        let at = t.timestamp();
        let from = at
            .checked_sub(SignedDuration::from_nanos(1))
            .map(|before| tz.to_offset(before))
            .unwrap_or(t.offset());
        let to = t.offset();
        Observance {
            daylight: to > from || (to == from && t.dst().is_dst()),
            onset: from.to_datetime(at),
            from,
            to,
            name: t.abbreviation().to_owned(),
        }
    }

    fn node(&self) -> Node {
        Node {
            kind: if self.daylight {
                "DAYLIGHT"
            } else {
                "STANDARD"
            }
            .into(),
            properties: vec![
                Property::new("DTSTART", self.onset.strftime("%Y%m%dT%H%M%S").to_string()),
                Property::new("TZOFFSETFROM", utc_offset(self.from)),
                Property::new("TZOFFSETTO", utc_offset(self.to)),
                Property::new("TZNAME", self.name.as_str()),
            ],
            children: Vec::new(),
        }
    }
}

/// The `VTIMEZONE` for the checked invitation's zone and times.
pub(crate) fn vtimezone(c: &Checked) -> Result<Node, MailError> {
    let observances =
        observances(&c.tz, c.inv.starts, c.inv.ends).map_err(|source| MailError::Time {
            time: c.inv.starts,
            zone: c.tzid.clone(),
            source,
        })?;
    Ok(Node {
        kind: "VTIMEZONE".into(),
        properties: vec![Property::new("TZID", c.tzid.as_str())],
        children: observances.iter().map(Observance::node).collect(),
    })
}

/// The observances covering the local years from `starts` to `ends`, oldest first.
pub(crate) fn observances(
    tz: &TimeZone,
    starts: Timestamp,
    ends: Timestamp,
) -> Result<Vec<Observance>, jiff::Error> {
    let new_year = |year: i16| -> Result<Timestamp, jiff::Error> {
        let midnight = DateTime::new(year, 1, 1, 0, 0, 0, 0)?;
        tz.to_ambiguous_timestamp(midnight).compatible()
    };
    let window_start = new_year(tz.to_datetime(starts).year())?;
    let window_end = new_year(tz.to_datetime(ends).year().saturating_add(1))?;

    let mut out = Vec::new();
    // `preceding` is strictly before its argument: nudge it so a transition exactly at
    // midnight on 1 January counts as the one in effect.
    let in_effect = tz
        .preceding(window_start.checked_add(SignedDuration::from_nanos(1))?)
        .next();
    if let Some(t) = in_effect {
        out.push(Observance::from_transition(tz, &t));
    }
    out.extend(
        tz.following(window_start)
            .take_while(|t| t.timestamp() < window_end)
            .map(|t| Observance::from_transition(tz, &t)),
    );
    if out.is_empty() {
        // A zone that never changed (UTC, Etc/GMT-3): one fixed observance.
        let info = tz.to_offset_info(starts);
        out.push(Observance {
            daylight: false,
            onset: DateTime::new(1970, 1, 1, 0, 0, 0, 0)?,
            from: info.offset(),
            to: info.offset(),
            name: info.abbreviation().to_owned(),
        });
    }
    Ok(out)
}

/// A UTC-OFFSET value (RFC 5545 §3.3.14): `+0200`, `-0330`, `+005328` with seconds.
fn utc_offset(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use icalendar::parser::{Component, read_calendar, unfold};

    use super::*;
    use crate::ics::calendar;
    use crate::invitation::tests::zurich;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn onsets(zone: &str, starts: &str, ends: &str) -> Vec<(bool, String, String, String, String)> {
        let tz = TimeZone::get(zone).unwrap();
        observances(&tz, ts(starts), ts(ends))
            .unwrap()
            .into_iter()
            .map(|o| {
                (
                    o.daylight,
                    o.onset.strftime("%Y%m%dT%H%M%S").to_string(),
                    utc_offset(o.from),
                    utc_offset(o.to),
                    o.name,
                )
            })
            .collect()
    }

    fn row(
        daylight: bool,
        onset: &str,
        from: &str,
        to: &str,
        name: &str,
    ) -> (bool, String, String, String, String) {
        (daylight, onset.into(), from.into(), to.into(), name.into())
    }

    #[test]
    fn zurich_2026_has_the_changes_of_its_year() {
        assert_eq!(
            onsets(
                "Europe/Zurich",
                "2026-10-25T00:30:00Z",
                "2026-10-25T02:30:00Z"
            ),
            vec![
                row(false, "20251026T030000", "+0200", "+0100", "CET"),
                row(true, "20260329T020000", "+0100", "+0200", "CEST"),
                row(false, "20261025T030000", "+0200", "+0100", "CET"),
            ]
        );
    }

    #[test]
    fn tokyo_has_a_single_standard() {
        let rows = onsets("Asia/Tokyo", "2026-07-01T01:00:00Z", "2026-07-01T02:00:00Z");
        assert_eq!(rows.len(), 1, "{rows:?}");
        let (daylight, _, _, to, name) = &rows[0];
        assert!(!daylight);
        assert_eq!(to, "+0900");
        assert_eq!(name, "JST");
    }

    #[test]
    fn utc_has_a_fixed_standard() {
        assert_eq!(
            onsets("UTC", "2026-07-01T01:00:00Z", "2026-07-01T02:00:00Z"),
            vec![row(false, "19700101T000000", "+0000", "+0000", "UTC")]
        );
    }

    #[test]
    fn southern_hemisphere_daylight_is_forward() {
        let rows = onsets(
            "Australia/Sydney",
            "2026-07-01T01:00:00Z",
            "2026-07-01T02:00:00Z",
        );
        assert_eq!(
            rows,
            vec![
                row(true, "20251005T020000", "+1000", "+1100", "AEDT"),
                row(false, "20260405T030000", "+1100", "+1000", "AEST"),
                row(true, "20261004T020000", "+1000", "+1100", "AEDT"),
            ]
        );
    }

    #[test]
    fn negative_dst_summer_is_still_daylight() {
        // tzdb flags Dublin's winter (GMT) as the DST period; the offsets decide here.
        let rows = onsets(
            "Europe/Dublin",
            "2026-07-01T01:00:00Z",
            "2026-07-01T02:00:00Z",
        );
        assert_eq!(
            rows,
            vec![
                row(false, "20251026T020000", "+0100", "+0000", "GMT"),
                row(true, "20260329T010000", "+0000", "+0100", "IST"),
                row(false, "20261025T020000", "+0100", "+0000", "GMT"),
            ]
        );
    }

    #[test]
    fn event_over_new_year_covers_both_years() {
        let rows = onsets(
            "Europe/Zurich",
            "2026-12-31T22:00:00Z",
            "2027-01-01T01:00:00Z",
        );
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(
            rows[4],
            row(false, "20271031T030000", "+0200", "+0100", "CET")
        );
    }

    #[test]
    fn offsets_with_seconds_are_written_with_seconds() {
        assert_eq!(
            utc_offset(Offset::from_seconds(-(3 * 3600 + 30 * 60)).unwrap()),
            "-0330"
        );
        assert_eq!(utc_offset(Offset::from_seconds(3208).unwrap()), "+005328");
    }

    /// A component read back by the icalendar crate's parser: its name, its property
    /// values by name, and its sub-components.
    struct Parsed {
        name: String,
        props: BTreeMap<String, String>,
        subs: Vec<Parsed>,
    }

    impl Parsed {
        fn of(c: &Component) -> Parsed {
            Parsed {
                name: c.name.as_str().to_owned(),
                props: c
                    .properties
                    .iter()
                    .map(|p| (p.name.as_str().to_owned(), p.val.as_str().to_owned()))
                    .collect(),
                subs: c.components.iter().map(Parsed::of).collect(),
            }
        }

        fn get(&self, key: &str) -> Option<&str> {
            self.props.get(key).map(String::as_str)
        }
    }

    /// The VTIMEZONE as the icalendar crate's parser reads it back.
    fn parsed_vtimezone(ics: &str) -> Parsed {
        let unfolded = unfold(ics);
        let cal = read_calendar(&unfolded).unwrap();
        // read_calendar returns the VCALENDAR itself: its components are ours.
        let tz = cal
            .components
            .iter()
            .find(|c| c.name == "VTIMEZONE")
            .unwrap();
        Parsed::of(tz)
    }

    #[test]
    fn calendar_vtimezone_for_zurich_parses_back() {
        let ics = calendar(&zurich(), ts("2026-09-01T12:00:00Z")).unwrap();
        let tz = parsed_vtimezone(&ics);
        assert_eq!(tz.get("TZID").unwrap(), "Europe/Zurich");
        assert!(tz.get("DTSTAMP").is_none() && tz.get("UID").is_none());
        let kinds: Vec<&str> = tz.subs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kinds, ["STANDARD", "DAYLIGHT", "STANDARD"]);
        let daylight = &tz.subs[1];
        assert_eq!(daylight.get("DTSTART").unwrap(), "20260329T020000");
        assert_eq!(daylight.get("TZOFFSETFROM").unwrap(), "+0100");
        assert_eq!(daylight.get("TZOFFSETTO").unwrap(), "+0200");
        assert_eq!(daylight.get("TZNAME").unwrap(), "CEST");
        let october = &tz.subs[2];
        assert_eq!(october.get("DTSTART").unwrap(), "20261025T030000");
        assert_eq!(october.get("TZOFFSETFROM").unwrap(), "+0200");
        assert_eq!(october.get("TZOFFSETTO").unwrap(), "+0100");
        for sub in &tz.subs {
            assert!(sub.get("DTSTAMP").is_none() && sub.get("UID").is_none());
        }
    }

    #[test]
    fn calendar_vtimezone_for_tokyo_is_one_standard() {
        let mut inv = zurich();
        inv.time_zone = "Asia/Tokyo".into();
        inv.starts = ts("2026-07-01T01:00:00Z");
        inv.ends = ts("2026-07-01T02:00:00Z");
        let ics = calendar(&inv, ts("2026-06-01T12:00:00Z")).unwrap();
        let tz = parsed_vtimezone(&ics);
        assert_eq!(tz.get("TZID").unwrap(), "Asia/Tokyo");
        let kinds: Vec<&str> = tz.subs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kinds, ["STANDARD"]);
        assert_eq!(tz.subs[0].get("TZOFFSETTO").unwrap(), "+0900");
        assert!(unfold(&ics).contains("DTSTART;TZID=Asia/Tokyo:20260701T100000\r\n"));
    }
}
