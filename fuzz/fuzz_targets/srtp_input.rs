//! Fuzz target: a datagram on an encrypted call's RTP port (`konferenz_media::srtp::Srtp`,
//! rtc-srtp underneath). Byte 0 even: the rest arrives as SRTP/SRTCP from the network and
//! must be refused or taken without a panic. Odd: the rest is a packet of ours, protected
//! by one side and unprotected by the other; what comes out must be what went in.
#![no_main]

use konferenz_media::srtp::{Keys, Srtp, Suite};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let suite = if mode & 2 == 0 {
        Suite::AesCm128HmacSha1_80
    } else {
        Suite::AesCm128HmacSha1_32
    };
    let (a, b) = ([0x11; 30], [0x22; 30]);
    let mut ours = Srtp::new(Keys { suite, local: a, remote: b }).unwrap();
    let mut theirs = Srtp::new(Keys { suite, local: b, remote: a }).unwrap();
    if mode & 1 == 0 {
        let _ = ours.unprotect(rest, |_| {});
        return;
    }
    let mut sent = Vec::new();
    if theirs.protect(rest, |d| sent.extend_from_slice(d)).is_err() {
        return;
    }
    let mut back = Vec::new();
    ours.unprotect(&sent, |p| back.extend_from_slice(p))
        .expect("our own protected packet authenticates");
    assert_eq!(back, rest);
});
