//! Fuzz target: one RTP datagram into the media receive path (jitter buffer, decoder, DTMF).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    konferenz_media::fuzz_receive(data, std::time::Instant::now());
});
