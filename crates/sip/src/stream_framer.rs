//! Framing SIP over a byte stream (TCP, RFC 3261 §18.3) without losing what came before an
//! error: sipx-sip's [`StreamParser`] reports a framing error for the whole chunk it was
//! given, so a complete request followed by junk in one TCP segment would be lost with the
//! junk. [`Framer::push`] feeds each chunk in pieces that end just before a header
//! terminator's last byte; an error then surfaces at the start of a piece, after every
//! message completed before it was handed out. The parse itself is the library's (its
//! result does not depend on how the stream is cut). Pure: the caller owns the socket.

use sipx_sip::error::{LimitKind, ParseError};
use sipx_sip::{Message, StreamParser};

/// How much of a message's beginning is kept, to answer it if it cannot be framed.
const HEAD_KEEP: usize = 8 * 1024;

/// Finds terminators split across reads, and keeps the beginning of the message being
/// received so that one that cannot be framed can still be answered.
#[derive(Debug, Default)]
pub struct Framer {
    tail: Vec<u8>,
    /// Bytes handed to the parser so far.
    fed: u64,
    /// Where the parser's current unit (a message's head, or its body) began in the stream.
    unit_start: u64,
    /// The first [`HEAD_KEEP`] bytes from `unit_start`.
    unit: Vec<u8>,
}

/// A message the stream could not frame, as far as it can still be answered: its first
/// bytes up to a line end (the start line and header fields that fit) and the status.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub head: Vec<u8>,
    /// 400 (malformed), 413 (body too large) or 513 (header section too large).
    pub status: u16,
}

/// What one chunk gave: the messages completed, in order, and whether framing failed after
/// them (the connection cannot be resynchronised then, RFC 3261 §18.3).
#[derive(Debug, Default)]
pub struct Framed {
    /// The messages completed by this chunk, in stream order.
    pub messages: Vec<Message>,
    /// The framing error after them, if any; the stream is unusable from there on.
    pub failed: Option<String>,
    /// The message that failed, for an answer.
    pub refused: Option<Refused>,
}

impl Framer {
    /// Feeds `chunk` to `parser`.
    pub fn push(&mut self, parser: &mut StreamParser, chunk: &[u8]) -> Framed {
        let mut out = Framed::default();
        let mut from = 0;
        for cut in self.cuts(chunk) {
            if cut > from && !self.feed(parser, &chunk[from..cut], &mut out) {
                return out;
            }
            from = from.max(cut);
        }
        if from < chunk.len() {
            self.feed(parser, &chunk[from..], &mut out);
        }
        out
    }

    /// Offsets in `chunk` of each header terminator's last byte (`\r\n\r\n`, which may
    /// begin in an earlier chunk); keeps the new tail.
    fn cuts(&mut self, chunk: &[u8]) -> Vec<usize> {
        const END: &[u8] = b"\r\n\r\n";
        let kept = self.tail.len();
        let mut edge = self.tail.clone();
        edge.extend_from_slice(&chunk[..chunk.len().min(3)]);
        let mut cuts: Vec<usize> = edge
            .windows(4)
            .enumerate()
            .filter(|&(i, w)| i < kept && w == END)
            .map(|(i, _)| i + 3 - kept)
            .collect();
        cuts.extend(
            chunk
                .windows(4)
                .enumerate()
                .filter(|&(_, w)| w == END)
                .map(|(i, _)| i + 3),
        );
        self.tail
            .extend_from_slice(&chunk[chunk.len().saturating_sub(3)..]);
        let keep_from = self.tail.len().saturating_sub(3);
        self.tail.drain(..keep_from);
        cuts
    }

    /// One piece into the parser; false once framing failed.
    fn feed(&mut self, parser: &mut StreamParser, piece: &[u8], out: &mut Framed) -> bool {
        let fed_before = self.fed;
        match parser.push(piece) {
            Ok(messages) => {
                out.messages.extend(messages);
                self.fed += piece.len() as u64;
                self.keep(fed_before, piece, parser.pending());
                true
            }
            Err(error) => {
                // The parser held the failing head since `unit_start` (a head is parsed at
                // its terminator, whose last byte begins this piece).
                let mut head = self.unit.clone();
                head.extend_from_slice(
                    &piece[..piece.len().min(HEAD_KEEP - head.len().min(HEAD_KEEP))],
                );
                out.refused = answerable(head, &error);
                out.failed = Some(error.to_string());
                false
            }
        }
    }

