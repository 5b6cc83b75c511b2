//! The invitation mail (RFC 5322 + MIME) as bytes for the outbox, built with lettre:
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8
//! │   ├── text/html; charset=utf-8
//! │   └── text/calendar; charset=utf-8; method=REQUEST|CANCEL   (iMIP, RFC 6047)
//! └── application/ics; name="invite.ics"   (attachment; filename="invite.ics")
//! ```
//!
//! Nothing is read from the clock or a random source: the `Date` is a parameter, and the
//! Message-ID and the MIME boundaries are derived from the invitation and the recipient,
//! so composing the same mail twice gives the same bytes.

use jiff::Timestamp;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};

use crate::error::MailError;
use crate::ics;
use crate::invitation::{Checked, Invitation};
use crate::mailbox::Mailbox;
use crate::text;

/// A composed mail: the SMTP envelope and the message itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    /// Envelope sender (`MAIL FROM`), the sender's bare address.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), bare addresses.
    pub to: Vec<String>,
    /// The RFC 5322 message, CRLF line ends, ready to hand to SMTP `DATA`.
    pub bytes: Vec<u8>,
}

/// Composes the invitation mail for one recipient `to` (`addr` or `Name <addr>`).
///
/// `from` is the `From` header and envelope sender; `reply_to`, when given, becomes
/// `Reply-To`; `date` is the `Date` header and the calendar's `DTSTAMP` (the moment this
/// version of the invitation was made — pass the same value for every recipient of one
/// sending). The `Message-ID` is `<uid-sequence-hash@message_id_domain>`, the hash being
/// of the method and the recipient, so a retry of the same mail keeps its Message-ID.
pub fn compose(
    inv: &Invitation,
    from: &Mailbox,
    to: &str,
    reply_to: Option<&Mailbox>,
    message_id_domain: &str,
    date: Timestamp,
) -> Result<Composed, MailError> {
    let c = inv.check()?;
    let sender = from.to_lettre()?;
    let recipient = Mailbox::parse(to)?;
    let recipient_lettre = recipient.to_lettre()?;
    let message_id = message_id(&c, &recipient.email, message_id_domain)?;

    let calendar = ics::render(&c, date)?;
    let plain = text::plain_body(&c);
    let html = text::html_body(&c);
    let [mixed_boundary, alternative_boundary] =
        boundaries(&c, &recipient.email, &[&plain, &html, &calendar]);

    // The multipart content types are set whole, boundary included: lettre's
    // `MultiPart::mixed()`/`alternative()` would first draw a random boundary (fastrand,
    // seeded from the clock).
    let method = c.inv.method.as_str();
    let alternative = MultiPart::builder()
        .header(content_type(&format!(
            "multipart/alternative; boundary=\"{alternative_boundary}\""
        ))?)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(plain),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        )
        .singlepart(
            SinglePart::builder()
                .header(content_type(&format!(
                    "text/calendar; charset=utf-8; method={method}"
                ))?)
                .body(calendar.clone()),
        );
    let attachment = Attachment::new(ATTACHMENT_NAME.to_owned()).body(
        calendar,
        content_type(&format!("application/ics; name=\"{ATTACHMENT_NAME}\""))?,
    );
    let mixed = MultiPart::builder()
        .header(content_type(&format!(
            "multipart/mixed; boundary=\"{mixed_boundary}\""
        ))?)
        .multipart(alternative)
        .singlepart(attachment);

    let sent_at = std::time::SystemTime::try_from(date).map_err(|source| MailError::Time {
        time: date,
        zone: "UTC".into(),
        source,
    })?;
    let mut builder = Message::builder()
        .from(sender)
        .to(recipient_lettre)
        .subject(text::subject(&c))
        .date(sent_at)
        .message_id(Some(message_id));
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to.to_lettre()?);
    }
    let message = builder.multipart(mixed)?;

    Ok(Composed {
        from: from.email.trim().to_owned(),
        to: vec![recipient.email],
        bytes: message.formatted(),
    })
}

/// The attachment's file name.
const ATTACHMENT_NAME: &str = "invite.ics";

