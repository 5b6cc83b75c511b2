//! The human-readable parts in English and German: fixed labels, the subject, the time
//! line in the conference's zone, and the plain-text and HTML bodies.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

use crate::invitation::{Checked, Lang, Method};

/// The fixed texts of one language.
struct Texts {
    dial_in_number: &'static str,
    pin: &'static str,
    one_tap: &'static str,
    time: &'static str,
    cancelled_notice: &'static str,
    cancelled_prefix: &'static str,
    updated_prefix: &'static str,
    weekdays: [&'static str; 7],
    months: [&'static str; 12],
}

const EN: Texts = Texts {
    dial_in_number: "Dial-in number",
    pin: "PIN",
    one_tap: "One-tap dial-in",
    time: "Time",
    cancelled_notice: "This conference has been cancelled.",
    cancelled_prefix: "Cancelled: ",
    updated_prefix: "Updated: ",
    weekdays: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const DE: Texts = Texts {
    dial_in_number: "Einwahlnummer",
    pin: "PIN",
    one_tap: "Direkt einwählen",
    time: "Zeit",
    cancelled_notice: "Diese Konferenz wurde abgesagt.",
    cancelled_prefix: "Abgesagt: ",
    updated_prefix: "Geändert: ",
    weekdays: [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ],
    months: [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// The subject: the title, prefixed for a cancellation or an update (sequence > 0).
pub(crate) fn subject(c: &Checked) -> String {
    let t = texts(c.inv.lang);
    let prefix = match c.inv.method {
        Method::Cancel => t.cancelled_prefix,
        Method::Request if c.inv.sequence > 0 => t.updated_prefix,
        Method::Request => "",
    };
    format!("{prefix}{}", c.title)
}

/// Label for the calendar's `CONFERENCE` property.
pub(crate) fn dial_in_label(lang: Lang) -> &'static str {
    texts(lang).dial_in_number
}

/// The start and end in the conference's zone, with the zone name and UTC offset, e.g.
/// `Sunday, 25 October 2026, 02:30 – 03:30 (Europe/Zurich, UTC+02:00 → UTC+01:00)`. The
/// offsets tell the two 02:30s of a night when the clocks go back apart.
pub(crate) fn when(c: &Checked) -> String {
    let t = texts(c.inv.lang);
    let local = |ts: Timestamp| (c.tz.to_datetime(ts), c.tz.to_offset(ts));
    let (start, start_offset) = local(c.inv.starts);
    let (end, end_offset) = local(c.inv.ends);
    let hm = |dt: DateTime| format!("{:02}:{:02}", dt.hour(), dt.minute());
    let end_part = if end.date() == start.date() {
        hm(end)
    } else {
        format!("{}, {}", date(t, c.inv.lang, end), hm(end))
    };
    let offsets = if start_offset == end_offset {
        utc_offset(start_offset)
    } else {
        format!("{} → {}", utc_offset(start_offset), utc_offset(end_offset))
    };
    let hours = match c.inv.lang {
        Lang::En => "",
        Lang::De => " Uhr",
    };
    format!(
        "{}, {} – {end_part}{hours} ({}, {offsets})",
        date(t, c.inv.lang, start),
        hm(start),
        c.tzid
    )
}

/// `Sunday, 25 October 2026` / `Sonntag, 25. Oktober 2026`.
fn date(t: &Texts, lang: Lang, dt: DateTime) -> String {
    let weekday = t.weekdays[dt.weekday().to_monday_zero_offset() as usize];
    let month = t.months[(dt.month() - 1) as usize];
    match lang {
        Lang::En => format!("{weekday}, {} {month} {}", dt.day(), dt.year()),
        Lang::De => format!("{weekday}, {}. {month} {}", dt.day(), dt.year()),
    }
}

/// `UTC+02:00`, `UTC−03:30`; seconds only when the offset has them (historic zones).
fn utc_offset(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("UTC{sign}{h:02}:{m:02}")
    } else {
        format!("UTC{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// The dial-in block as label/value lines; `with_time` adds the time line (the calendar
/// entry has the time already).
fn block(c: &Checked, with_time: bool) -> Vec<(&'static str, String)> {
    let t = texts(c.inv.lang);
    let mut lines = vec![
        (t.dial_in_number, c.dial.shown.clone()),
        (t.pin, c.dial.pin.clone()),
        (t.one_tap, c.dial.one_tap_uri.clone()),
    ];
    if with_time {
        lines.push((t.time, when(c)));
    }
    lines
}

/// The notice that opens a cancellation's texts.
fn notice(c: &Checked) -> Option<&'static str> {
    (c.inv.method == Method::Cancel).then_some(texts(c.inv.lang).cancelled_notice)
}

/// The `text/plain` body: the notice (cancellations), the description, then the dial-in
/// block with the time.
pub(crate) fn plain_body(c: &Checked) -> String {
    let mut out = String::new();
    if let Some(notice) = notice(c) {
        out.push_str(notice);
        out.push_str("\n\n");
    }
    if !c.description.is_empty() {
        out.push_str(&c.description);
        out.push_str("\n\n");
    }
    for (label, value) in block(c, true) {
        out.push_str(&format!("{label}: {value}\n"));
    }
    out
}

/// The calendar `DESCRIPTION`: like the plain body but without the time line.
pub(crate) fn calendar_description(c: &Checked) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(notice) = notice(c) {
        parts.push(notice.to_owned());
    }
    if !c.description.is_empty() {
        parts.push(c.description.clone());
    }
    let block = block(c, false)
        .into_iter()
        .map(|(label, value)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    parts.push(block);
    parts.join("\n\n")
}

/// The `text/html` body: the same content, every user-supplied piece escaped, the number
/// and the one-tap string as `tel:` links.
pub(crate) fn html_body(c: &Checked) -> String {
    let t = texts(c.inv.lang);
    // Escapes & < > " ' — safe both in text and in the double-quoted href attributes.
    let text = |s: &str| html_escape::encode_quoted_attribute(s).into_owned();
    let href = text;

    let mut body = String::new();
    if let Some(notice) = notice(c) {
        body.push_str(&format!("<p><strong>{}</strong></p>\n", text(notice)));
    }
    for paragraph in c.description.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<String> = paragraph.lines().map(text).collect();
        body.push_str(&format!("<p>{}</p>\n", lines.join("<br>\n")));
    }
    body.push_str(&format!(
        "<table role=\"presentation\">\n\
         <tr><th align=\"left\">{}</th><td><a href=\"{}\">{}</a></td></tr>\n\
         <tr><th align=\"left\">{}</th><td>{}</td></tr>\n\
         <tr><th align=\"left\">{}</th><td><a href=\"{}\">{}</a></td></tr>\n\
         <tr><th align=\"left\">{}</th><td>{}</td></tr>\n\
         </table>\n",
        text(t.dial_in_number),
        href(&c.dial.number_uri),
        text(&c.dial.shown),
        text(t.pin),
        text(&c.dial.pin),
        text(t.one_tap),
        href(&c.dial.one_tap_uri),
        text(&c.dial.one_tap_uri),
        text(t.time),
        text(&when(c)),
    ));
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}</body>\n</html>\n",
        c.inv.lang.tag(),
        text(&subject(c)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::tests::zurich;

    #[test]
    fn time_line_shows_zone_and_both_offsets_across_the_change() {
        let inv = zurich();
        let c = inv.check().unwrap();
        assert_eq!(
            when(&c),
            "Sunday, 25 October 2026, 02:30 – 03:30 (Europe/Zurich, UTC+02:00 → UTC+01:00)"
        );
    }

    #[test]
    fn german_time_line() {
        let mut inv = zurich();
        inv.lang = Lang::De;
        inv.starts = "2026-03-02T08:00:00Z".parse().unwrap();
        inv.ends = "2026-03-02T09:00:00Z".parse().unwrap();
        let c = inv.check().unwrap();
        assert_eq!(
            when(&c),
            "Montag, 2. März 2026, 09:00 – 10:00 Uhr (Europe/Zurich, UTC+01:00)"
        );
    }

    #[test]
    fn time_line_over_midnight_names_both_days() {
        let mut inv = zurich();
        inv.time_zone = "Asia/Tokyo".into();
        inv.starts = "2026-07-01T14:30:00Z".parse().unwrap();
        inv.ends = "2026-07-01T15:30:00Z".parse().unwrap();
        let c = inv.check().unwrap();
        assert_eq!(
            when(&c),
            "Wednesday, 1 July 2026, 23:30 – Thursday, 2 July 2026, 00:30 (Asia/Tokyo, UTC+09:00)"
        );
    }

    #[test]
    fn subject_prefixes() {
        let mut inv = zurich();
        assert_eq!(subject(&inv.check().unwrap()), "Weekly sync");
        inv.sequence = 1;
        assert_eq!(subject(&inv.check().unwrap()), "Updated: Weekly sync");
        inv.lang = Lang::De;
        assert_eq!(subject(&inv.check().unwrap()), "Geändert: Weekly sync");
        inv.method = Method::Cancel;
        assert_eq!(subject(&inv.check().unwrap()), "Abgesagt: Weekly sync");
        inv.lang = Lang::En;
        assert_eq!(subject(&inv.check().unwrap()), "Cancelled: Weekly sync");
    }

    #[test]
    fn plain_body_has_description_then_block() {
        let inv = zurich();
        let body = plain_body(&inv.check().unwrap());
        assert!(body.starts_with("Please dial in.\n"), "{body}");
        assert!(body.contains("\n\nDial-in number: +41 44 123 45 67\nPIN: 482913\n"));
        assert!(body.contains("One-tap dial-in: tel:+41441234567,,482913%23\n"));
        assert!(body.contains("Time: Sunday, 25 October 2026, 02:30"));
    }

    #[test]
    fn german_labels() {
        let mut inv = zurich();
        inv.lang = Lang::De;
        let body = plain_body(&inv.check().unwrap());
        assert!(body.contains("Einwahlnummer: +41 44 123 45 67\n"), "{body}");
        assert!(body.contains("Direkt einwählen: tel:"), "{body}");
        assert!(body.contains("Zeit: Sonntag, 25. Oktober 2026"), "{body}");
    }

    #[test]
    fn html_escapes_user_text_and_links_the_number() {
        let mut inv = zurich();
        inv.title = "<b>&\"".into();
        inv.description = "Line <i>one</i>\nline & two\n\nSecond \"para\"".into();
        let html = html_body(&inv.check().unwrap());
        assert!(
            html.contains("<title>&lt;b&gt;&amp;&quot;</title>"),
            "{html}"
        );
        assert!(!html.contains("<b>&\""));
        assert!(
            html.contains("<p>Line &lt;i&gt;one&lt;/i&gt;<br>\nline &amp; two</p>"),
            "{html}"
        );
        assert!(html.contains("<p>Second &quot;para&quot;</p>"), "{html}");
        assert!(
            html.contains("<a href=\"tel:+41441234567\">+41 44 123 45 67</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"tel:+41441234567,,482913%23\">"),
            "{html}"
        );
        assert!(html.contains("<td>482913</td>"));
    }

    #[test]
    fn cancellation_texts_start_with_the_notice() {
        let mut inv = zurich();
        inv.method = Method::Cancel;
        let c = inv.check().unwrap();
        assert!(plain_body(&c).starts_with("This conference has been cancelled.\n\n"));
        assert!(calendar_description(&c).starts_with("This conference has been cancelled.\n\n"));
        assert!(
            html_body(&c).contains("<p><strong>This conference has been cancelled.</strong></p>")
        );
    }
}
