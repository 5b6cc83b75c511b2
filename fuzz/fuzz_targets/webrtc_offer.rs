//! Fuzz target: a browser's SDP offer as the server answers it (`POST …/browser`):
//! str0m parses the offer and, configured as ours (ICE-lite, Opus only, one host
//! candidate), accepts it or refuses it — never a panic; an accepted offer's answer is
//! ICE-lite and offers nothing but Opus.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use str0m::change::SdpOffer;
use str0m::{Candidate, Rtc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offer) = SdpOffer::from_sdp_string(text) else {
        return;
    };
    let mut rtc = Rtc::builder()
        .set_ice_lite(true)
        .clear_codecs()
        .enable_opus(true, false)
        .build(Instant::now());
    let local = "127.0.0.1:5064".parse().expect("an address");
    rtc.add_local_candidate(Candidate::host(local, "udp").expect("a host candidate"));
    if let Ok(answer) = rtc.sdp_api().accept_offer(offer) {
        let sdp = answer.to_sdp_string();
        assert!(sdp.contains("a=ice-lite"), "{sdp}");
        assert!(!sdp.contains("PCMU") && !sdp.contains("G722"), "{sdp}");
    }
});