fn content_type(s: &str) -> Result<ContentType, MailError> {
    ContentType::parse(s).map_err(|_| MailError::ContentType(s.to_owned()))
}

/// `<uid-sequence-hash@domain>` (RFC 5322 §3.6.4). The UID is made a dot-atom (`@` and
/// other specials become `.`/`-`); the hash covers the method and the recipient, so the
/// request and the cancellation of one sequence, or two recipients, never share an id.
fn message_id(c: &Checked, recipient: &str, domain: &str) -> Result<String, MailError> {
    let domain = domain.trim();
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.is_empty() || !domain.split('.').all(valid_label) {
        return Err(MailError::InvalidMessageIdDomain(domain.to_owned()));
    }
    let uid: String = c
        .inv
        .uid
        .trim()
        .chars()
        .map(|ch| match ch {
            '@' => '.',
            ch if ch.is_ascii_alphanumeric() || "._-".contains(ch) => ch,
            _ => '-',
        })
        .collect();
    let mut uid = uid
        .split('.')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    uid.truncate(64);
    let uid = uid.trim_end_matches('.');
    let uid = if uid.is_empty() { "invitation" } else { uid };
    let hash = fnv1a(&[c.inv.method.as_str(), &recipient.to_ascii_lowercase()]);
    Ok(format!("<{uid}-{}-{hash:016x}@{domain}>", c.inv.sequence))
}

/// The two MIME boundaries (mixed, alternative), derived from the invitation and the
/// recipient and checked against every body: `=_` cannot occur in quoted-printable or
/// base64 output, and a body sent as 7bit is checked verbatim.
fn boundaries(c: &Checked, recipient: &str, bodies: &[&str]) -> [String; 2] {
    let seed = fnv1a(&[
        c.inv.uid.as_str(),
        &c.inv.sequence.to_string(),
        c.inv.method.as_str(),
        &recipient.to_ascii_lowercase(),
    ]);
    let mut salt = 0u64;
    loop {
        let h = fnv1a(&[&seed.to_string(), &salt.to_string()]);
        let pair = [
            format!("=_konferenz-mixed-{h:016x}"),
            format!("=_konferenz-alt-{h:016x}"),
        ];
        if bodies
            .iter()
            .all(|body| pair.iter().all(|b| !body.contains(b.as_str())))
        {
            return pair;
        }
        salt += 1;
    }
}

