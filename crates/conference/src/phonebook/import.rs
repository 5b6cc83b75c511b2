//! Reading address-book exports (CSV, vCard) into [`Contact`]s, keeping what is good and
//! reporting each rejected record with its line number.

use std::borrow::Cow;
use std::fmt;

use super::contact::{Contact, ContactError, ContactNumber};
use super::number::{NumberError, NumberLabel, PhoneNumber, parse_region};
use super::{csv_file, vcard};

/// The kind of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-, semicolon- or tab-separated values with a header row.
    Csv,
    /// vCard 2.1, 3.0 or 4.0, one or many cards.
    VCard,
}

impl Format {
    /// By file extension (`.vcf`, `.vcard`, `.csv`), else by content: a file that starts with
    /// `BEGIN:VCARD` is vCard, anything else CSV.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> Format {
        let extension = file_name
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("vcf" | "vcard") => return Format::VCard,
            Some("csv") => return Format::Csv,
            _ => {}
        }
        let text = decode_text(bytes);
        let starts_vcard = text
            .trim_start()
            .get(..11)
            .is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD"));
        if starts_vcard {
            Format::VCard
        } else {
            Format::Csv
        }
    }
}

/// The good contacts of a file and the records that were left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Import {
    /// The contacts read, in file order (not yet merged).
    pub contacts: Vec<Contact>,
    /// What was rejected, in file order.
    pub rejected: Vec<Rejected>,
}

/// A record (or one number of it) that was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The line where the record starts (1-based).
    pub line: usize,
    /// The record's name, if it had one.
    pub name: Option<String>,
    /// Why.
    pub reason: RejectReason,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        if let Some(name) = &self.name {
            write!(f, "{name}: ")?;
        }
        write!(f, "{}", self.reason)
    }
}

/// Why a record, or one of its numbers, was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// One number is not valid; the record's other numbers were kept.
    #[error("{0}")]
    Number(NumberError),
    /// The record has no name and no company.
    #[error("no name")]
    NoName,
    /// The record has no valid number to call.
    #[error("no valid phone number")]
    NoNumber,
    /// The name or company is unusable (too long).
    #[error("{0}")]
    Contact(ContactError),
    /// The CSV line has more fields than the header (an unquoted separator in a field?).
    #[error("{found} fields but the header has {expected}")]
    TooManyFields {
        /// Fields in this line.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The CSV line could not be read.
    #[error("unreadable CSV line")]
    UnreadableLine,
    /// A `BEGIN:VCARD` without its `END:VCARD`.
    #[error("card has no END:VCARD")]
    UnterminatedCard,
    /// Text between cards.
    #[error("text outside BEGIN:VCARD … END:VCARD")]
    OutsideCard,
    /// The vCard parser could not read the card.
    #[error("unreadable vCard")]
    UnreadableCard,
}

/// Why a whole file cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The default country is unknown.
    #[error("{0}")]
    Region(NumberError),
    /// The CSV file has no header row.
    #[error("the CSV file is empty")]
    Empty,
    /// The CSV header names no column for names and numbers.
    #[error(
        "the CSV header has no {0} column (expected e.g. name, first name, last name, \
         company, phone, mobile, work; Vorname, Nachname, Firma, Telefon geschäftlich, \
         Mobiltelefon)"
    )]
    MissingColumn(&'static str),
}

/// Reads a CSV or vCard file; numbers without a country code are in `default_region`.
pub fn import(bytes: &[u8], format: Format, default_region: &str) -> Result<Import, ImportError> {
    parse_region(default_region).map_err(ImportError::Region)?;
    let text = decode_text(bytes);
    match format {
        Format::Csv => csv_file::read(&text, default_region),
        Format::VCard => Ok(vcard::read(&text, default_region)),
    }
}

/// Text from bytes in the encodings exports come in: UTF-8 (with or without BOM), UTF-16
/// with BOM (Outlook's "Unicode" CSV), else Windows-1252 line by line (older Outlook,
/// Excel), so one odd line does not turn the rest of a UTF-8 file into mojibake.
pub(crate) fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(_) => text.push_str(
                &encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(line)
                    .0,
            ),
        }
    }
    Cow::Owned(text)
}

/// Collects one record's fields and turns them into a contact or rejections.
#[derive(Default)]
pub(crate) struct RecordBuilder {
    pub line: usize,
    pub name: Option<String>,
    pub company: Option<String>,
    numbers: Vec<ContactNumber>,
    bad_numbers: Vec<NumberError>,
}

impl RecordBuilder {
    pub fn new(line: usize) -> RecordBuilder {
        RecordBuilder {
            line,
            ..RecordBuilder::default()
        }
    }

    /// Parses and keeps a number; an empty field is skipped, a bad one remembered.
    pub fn number(&mut self, label: NumberLabel, text: &str, region: &str) {
        match PhoneNumber::parse(text, region) {
            Ok(number) => self.numbers.push(ContactNumber { label, number }),
            Err(NumberError::Empty) => {}
            Err(e) => self.bad_numbers.push(e),
        }
    }

    /// Whether nothing at all was found (an empty line or card).
    pub fn is_blank(&self) -> bool {
        self.name.is_none()
            && self.company.is_none()
            && self.numbers.is_empty()
            && self.bad_numbers.is_empty()
    }

    /// The contact, if any, into `import`; each bad number and a rejected record into
    /// `import.rejected`.
    pub fn finish(self, import: &mut Import) {
        let name = self
            .name
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.company.clone())
            .filter(|n| !n.trim().is_empty());
        let reject = |reason| Rejected {
            line: self.line,
            name: name.clone(),
            reason,
        };
        for e in self.bad_numbers {
            import.rejected.push(reject(RejectReason::Number(e)));
        }
        let Some(name_text) = name.as_deref() else {
            import.rejected.push(reject(RejectReason::NoName));
            return;
        };
        match Contact::new(name_text, self.company.as_deref(), self.numbers) {
            Ok(contact) => import.contacts.push(contact),
            Err(ContactError::NoNumber) => import.rejected.push(reject(RejectReason::NoNumber)),
            Err(e) => import.rejected.push(reject(RejectReason::Contact(e))),
        }
    }
}

/// "Last, First Middle" from the parts of a name that are there.
pub(crate) fn compose_name(first: &str, middle: &str, last: &str) -> Option<String> {
    let given = [first.trim(), middle.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let last = last.trim();
    match (last.is_empty(), given.is_empty()) {
        (false, false) => Some(format!("{last}, {given}")),
        (false, true) => Some(last.to_owned()),
        (true, false) => Some(given),
        (true, true) => None,
    }
}
