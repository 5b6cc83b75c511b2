//! A scheduled conference's rules, without I/O: its PIN window (dial-in possible N minutes
//! before the start, until the end plus a grace), what a caller is told outside it, the
//! warnings before the end, the random PIN unique among the PINs valid at the same time,
//! and the invitation text's `<number>` / `<pin>` substitution. Times are absolute
//! ([`jiff::Timestamp`]); a time zone only decides how a time is spoken or shown.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::pin::{PIN_MAX_DIGITS, PIN_MIN_DIGITS, Pin};

/// When a scheduled conference's PIN works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The PIN works from here (start − dial-in minutes).
    pub opens: Timestamp,
    pub starts: Timestamp,
    pub ends: Timestamp,
    /// The PIN works until here (end + grace); then the conference closes.
    pub closes: Timestamp,
}

/// Why a window cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the duration must be between 1 minute and 24 hours")]
    Duration,
    #[error("dial-in may open at most 24 hours before the start")]
    DialIn,
    #[error("the grace after the end must be at most 24 hours")]
    Grace,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl Window {
    /// The window of a conference starting at `starts`, lasting `duration`, dialled into
    /// `dial_in_before` early, with `grace` after the end.
    pub fn new(
        starts: Timestamp,
        duration: Duration,
        dial_in_before: Duration,
        grace: Duration,
    ) -> Result<Window, WindowError> {
        if duration < Duration::from_secs(60) || duration > DAY {
            return Err(WindowError::Duration);
        }
        if dial_in_before > DAY {
            return Err(WindowError::DialIn);
        }
        if grace > DAY {
            return Err(WindowError::Grace);
        }
        let add =
            |t: Timestamp, d: Duration| t + jiff::SignedDuration::try_from(d).unwrap_or_default();
        let sub =
            |t: Timestamp, d: Duration| t - jiff::SignedDuration::try_from(d).unwrap_or_default();
        let ends = add(starts, duration);
        Ok(Window {
            opens: sub(starts, dial_in_before),
            starts,
            ends,
            closes: add(ends, grace),
        })
    }

    /// Whether the two windows share an instant (their PINs must then differ).
    pub fn overlaps(&self, other: &Window) -> bool {
        self.opens < other.closes && other.opens < self.closes
    }

    /// What a caller with this conference's PIN gets at `now`.
    pub fn verdict(&self, now: Timestamp) -> Verdict {
        if now < self.opens {
            Verdict::TooEarly {
                starts: self.starts,
            }
        } else if now < self.closes {
            Verdict::Open
        } else {
            Verdict::Over
        }
    }

    /// The warnings that fell due after `since` up to `now` (each once, in order), so a
    /// driver that checks now and then plays each exactly once.
    pub fn warnings_due(&self, since: Timestamp, now: Timestamp) -> Vec<Warning> {
        let at = |minutes: i64| self.ends - jiff::SignedDuration::from_mins(minutes);
        [
            (at(5), Warning::FiveMinutes),
            (at(1), Warning::OneMinute),
            (self.closes, Warning::Closed),
        ]
        .into_iter()
        .filter(|(when, _)| since < *when && *when <= now)
        .map(|(_, w)| w)
        .collect()
    }
}

/// A PIN entered in relation to its conference's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// "This conference starts at HH:MM" (say [`spoken_time`] of `starts`), then goodbye.
    TooEarly { starts: Timestamp },
    /// Join.
    Open,
    /// "This conference has ended", then goodbye.
    Over,
}

/// What the room hears (or gets) as the end approaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warning {
    FiveMinutes,
    OneMinute,
    /// The window closed: every call gets a BYE.
    Closed,
}

/// Hour and minute of `t` in `tz` (for "this conference starts at HH:MM").
pub fn spoken_time(t: Timestamp, tz: &TimeZone) -> (i8, i8) {
    let local = t.to_zoned_datetime(tz.clone());
    (local.hour(), local.minute())
}

/// Why no PIN could be drawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinDrawError {
    #[error("PIN length must be {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")]
    Length,
    #[error("no free PIN found; configure longer PINs")]
    Exhausted,
}

/// Draws a random PIN of `length` digits that `taken` does not reject (the caller's test
/// for "valid at an overlapping time, or a room's fixed PIN"). `digit` yields random
/// digits 0–9 (the OS's cryptographic RNG in the server; a seeded one in tests).
pub fn draw_pin(
    length: usize,
    mut digit: impl FnMut() -> u8,
    taken: impl Fn(&Pin) -> bool,
) -> Result<Pin, PinDrawError> {
    if !(PIN_MIN_DIGITS..=PIN_MAX_DIGITS).contains(&length) {
        return Err(PinDrawError::Length);
    }
    for _ in 0..1000 {
        let text: String = (0..length)
            .map(|_| char::from(b'0' + digit() % 10))
            .collect();
        let pin = Pin::parse(&text).map_err(|_| PinDrawError::Length)?;
        if !taken(&pin) {
            return Ok(pin);
        }
    }
    Err(PinDrawError::Exhausted)
}

