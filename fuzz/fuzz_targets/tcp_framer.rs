//! Fuzz target: SIP over TCP framing (`konferenz_sip::Framer` over sipx-sip's
//! `StreamParser`), differential: the stream in one read and the same stream cut into reads
//! at fuzzer-chosen offsets must fail alike, give the same messages when neither fails, and
//! when both fail the cut stream keeps at least what the whole one did (it may keep more: a
//! message whose body ends in the read that also holds the junk is lost with it). Where both
//! fail after the same messages, the refused message (kept for a 400/413/513 answer) is the
//! same: same status, same head up to its `\r\n\r\n` (a head cut short by a size limit ends
//! at a line end that depends on the reads, so one is then a prefix of the other).
//!
//! Input: byte 0 = number of cuts (mod 8), then two bytes (little-endian, mod the stream's
//! length + 1) per cut, then the stream.
#![no_main]

use konferenz_sip::{Framer, Limits, Message, Refused, StreamParser};
use libfuzzer_sys::fuzz_target;

/// The messages (as their bytes), whether framing failed, and what was refused.
fn frame(stream: &[u8], cuts: &[usize]) -> (Vec<Vec<u8>>, bool, Option<Refused>) {
    let mut parser = StreamParser::new(Limits::stream());
    let mut framer = Framer::default();
    let mut messages = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([stream.len()].iter()) {
        let framed = framer.push(&mut parser, &stream[from..cut]);
        messages.extend(
            framed
                .messages
                .iter()
                .map(|m: &Message| m.to_bytes().to_vec()),
        );
        if framed.failed.is_some() {
            return (messages, true, framed.refused);
        }
        assert!(framed.refused.is_none(), "refused without a failure");
        from = cut;
    }
    (messages, false, None)
}

/// The head up to and including its terminator, if it has one.
fn head_of(refused: &Refused) -> (&[u8], bool) {
    match refused.head.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (&refused.head[..at + 4], true),
        None => (&refused.head, false),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8);
    if rest.len() < 2 * n {
        return;
    }
    let (offsets, stream) = rest.split_at(2 * n);
    let mut cuts: Vec<usize> = offsets
        .chunks_exact(2)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let (whole, whole_failed, whole_refused) = frame(stream, &[]);
    let (cut, cut_failed, cut_refused) = frame(stream, &cuts);
    assert_eq!(whole_failed, cut_failed, "cuts {cuts:?}");
    if !whole_failed {
        assert_eq!(whole, cut, "cuts {cuts:?}");
        return;
    }
    assert!(
        cut.starts_with(&whole),
        "cuts {cuts:?}: whole {} message(s), cut {}",
        whole.len(),
        cut.len()
    );
    if whole != cut {
        return;
    }
    match (&whole_refused, &cut_refused) {
        (Some(a), Some(b)) => {
            assert_eq!(a.status, b.status, "cuts {cuts:?}");
            let ((a, a_whole), (b, b_whole)) = (head_of(a), head_of(b));
            if a_whole && b_whole {
                assert_eq!(a, b, "cuts {cuts:?}");
            } else {
                assert!(a.starts_with(b) || b.starts_with(a), "cuts {cuts:?}");
            }
        }
        (Some(r), None) | (None, Some(r)) => {
            assert!(!head_of(r).1, "cuts {cuts:?}: refused only once: {r:?}");
        }
        (None, None) => {}
    }
});
