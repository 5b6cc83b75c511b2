//! Fuzz target: an uploaded WAV file (room music, prompts) through `konferenz_media::decode_wav`
//! (hound parsing, channel mixing, resampling to 8 kHz). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = konferenz_media::decode_wav(data);
});
