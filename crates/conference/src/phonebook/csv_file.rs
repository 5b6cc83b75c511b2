//! CSV exports (Outlook, Google, Excel lists) in English and German, with a header row.
//!
//! The separator is whatever the header uses most of: `;` (German Excel and Outlook), `,`
//! or a tab. Columns are recognised by their header, folded (case and accents ignored).

use super::import::{Import, ImportError, RecordBuilder, RejectReason, Rejected, compose_name};
use super::number::NumberLabel;
use super::search::fold;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Name,
    First,
    Middle,
    Last,
    Company,
    Phone(NumberLabel),
    /// Google's `Phone 1 - Type` / `Phone 1 - Label`: the label of pair n.
    PairLabel(u32),
    /// Google's `Phone 1 - Value`: the number(s) of pair n, `:::`-separated.
    PairValue(u32),
    Ignore,
}

pub(crate) fn read(text: &str, region: &str) -> Result<Import, ImportError> {
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = loop {
        match records.next() {
            None => return Err(ImportError::Empty),
            Some(Ok(header)) if header.iter().any(|f| !f.trim().is_empty()) => break header,
            Some(_) => {}
        }
    };
    let roles: Vec<Role> = header.iter().map(role).collect();
    let has = |f: fn(&Role) -> bool| roles.iter().any(f);
    if !has(|r| matches!(r, Role::Name | Role::First | Role::Last | Role::Company)) {
        return Err(ImportError::MissingColumn("name"));
    }
    if !has(|r| matches!(r, Role::Phone(_) | Role::PairValue(_))) {
        return Err(ImportError::MissingColumn("phone"));
    }

    let mut import = Import::default();
    for result in records {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, |p| line_at(text, p.byte()));
                read_record(&record, &roles, line, region, &mut import);
            }
            Err(e) => import.rejected.push(Rejected {
                line: e.position().map_or(0, |p| line_at(text, p.byte())),
                name: None,
                reason: RejectReason::UnreadableLine,
            }),
        }
    }
    Ok(import)
}

fn read_record(
    record: &csv::StringRecord,
    roles: &[Role],
    line: usize,
    region: &str,
    import: &mut Import,
) {
    let mut builder = RecordBuilder::new(line);
    let field = |role: Role| {
        roles
            .iter()
            .position(|r| *r == role)
            .and_then(|i| record.get(i))
            .map(str::trim)
            .unwrap_or("")
    };
    let name = field(Role::Name);
    builder.name = if name.is_empty() {
        compose_name(field(Role::First), field(Role::Middle), field(Role::Last))
    } else {
        Some(name.to_owned())
    };
    let company = field(Role::Company);
    builder.company = (!company.is_empty()).then(|| company.to_owned());

    for (role, value) in roles.iter().zip(record.iter()) {
        let (label, value) = match *role {
            Role::Phone(label) => (label, value),
            Role::PairValue(n) => (NumberLabel::lenient(field(Role::PairLabel(n))), value),
            _ => continue,
        };
        // Google puts several numbers of one label into one cell: "a ::: b".
        for number in value.split(":::") {
            builder.number(label, number, region);
        }
    }
    if builder.is_blank() {
        return;
    }

    let extra_filled = record
        .iter()
        .skip(roles.len())
        .any(|f| !f.trim().is_empty());
    if extra_filled {
        import.rejected.push(Rejected {
            line,
            name: builder.name.clone(),
            reason: RejectReason::TooManyFields {
                found: record.len(),
                expected: roles.len(),
            },
        });
        return;
    }
    builder.finish(import);
}

/// The 1-based line where the record at `byte` starts, counting newlines inside quoted
/// fields too (the csv crate's own counter does not), so it matches what an editor shows.
///
/// csv reports a record's position at the end of the previous line's terminator, so the
/// line breaks (and blank lines) that follow it are skipped first.
fn line_at(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let mut end = usize::try_from(byte).map_or(bytes.len(), |b| b.min(bytes.len()));
    while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
        end += 1;
    }
    bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// The separator the first line uses most, outside quotes; `,` if it uses none.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in first.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
            slot.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| *d)
}

/// What a header names.
fn role(header: &str) -> Role {
    let h = fold(header)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(pair) = google_pair(&h) {
        return pair;
    }
    let words: Vec<&str> = h.split(|c: char| !c.is_alphanumeric()).collect();
    let has_word = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if has_word(&["fax", "pager", "telex", "tty", "ttytdd", "isdn"]) {
        return Role::Ignore;
    }
    let phone_like = h.contains("phone")
        || h.contains("telefon")
        || h.starts_with("mobil")
        || has_word(&[
            "tel", "handy", "cell", "natel", "number", "nummer", "mobile",
        ]);
    if phone_like && !h.contains("e-mail") && !h.contains("email") {
        return Role::Phone(NumberLabel::lenient(&h));
    }
    match h.as_str() {
        "first name" | "firstname" | "first" | "given name" | "vorname" | "prenom" => Role::First,
        "middle name" | "middle" | "additional name" | "weitere vornamen" | "zweiter vorname" => {
            Role::Middle
        }
        "last name" | "lastname" | "last" | "family name" | "surname" | "nachname" | "nom" => {
            Role::Last
        }
        "name" | "full name" | "display name" | "anzeigename" | "vollstandiger name"
        | "kontakt" | "contact" => Role::Name,
        _ if [
            "company",
            "organization",
            "organisation",
            "firma",
            "unternehmen",
        ]
        .iter()
        .any(|w| h.contains(w))
            || h == "org" =>
        {
            Role::Company
        }
        _ => Role::Ignore,
    }
}

/// Google's numbered phone columns: `phone 1 - value`, `phone 1 - type`, `phone 1 - label`.
fn google_pair(h: &str) -> Option<Role> {
    let rest = h.strip_prefix("phone ")?;
    let (n, kind) = rest.split_once(" - ")?;
    let n: u32 = n.trim().parse().ok()?;
    match kind.trim() {
        "value" => Some(Role::PairValue(n)),
        "type" | "label" => Some(Role::PairLabel(n)),
        _ => Some(Role::Ignore),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_common_exports_are_recognised() {
        assert_eq!(role("Vorname"), Role::First);
        assert_eq!(role("Nachname"), Role::Last);
        assert_eq!(role("Firma"), Role::Company);
        assert_eq!(role("Telefon geschäftlich"), Role::Phone(NumberLabel::Work));
        assert_eq!(role("Mobiltelefon"), Role::Phone(NumberLabel::Mobile));
        assert_eq!(role("Telefon privat"), Role::Phone(NumberLabel::Home));
        assert_eq!(role("Fax geschäftlich"), Role::Ignore);
        assert_eq!(role("Business Phone"), Role::Phone(NumberLabel::Work));
        assert_eq!(role("Mobile Phone"), Role::Phone(NumberLabel::Mobile));
        assert_eq!(role("Company Main Phone"), Role::Phone(NumberLabel::Work));
        assert_eq!(role("Organization Name"), Role::Company);
        assert_eq!(role("Phone 1 - Value"), Role::PairValue(1));
        assert_eq!(role("Phone 2 - Label"), Role::PairLabel(2));
        assert_eq!(role("E-mail Address"), Role::Ignore);
        assert_eq!(role("Name"), Role::Name);
    }

    #[test]
    fn delimiter_is_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("Name;Telefon\n"), b';');
        assert_eq!(sniff_delimiter("\"Name; full\",Phone\n"), b',');
        assert_eq!(sniff_delimiter("Name\tPhone\n"), b'\t');
        assert_eq!(sniff_delimiter("Name\n"), b',');
    }
}
