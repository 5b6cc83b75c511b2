//! Fuzz target: arbitrary text as a phone's `Authorization` header (parsed, then checked).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        konferenz_sip::fuzz_authorization(text, std::time::Instant::now());
    }
});
