//! Owns answering a datagram that sipx-sip refuses to parse: what of the request is kept
//! so that it can still get its 400 (RFC 4475 §3.1.2: a Content-Length that is too large,
//! negative or repeated; a Request-Line with `<>`, embedded or extra spaces). Nothing here
//! parses SIP: the request's own method and header fields are handed back to sipx-sip
//! behind a stand-in Request-URI and without the body, and whatever sipx-sip reads of that
//! is what RFC 3261 §8.2.6 copies into the response (Via, From, To, Call-ID, CSeq).

use bytes::Bytes;
use sipx_sip::{HeaderName, Limits, Message, Request};

/// Takes the place of the request's Request-URI, which may be what is broken. It is only
/// ever read back by the code that builds the 400, never sent or routed to.
const STAND_IN: &[u8] = b" sip:invalid SIP/2.0";
const CRLF: &[u8] = b"\r\n";

/// The request a refused `datagram` was meant to be — its method and header fields, with
/// a stand-in Request-URI, no Content-Length and no body — for answering it. None for a
/// response (never answered), for bytes with no request line and header section, for
/// anything sipx-sip does not read even so or over the datagram size limit, and for a
/// request without one of the five header fields its answer copies: the client could not
/// match an answer without them, and an answer is never made of more than the request
/// brought (no reflection gain beyond a status line and `Server`).
///
/// The header section ends at the first empty line or, where there is none, at the end of
/// a datagram that ends in CRLF (RFC 4475 §3.1.2.15's file has no empty line).
pub(crate) fn salvage(datagram: &[u8]) -> Option<Request> {
    let limits = Limits::datagram();
    if datagram.len() > limits.max_message_bytes || datagram.starts_with(b"SIP/") {
        return None;
    }
    let head = match find(datagram, b"\r\n\r\n") {
        Some(end) => datagram.get(..end)?,
        None => datagram.strip_suffix(CRLF)?,
    };
    let start_line_end = find(head, CRLF)?;
    let method = head
        .get(..start_line_end)?
        .split(|&b| b == b' ')
        .next()
        .filter(|m| !m.is_empty())?;
    let mut text = Vec::with_capacity(head.len() + STAND_IN.len() + 4);
    text.extend_from_slice(method);
    text.extend_from_slice(STAND_IN);
    // Each header field but Content-Length (with its continuation lines): the body is not
    // kept, and its length may be what was wrong.
    let mut dropping = false;
    for line in lines(head.get(start_line_end + CRLF.len()..)?) {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            dropping = is_content_length(line);
        }
        if !dropping {
            text.extend_from_slice(CRLF);
            text.extend_from_slice(line);
        }
    }
    text.extend_from_slice(b"\r\n\r\n");
    let Ok(Message::Request(request)) = sipx_sip::parse_datagram(Bytes::from(text), &limits) else {
        return None;
    };
    let copied = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ];
    copied
        .iter()
        .all(|name| request.headers.get(name).is_some())
        .then_some(request)
}

/// Whether a header field line names Content-Length (long or compact form).
fn is_content_length(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = line.get(..colon).unwrap_or_default().trim_ascii();
    HeaderName::parse(&Bytes::copy_from_slice(name)) == HeaderName::ContentLength
}

/// The lines of `text`, split at CRLF.
fn lines(mut text: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if text.is_empty() {
            return None;
        }
        let end = find(text, CRLF).unwrap_or(text.len());
        let line = text.get(..end)?;
        text = text.get(end + CRLF.len()..).unwrap_or_default();
        Some(line)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: &str = "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
        Call-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n";

    #[test]
    fn a_broken_request_line_keeps_method_and_headers() {
        let text = format!("OPTIONS  <sip:b@example.com>  SIP/2.0  \r\n{HEADERS}\r\n");
        let request = salvage(text.as_bytes()).expect("salvaged");
        assert_eq!(request.method, sipx_sip::Method::Options);
        assert_eq!(request.headers.count(&HeaderName::Via), 1);
    }

    #[test]
    fn content_length_and_body_are_left_out() {
        let text = format!(
            "OPTIONS sip:b@example.com SIP/2.0\r\n{HEADERS}l: 13\r\n Content-Length: 5\r\n\
             Content-Length: -1\r\n\r\nbody"
        );
        let request = salvage(text.as_bytes()).expect("salvaged");
        assert_eq!(request.headers.count(&HeaderName::ContentLength), 0);
        assert!(request.body().is_empty());
    }

    #[test]
    fn a_missing_empty_line_ends_the_header_section_at_the_end_of_the_datagram() {
        let text = format!("OPTIONS sip:b@example.com SIP/2.0\r\n{HEADERS}");
        assert!(salvage(text.as_bytes()).is_some());
        assert!(salvage(text.trim_end().as_bytes()).is_none());
    }

    #[test]
    fn responses_and_noise_are_not_salvaged() {
        let response = format!("SIP/2.0 4294967301 big\r\n{HEADERS}\r\n");
        assert!(salvage(response.as_bytes()).is_none());
        for noise in [
            &b""[..],
            b"\r\n\r\n",
            b"\x01\x02garbage",
            b"garbage\r\n\r\n",
            b" \r\nVia: x\r\n\r\n",
            b"Via: SIP/2.0/UDP h\r\n\r\n",
            b"OPTIONS <sip:b> SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\n\r\n",
            &[0xff; 300],
        ] {
            assert!(salvage(noise).is_none(), "{noise:?}");
        }
        let huge = format!(
            "OPTIONS sip:b SIP/2.0\r\n{HEADERS}X: {}\r\n\r\n",
            "a".repeat(70_000)
        );
        assert!(salvage(huge.as_bytes()).is_none());
    }
}
