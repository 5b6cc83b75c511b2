//! konferenz-mail: scheduled-conference invitation mails, composed without I/O.
//!
//! An [`Invitation`] (title, description, times, zone, dial-in number, PIN, organizer,
//! attendees) becomes
//! - [`calendar`]: the iCalendar text (RFC 5545) with its iTIP method (RFC 5546) —
//!   `VCALENDAR` with one `VTIMEZONE` built from the zone's real transitions and one
//!   `VEVENT` with organizer, attendees (RSVP) and a one-tap `tel:` dial string;
//! - [`compose`]: the mail for one recipient (iMIP, RFC 6047) — plain text, HTML and the
//!   `text/calendar` part as alternatives, plus `invite.ics` attached — as bytes with its
//!   SMTP envelope, for the server's outbox to send later.
//!
//! Nothing here reads the clock, a random source, the network or the disk: the `Date` /
//! `DTSTAMP` is a parameter and every id is derived from the input, so the same input
//! always gives the same bytes. Updates reuse the `uid` with a higher `sequence`;
//! [`Method::Cancel`] cancels.

#![warn(missing_docs)]

mod clean;
mod dial;
mod error;
mod ics;
mod invitation;
mod mailbox;
mod message;
mod text;
mod vtimezone;

pub use error::MailError;
pub use ics::{PRODID, calendar};
pub use invitation::{Invitation, Lang, Method};
pub use mailbox::Mailbox;
pub use message::{Composed, compose};