    /// Keeps the first bytes of the parser's current unit (the pending bytes end the stream
    /// so far: in a head they are the head, in a body the body).
    fn keep(&mut self, fed_before: u64, piece: &[u8], pending: usize) {
        let start = self.fed.saturating_sub(pending as u64);
        if start != self.unit_start {
            self.unit_start = start;
            self.unit.clear();
            let offset = usize::try_from(start.saturating_sub(fed_before)).unwrap_or(usize::MAX);
            if let Some(rest) = piece.get(offset..) {
                self.unit
                    .extend_from_slice(&rest[..rest.len().min(HEAD_KEEP)]);
            }
        } else if self.unit.len() < HEAD_KEEP {
            let room = HEAD_KEEP - self.unit.len();
            self.unit.extend_from_slice(&piece[..piece.len().min(room)]);
        }
    }
}

/// The refused message's beginning, cut at its last complete line, with the status for it.
fn answerable(mut head: Vec<u8>, error: &ParseError) -> Option<Refused> {
    let status = match error {
        ParseError::Limit {
            limit: LimitKind::BodyBytes,
            ..
        } => 413,
        ParseError::Limit { .. } => 513,
        _ => 400,
    };
    if !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let end = head.windows(2).rposition(|w| w == b"\r\n")? + 2;
        head.truncate(end);
    }
    Some(Refused { head, status })
}

#[cfg(test)]
mod tests {
    use sipx_sip::Limits;

    use super::*;

    const OPTIONS: &str = "OPTIONS sip:800@127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n\
        From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:800@127.0.0.1>\r\n\
        Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    fn frame_all(pieces: &[&[u8]]) -> (usize, bool) {
        let mut parser = StreamParser::new(Limits::stream());
        let mut framer = Framer::default();
        let mut n = 0;
        for p in pieces {
            let framed = framer.push(&mut parser, p);
            n += framed.messages.len();
            if framed.failed.is_some() {
                return (n, true);
            }
        }
        (n, false)
    }

    #[test]
    fn a_request_followed_by_junk_in_one_segment_is_kept() {
        let text = format!("{OPTIONS}this is not SIP\r\nat all\r\n\r\n");
        assert_eq!(frame_all(&[text.as_bytes()]), (1, true));
        let two = format!("{OPTIONS}{OPTIONS}junk\r\n\r\n");
        assert_eq!(frame_all(&[two.as_bytes()]), (2, true));
    }

    #[test]
    fn every_cut_of_the_stream_frames_the_same() {
        let text = format!("\r\n\r\n{OPTIONS}{OPTIONS}\r\n{OPTIONS}");
        let bytes = text.as_bytes();
        for a in 0..bytes.len() {
            let (n, failed) = frame_all(&[&bytes[..a], &bytes[a..]]);
            assert_eq!((n, failed), (3, false), "cut at {a}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frame_all(&singles), (3, false));
    }

    #[test]
    fn what_cannot_be_framed_comes_back_for_an_answer() {
        let junk = "INVITE <sip:800@x> SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-2\r\n\r\n";
        let text = format!("{OPTIONS}{junk}");
        let bytes = text.as_bytes();
        for a in [0, 1, OPTIONS.len(), OPTIONS.len() + 10, bytes.len() - 1] {
            let mut parser = StreamParser::new(Limits::stream());
            let mut framer = Framer::default();
            let mut refused = None;
            for p in [&bytes[..a], &bytes[a..]] {
                let framed = framer.push(&mut parser, p);
                if framed.failed.is_some() {
                    refused = framed.refused;
                    break;
                }
            }
            let refused = refused.unwrap_or_else(|| panic!("cut at {a}: not refused"));
            assert_eq!(refused.status, 400);
            assert_eq!(String::from_utf8_lossy(&refused.head), junk, "cut at {a}");
        }
        // A header block too large: 513, with the beginning up to a line end.
        let big = format!(
            "OPTIONS sip:800@x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-3\r\n\
             X-Big: {}\r\n\r\n",
            "a".repeat(70_000)
        );
        let mut parser = StreamParser::new(Limits::stream());
        let framed = Framer::default().push(&mut parser, big.as_bytes());
        let refused = framed.refused.expect("refused");
        assert_eq!(refused.status, 513);
        assert!(
            refused
                .head
                .starts_with(b"OPTIONS sip:800@x SIP/2.0\r\nVia:")
        );
        assert!(refused.head.ends_with(b"\r\n") && refused.head.len() <= HEAD_KEEP);
    }

    #[test]
    fn junk_split_across_reads_still_keeps_the_request() {
        let text = format!("{OPTIONS}garbage here\r\n\r\n");
        let bytes = text.as_bytes();
        for a in OPTIONS.len()..bytes.len() {
            assert_eq!(
                frame_all(&[&bytes[..a], &bytes[a..]]),
                (1, true),
                "cut at {a}"
            );
        }
    }
}