/// 64-bit FNV-1a over the parts, each followed by a 0 byte: stable across Rust versions,
/// unlike `DefaultHasher`, so stored Message-IDs can be recomputed.
fn fnv1a(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders, PartType};

    use super::*;
    use crate::invitation::tests::zurich;
    use crate::invitation::{Lang, Method};

    fn date() -> Timestamp {
        "2026-09-01T12:00:00Z".parse().unwrap()
    }

    fn from() -> Mailbox {
        Mailbox::new(Some("Konferenz"), "noreply@konferenz.example.org").unwrap()
    }

    fn reply_to() -> Mailbox {
        Mailbox::new(Some("Anna Müller"), "anna@example.org").unwrap()
    }

    fn compose_for(inv: &Invitation, to: &str) -> Composed {
        compose(
            inv,
            &from(),
            to,
            Some(&reply_to()),
            "konferenz.example.org",
            date(),
        )
        .unwrap()
    }

    /// Content type of a part as `type/subtype`.
    fn mime_type(part: &mail_parser::MessagePart) -> String {
        let ct = part.content_type().unwrap();
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
    }

    #[test]
    fn envelope_is_the_bare_addresses() {
        let composed = compose_for(&zurich(), "Bob <bob@example.org>");
        assert_eq!(composed.from, "noreply@konferenz.example.org");
        assert_eq!(composed.to, vec!["bob@example.org".to_owned()]);
    }

    #[test]
    fn message_has_the_invitation_structure() {
        let composed = compose_for(&zurich(), "bob@example.org");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();

        let root = message.root_part();
        assert_eq!(mime_type(root), "multipart/mixed");
        let PartType::Multipart(children) = &root.body else {
            panic!("root is not multipart")
        };
        assert_eq!(children.len(), 2);
        let alternative = message.part(children[0]).unwrap();
        assert_eq!(mime_type(alternative), "multipart/alternative");
        let PartType::Multipart(variants) = &alternative.body else {
            panic!("not multipart")
        };
        let variants: Vec<_> = variants
            .iter()
            .map(|&id| message.part(id).unwrap())
            .collect();
        let types: Vec<String> = variants.iter().map(|p| mime_type(p)).collect();
        assert_eq!(types, ["text/plain", "text/html", "text/calendar"]);
        for part in &variants {
            assert_eq!(
                part.content_type().unwrap().attribute("charset"),
                Some("utf-8")
            );
        }
        assert_eq!(
            variants[2].content_type().unwrap().attribute("method"),
            Some("REQUEST")
        );

        let attachment = message.part(children[1]).unwrap();
        assert_eq!(mime_type(attachment), "application/ics");
        assert_eq!(attachment.attachment_name(), Some("invite.ics"));
        let disposition = attachment.content_disposition().unwrap();
        assert_eq!(disposition.ctype(), "attachment");
        assert_eq!(disposition.attribute("filename"), Some("invite.ics"));

        // Both calendar parts carry exactly the calendar text, CRLFs intact.
        let expected = ics::calendar(&zurich(), date()).unwrap();
        assert_eq!(variants[2].text_contents(), Some(expected.as_str()));
        assert_eq!(attachment.contents(), expected.as_bytes());
    }

    #[test]
    fn headers_are_set() {
        let composed = compose_for(&zurich(), "Bob <bob@example.org>");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert_eq!(message.subject(), Some("Weekly sync"));
        let from = message.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("noreply@konferenz.example.org"));
        assert_eq!(from.name(), Some("Konferenz"));
        let to = message.to().unwrap().first().unwrap();
        assert_eq!(to.address(), Some("bob@example.org"));
        assert_eq!(to.name(), Some("Bob"));
        let reply_to = message.reply_to().unwrap().first().unwrap();
        assert_eq!(reply_to.address(), Some("anna@example.org"));
        assert_eq!(reply_to.name(), Some("Anna Müller"));
        assert_eq!(message.date().unwrap().to_rfc3339(), "2026-09-01T12:00:00Z");
        let id = message.message_id().unwrap();
        assert!(
            id.starts_with("conference-42.konferenz.example.org-0-"),
            "{id}"
        );
        assert!(id.ends_with("@konferenz.example.org"), "{id}");
    }

    #[test]
    fn no_reply_to_when_not_given() {
        let composed = compose(
            &zurich(),
            &from(),
            "bob@example.org",
            None,
            "konferenz.example.org",
            date(),
        )
        .unwrap();
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert!(message.reply_to().is_none());
    }

    #[test]
    fn both_bodies_have_number_and_pin() {
        let composed = compose_for(&zurich(), "bob@example.org");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        let plain = message.body_text(0).unwrap();
        let html = message.body_html(0).unwrap();
        for body in [&plain, &html] {
            assert!(body.contains("+41 44 123 45 67"), "{body}");
            assert!(body.contains("482913"), "{body}");
            assert!(body.contains("tel:+41441234567,,482913%23"), "{body}");
        }
        assert!(html.contains("href=\"tel:+41441234567\""), "{html}");
        assert!(
            plain.contains("(Europe/Zurich, UTC+02:00 → UTC+01:00)"),
            "{plain}"
        );
    }

    #[test]
    fn cancellation_mail() {
        let mut inv = zurich();
        inv.method = Method::Cancel;
        inv.sequence = 1;
        let composed = compose_for(&inv, "bob@example.org");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert_eq!(message.subject(), Some("Cancelled: Weekly sync"));
        let calendar_part = message
            .parts
            .iter()
            .find(|p| mime_type(p) == "text/calendar")
            .unwrap();
        assert_eq!(
            calendar_part.content_type().unwrap().attribute("method"),
            Some("CANCEL")
        );
        let text = calendar_part.text_contents().unwrap();
        assert!(text.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(text.contains("\r\nSTATUS:CANCELLED\r\n"));
        assert!(text.contains("\r\nSEQUENCE:1\r\n"));
        assert!(text.contains("\r\nUID:conference-42@konferenz.example.org\r\n"));
    }

    #[test]
    fn update_subject_in_german() {
        let mut inv = zurich();
        inv.sequence = 2;
        inv.lang = Lang::De;
        let composed = compose_for(&inv, "bob@example.org");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert_eq!(message.subject(), Some("Geändert: Weekly sync"));
        assert!(
            message
                .body_text(0)
                .unwrap()
                .contains("Einwahlnummer: +41 44 123 45 67")
        );
    }

    #[test]
    fn non_ascii_names_and_subject_are_encoded_words() {
        let mut inv = zurich();
        inv.title = "Besprechung mit Frau Müller".into();
        let to = "Jörg Müller <joerg@example.org>";
        let composed = compose_for(&inv, to);
        let raw = String::from_utf8(composed.bytes.clone()).unwrap();
        let headers = &raw[..raw.find("\r\n\r\n").unwrap()];
        assert!(headers.is_ascii(), "headers must be 7-bit: {headers}");
        let subject_line = headers.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject_line.contains("=?utf-8?"), "{subject_line}");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert_eq!(message.subject(), Some("Besprechung mit Frau Müller"));
        assert_eq!(
            message.to().unwrap().first().unwrap().name(),
            Some("Jörg Müller")
        );
        assert_eq!(
            message.reply_to().unwrap().first().unwrap().name(),
            Some("Anna Müller")
        );
    }

    #[test]
    fn title_is_escaped_in_html_and_calendar() {
        let mut inv = zurich();
        inv.title = "<b>&\" x, y; z".into();
        let composed = compose_for(&inv, "bob@example.org");
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert_eq!(message.subject(), Some("<b>&\" x, y; z"));
        let html = message.body_html(0).unwrap();
        assert!(html.contains("&lt;b&gt;&amp;&quot; x, y; z"), "{html}");
        assert!(!html.contains("<b>&"), "{html}");
        let calendar_part = message
            .parts
            .iter()
            .find(|p| mime_type(p) == "text/calendar")
            .unwrap();
        let text = icalendar::parser::unfold(calendar_part.text_contents().unwrap());
        assert!(
            text.contains("\r\nSUMMARY:<b>&\" x\\, y\\; z\r\n"),
            "{text}"
        );
    }

    #[test]
    fn same_input_same_bytes_and_ids_differ_per_recipient() {
        let a = compose_for(&zurich(), "bob@example.org");
        let b = compose_for(&zurich(), "bob@example.org");
        assert_eq!(a.bytes, b.bytes);
        let c = compose_for(&zurich(), "carla@example.com");
        let id = |m: &Composed| {
            MessageParser::default()
                .parse(&m.bytes)
                .unwrap()
                .message_id()
                .unwrap()
                .to_owned()
        };
        assert_ne!(id(&a), id(&c));
        let mut cancel = zurich();
        cancel.method = Method::Cancel;
        assert_ne!(id(&a), id(&compose_for(&cancel, "bob@example.org")));
    }

    #[test]
    fn invalid_inputs_are_named() {
        let inv = zurich();
        let err = compose(
            &inv,
            &from(),
            "bob@@example.org",
            None,
            "konferenz.example.org",
            date(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("bob@@example.org"), "{err}");
        let bad_from = Mailbox {
            name: None,
            email: "nobody".into(),
        };
        let err = compose(
            &inv,
            &bad_from,
            "bob@example.org",
            None,
            "konferenz.example.org",
            date(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("nobody"), "{err}");
        let err =
            compose(&inv, &from(), "bob@example.org", None, "bad domain", date()).unwrap_err();
        assert!(matches!(err, MailError::InvalidMessageIdDomain(_)), "{err}");
    }

    #[test]
    fn boundary_is_changed_when_a_body_contains_it() {
        let inv = zurich();
        let c = inv.check().unwrap();
        let [first, _] = boundaries(&c, "bob@example.org", &[]);
        let [again, _] = boundaries(&c, "bob@example.org", &[&format!("x{first}x")]);
        assert_ne!(first, again);
    }
}
