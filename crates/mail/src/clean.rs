//! Input hygiene for user-typed text before it goes into headers, calendar properties or
//! HTML: one-line fields lose their control characters, multi-line fields get `\n` line ends.

/// A single-line field (title, location, display name): every control character, line
/// breaks included, becomes a space, so a title can never start a new header line.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A multi-line field (the description): CRLF and lone CR become LF (the iCalendar writer
/// escapes LF as `\n`, and lettre turns LF into CRLF on the wire); other control
/// characters except TAB are dropped. Trailing whitespace is trimmed.
pub(crate) fn multi_line(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// A value for an iCalendar parameter such as `CN` (RFC 5545 §3.1): a parameter value may
/// be quoted but can never contain a DQUOTE, so a `"` in a name becomes `'`. The icalendar
/// crate adds the quotes when the value contains `:`, `;` or `,`.
pub(crate) fn param_value(s: &str) -> String {
    one_line(s).replace('"', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_turns_breaks_into_spaces() {
        assert_eq!(one_line(" a\r\nBcc: x@y\tz "), "a  Bcc: x@y z");
    }

    #[test]
    fn multi_line_normalises_line_ends() {
        assert_eq!(multi_line("a\r\nb\rc\n\u{7}d\t \n"), "a\nb\nc\nd");
    }

    #[test]
    fn param_value_has_no_double_quotes() {
        assert_eq!(param_value("\"Anna\" Müller"), "'Anna' Müller");
    }
}
