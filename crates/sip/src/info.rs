//! DTMF carried in SIP INFO bodies, as phones send it when RTP events are not negotiated:
//! `application/dtmf-relay` (`Signal=5` / `Duration=160` lines, the Cisco/Polycom form)
//! and `application/dtmf` (the bare key).

/// The keys a DTMF INFO may carry (RFC 4733 events 0–15).
fn key(text: &str) -> Option<char> {
    let mut chars = text.trim().chars();
    let c = chars.next()?.to_ascii_uppercase();
    if chars.next().is_some() {
        // Some phones send the event number instead: "10" is '*', "11" is '#'.
        return match text.trim().parse::<u8>().ok()? {
            n @ 0..=9 => char::from_digit(u32::from(n), 10),
            10 => Some('*'),
            11 => Some('#'),
            n @ 12..=15 => Some((b'A' + n - 12) as char),
            _ => None,
        };
    }
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}

/// The digit in an INFO body of the given media type; None when it carries none.
pub(crate) fn dtmf_digit(subtype: &str, body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    match subtype {
        "dtmf-relay" => text.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| key(value))
                .flatten()
        }),
        "dtmf" => key(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::dtmf_digit;

    #[test]
    fn dtmf_relay_signal_lines_are_read() {
        assert_eq!(
            dtmf_digit("dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            dtmf_digit("dtmf-relay", b"Signal= #\nDuration= 250\n"),
            Some('#')
        );
        assert_eq!(dtmf_digit("dtmf-relay", b"signal=11\r\n"), Some('#'));
        assert_eq!(dtmf_digit("dtmf-relay", b"Duration=160\r\n"), None);
    }

    #[test]
    fn bare_dtmf_bodies_and_event_numbers() {
        assert_eq!(dtmf_digit("dtmf", b"7"), Some('7'));
        assert_eq!(dtmf_digit("dtmf", b" *\r\n"), Some('*'));
        assert_eq!(dtmf_digit("dtmf", b"10"), Some('*'));
        assert_eq!(dtmf_digit("dtmf", b"d"), Some('D'));
    }

    #[test]
    fn nonsense_carries_no_digit() {
        for body in [&b""[..], b"x", b"99", b"Signal=", b"\xff\xfe", b"12345"] {
            assert_eq!(dtmf_digit("dtmf", body), None, "{body:?}");
            assert_eq!(dtmf_digit("dtmf-relay", body), None, "{body:?}");
        }
        assert_eq!(dtmf_digit("plain", b"5"), None);
    }
}
