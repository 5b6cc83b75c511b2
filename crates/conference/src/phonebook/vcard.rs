//! vCard files (2.1, 3.0, 4.0): Apple, Outlook and Google exports, one or many cards.
//!
//! The file is cut into cards at `BEGIN:VCARD` / `END:VCARD` lines here, so every card
//! has the line number it starts at and a broken card costs only itself. Each card is
//! then read by `calcard`, which unfolds lines, decodes 2.1 `QUOTED-PRINTABLE` (with soft
//! line breaks) in the card's `CHARSET`, and accepts 2.1's bare parameters
//! (`TEL;WORK;VOICE:`), which the `ical` crate refuses.

use calcard::vcard::{
    VCard, VCardEntry, VCardParameterName, VCardParameterValue, VCardProperty, VCardType,
    VCardValue,
};

use super::import::{Import, RecordBuilder, RejectReason, Rejected, compose_name};
use super::number::NumberLabel;

pub(crate) fn read(text: &str, region: &str) -> Import {
    let mut import = Import::default();
    let mut card: Option<(usize, String)> = None;
    let mut outside_from: Option<usize> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r');
        let bare = line.trim().trim_start_matches('\u{feff}');
        if bare.eq_ignore_ascii_case("BEGIN:VCARD") {
            report_outside(&mut import, &mut outside_from);
            if let Some((start, _)) = card.take() {
                import
                    .rejected
                    .push(rejected(start, RejectReason::UnterminatedCard));
            }
            card = Some((line_no, format!("{bare}\r\n")));
        } else if let Some((start, body)) = &mut card {
            body.push_str(line);
            body.push_str("\r\n");
            if bare.eq_ignore_ascii_case("END:VCARD") {
                read_card(*start, body, region, &mut import);
                card = None;
            }
        } else if !bare.is_empty() && outside_from.is_none() {
            outside_from = Some(line_no);
        }
    }
    report_outside(&mut import, &mut outside_from);
    if let Some((start, _)) = card {
        import
            .rejected
            .push(rejected(start, RejectReason::UnterminatedCard));
    }
    import
}

fn rejected(line: usize, reason: RejectReason) -> Rejected {
    Rejected {
        line,
        name: None,
        reason,
    }
}

/// One rejection for a stretch of stray lines, at its first line.
fn report_outside(import: &mut Import, outside_from: &mut Option<usize>) {
    if let Some(line) = outside_from.take() {
        import
            .rejected
            .push(rejected(line, RejectReason::OutsideCard));
    }
}

fn read_card(line: usize, text: &str, region: &str, import: &mut Import) {
    let card = match calcard::Parser::new(text).entry() {
        calcard::Entry::VCard(card) => card,
        _ => {
            import
                .rejected
                .push(rejected(line, RejectReason::UnreadableCard));
            return;
        }
    };
    let mut builder = RecordBuilder::new(line);
    builder.name = card_name(&card);
    builder.company = property(&card, &VCardProperty::Org)
        .and_then(|org| texts(org).into_iter().next())
        .filter(|c| !c.trim().is_empty());
    for tel in card.entries.iter().filter(|e| e.name == VCardProperty::Tel) {
        if let Some(label) = tel_label(tel) {
            for value in texts(tel) {
                builder.number(label, strip_tel_uri(&value), region);
            }
        }
    }
    if builder.is_blank() {
        return;
    }
    builder.finish(import);
}

/// "Family, Given Additional" from N; else FN (company cards have an empty N).
fn card_name(card: &VCard) -> Option<String> {
    let from_n = property(card, &VCardProperty::N).and_then(|n| {
        let parts = texts(n);
        let part = |i: usize| parts.get(i).map_or("", String::as_str);
        compose_name(part(1), part(2), part(0))
    });
    from_n.or_else(|| {
        property(card, &VCardProperty::Fn)
            .map(|f| texts(f).join(" "))
            .filter(|f| !f.trim().is_empty())
    })
}

fn property<'c>(card: &'c VCard, name: &VCardProperty) -> Option<&'c VCardEntry> {
    card.entries.iter().find(|e| e.name == *name)
}

/// A property's values as text (structured values flattened in order).
fn texts(entry: &VCardEntry) -> Vec<String> {
    entry
        .values
        .iter()
        .flat_map(|v| match v {
            VCardValue::Text(t) => vec![t.clone()],
            VCardValue::Component(parts) => parts.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The label of a TEL; None for numbers nobody answers (fax, pager).
fn tel_label(tel: &VCardEntry) -> Option<NumberLabel> {
    let mut types = Vec::new();
    let mut other = Vec::new();
    for p in tel
        .params
        .iter()
        .filter(|p| p.name == VCardParameterName::Type)
    {
        match &p.value {
            VCardParameterValue::Type(t) => types.push(t.clone()),
            VCardParameterValue::Text(t) => other.push(t.clone()),
            _ => {}
        }
    }
    let has = |t: VCardType| types.contains(&t);
    let spoken = has(VCardType::Voice) || has(VCardType::Cell);
    if (has(VCardType::Fax) || has(VCardType::Pager)) && !spoken {
        return None;
    }
    Some(if has(VCardType::Cell) {
        NumberLabel::Mobile
    } else if has(VCardType::Work) {
        NumberLabel::Work
    } else if has(VCardType::Home) {
        NumberLabel::Home
    } else {
        // X- types and Apple's "iPhone", "main" ...
        other
            .iter()
            .map(|t| NumberLabel::lenient(t))
            .find(|l| *l != NumberLabel::Other)
            .unwrap_or(NumberLabel::Other)
    })
}

/// vCard 4.0 writes `TEL;VALUE=uri:tel:+49-30-1234567;ext=12`.
fn strip_tel_uri(value: &str) -> &str {
    let value = value.trim();
    match value.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => {
            value[4..].split(';').next().unwrap_or("")
        }
        _ => value,
    }
}
