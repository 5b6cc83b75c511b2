//! Framing SIP over a byte stream (TCP, RFC 3261 §18.3) without losing what came before an
//! error: sipx-sip's [`StreamParser`] reports a framing error for the whole chunk it was
//! given, so a complete request followed by junk in one TCP segment would be lost with the
//! junk. [`Framer::push`] feeds each chunk in pieces that end just before a header
//! terminator's last byte; an error then surfaces at the start of a piece, after every
//! message completed before it was handed out. The parse itself is the library's (its
//! result does not depend on how the stream is cut). Pure: the caller owns the socket.

use sipx_sip::{Message, StreamParser};

/// Keeps the last three bytes seen, so that a terminator split across reads is found.
#[derive(Debug, Default)]
pub struct Framer {
    tail: Vec<u8>,
}

/// What one chunk gave: the messages completed, in order, and whether framing failed after
/// them (the connection cannot be resynchronised then, RFC 3261 §18.3).
#[derive(Debug, Default)]
pub struct Framed {
    /// The messages completed by this chunk, in stream order.
    pub messages: Vec<Message>,
    /// The framing error after them, if any; the stream is unusable from there on.
    pub failed: Option<String>,
}

impl Framer {
    /// Feeds `chunk` to `parser`.
    pub fn push(&mut self, parser: &mut StreamParser, chunk: &[u8]) -> Framed {
        let mut out = Framed::default();
        let mut from = 0;
        for cut in self.cuts(chunk) {
            if cut > from && !feed(parser, &chunk[from..cut], &mut out) {
                return out;
            }
            from = from.max(cut);
        }
        if from < chunk.len() {
            feed(parser, &chunk[from..], &mut out);
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
}

/// One piece into the parser; false once framing failed.
fn feed(parser: &mut StreamParser, piece: &[u8], out: &mut Framed) -> bool {
    match parser.push(piece) {
        Ok(messages) => {
            out.messages.extend(messages);
            true
        }
        Err(error) => {
            out.failed = Some(error.to_string());
            false
        }
    }
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
