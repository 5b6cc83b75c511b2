//! Fuzz target: one UDP datagram into the SIP endpoint (virtual time), output drained.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    konferenz_sip::fuzz_datagram(data, std::time::Instant::now());
});
