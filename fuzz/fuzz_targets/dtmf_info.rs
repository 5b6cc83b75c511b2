//! Fuzz target: the body of a SIP INFO carrying a key press (`konferenz_sip::fuzz_dtmf_info`).
//! The first byte's low bit picks `application/dtmf-relay` (set) or `application/dtmf`; the
//! rest is the body. A key, if any, is one of RFC 4733's sixteen.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    if let Some(key) = konferenz_sip::fuzz_dtmf_info(kind & 1 == 1, body) {
        assert!(
            matches!(key, '0'..='9' | '*' | '#' | 'A'..='D'),
            "not a DTMF key: {key:?}"
        );
    }
});