/// The invitation text with `<number>` and `<pin>` replaced (every occurrence; nothing
/// else in the text is interpreted).
pub fn fill_template(text: &str, number: &str, pin: &str) -> String {
    text.replace("<number>", number).replace("<pin>", pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn mins(m: u64) -> Duration {
        Duration::from_secs(60 * m)
    }

    fn window(start: &str, minutes: u64) -> Window {
        Window::new(ts(start), mins(minutes), mins(10), mins(5)).unwrap()
    }

    #[test]
    fn the_pin_works_from_dial_in_to_end_plus_grace() {
        let w = window("2026-12-07T09:00:00Z", 60);
        assert_eq!(w.opens, ts("2026-12-07T08:50:00Z"));
        assert_eq!(w.closes, ts("2026-12-07T10:05:00Z"));
        assert_eq!(
            w.verdict(ts("2026-12-07T08:49:59Z")),
            Verdict::TooEarly { starts: w.starts }
        );
        assert_eq!(w.verdict(ts("2026-12-07T08:50:00Z")), Verdict::Open);
        assert_eq!(w.verdict(ts("2026-12-07T10:04:59Z")), Verdict::Open);
        assert_eq!(w.verdict(ts("2026-12-07T10:05:00Z")), Verdict::Over);
        assert_eq!(
            Window::new(w.starts, mins(0), mins(10), mins(5)),
            Err(WindowError::Duration)
        );
    }

    #[test]
    fn warnings_come_once_each_in_order() {
        let w = window("2026-12-07T09:00:00Z", 60);
        let t = |s: &str| ts(s);
        assert!(
            w.warnings_due(t("2026-12-07T09:00:00Z"), t("2026-12-07T09:54:59Z"))
                .is_empty()
        );
        assert_eq!(
            w.warnings_due(t("2026-12-07T09:54:59Z"), t("2026-12-07T09:55:00Z")),
            [Warning::FiveMinutes]
        );
        assert_eq!(
            w.warnings_due(t("2026-12-07T09:55:00Z"), t("2026-12-07T09:58:30Z")),
            []
        );
        // A driver that slept through both gets them in order, and the close.
        assert_eq!(
            w.warnings_due(t("2026-12-07T09:50:00Z"), t("2026-12-07T10:06:00Z")),
            [Warning::FiveMinutes, Warning::OneMinute, Warning::Closed]
        );
    }

    #[test]
    fn a_conference_across_the_october_change_in_zurich() {
        // 25 October 2026: at 03:00 CEST clocks go back to 02:00 CET. A conference from
        // 01:30 local lasting 120 minutes ends at 02:30 CET (wall clock), not 03:30.
        let zurich = TimeZone::get("Europe/Zurich").unwrap();
        let starts = jiff::civil::datetime(2026, 10, 25, 1, 30, 0, 0)
            .to_zoned_datetime(zurich.clone())
            .unwrap()
            .timestamp();
        let w = Window::new(starts, mins(120), mins(15), mins(0)).unwrap();
        assert_eq!(spoken_time(w.starts, &zurich), (1, 30));
        assert_eq!(spoken_time(w.ends, &zurich), (2, 30));
        assert_eq!(spoken_time(w.opens, &zurich), (1, 15));
        assert_eq!(w.ends.to_string(), "2026-10-25T01:30:00Z");
        // The same wall-clock start in March (02:00 → 03:00): 01:30 + 120 min = 04:30.
        let march = jiff::civil::datetime(2026, 3, 29, 1, 30, 0, 0)
            .to_zoned_datetime(zurich.clone())
            .unwrap()
            .timestamp();
        let m = Window::new(march, mins(120), mins(0), mins(0)).unwrap();
        assert_eq!(spoken_time(m.ends, &zurich), (4, 30));
    }

    #[test]
    fn overlapping_windows_need_different_pins() {
        let a = window("2026-12-07T09:00:00Z", 60);
        let b = window("2026-12-07T10:00:00Z", 60); // opens 09:50, before a closes at 10:05
        let c = window("2026-12-07T11:20:00Z", 60); // opens 11:10, after b closes (11:05)
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        let taken = [
            (a, Pin::parse("1234").unwrap()),
            (c, Pin::parse("5678").unwrap()),
        ];
        let fixed = [Pin::parse("9999").unwrap()];
        // A digit source that offers 1234 (taken by a), 9999 (a room's), 5678 (free: c
        // does not overlap b), in that order.
        let mut digits = "123499995678".bytes().map(|b| b - b'0');
        let pin = draw_pin(
            4,
            || digits.next().unwrap(),
            |pin| fixed.contains(pin) || taken.iter().any(|(w, p)| p == pin && w.overlaps(&b)),
        )
        .unwrap();
        assert_eq!(pin.reveal(), "5678");
        assert_eq!(draw_pin(3, || 1, |_| false), Err(PinDrawError::Length));
        assert_eq!(draw_pin(4, || 1, |_| true), Err(PinDrawError::Exhausted));
    }

    #[test]
    fn the_template_fills_number_and_pin_everywhere_and_nothing_else() {
        assert_eq!(
            fill_template(
                "Dial <number>, PIN <pin>. (<pin>) <name>",
                "+41 44 123 45 67",
                "482913"
            ),
            "Dial +41 44 123 45 67, PIN 482913. (482913) <name>"
        );
    }
}
