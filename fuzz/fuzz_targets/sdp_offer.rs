//! Fuzz target: the SDP body of an INVITE through our offer/answer policy
//! (`konferenz_sip::sdp::negotiate_offer`, sdp-types parsing). An accepted offer must give
//! an answer that we read back to the same codec, payload types and direction; an offer
//! with a usable SDES crypto line gets our key back under its tag, suite and profile.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};

use konferenz_sip::sdp::{negotiate_offer, read_answer, write_answer};
use konferenz_sip::{Direction, G722, LocalMedia, LocalSrtp, OPUS, PCMA, PCMU};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let supported = [OPUS, G722, PCMU, PCMA];
    let Ok(chosen) = negotiate_offer(data, &supported) else {
        return;
    };
    assert!(supported.contains(&chosen.codec));
    assert!(chosen.payload_type <= 127);
    let local = LocalMedia {
        rtp: SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 20000)),
        srtp: Some(LocalSrtp {
            key: [0x5A; 30],
            savp: false,
        }),
    };
    let answer = write_answer(&local, &chosen, 1, 1);
    let back = read_answer(&answer, &supported)
        .unwrap_or_else(|e| panic!("our answer does not read back ({e}): {answer:?}"));
    let answered = match chosen.remote_direction {
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        d => d,
    };
    assert_eq!(
        (back.codec, back.payload_type, back.dtmf_payload_type),
        (chosen.codec, chosen.payload_type, chosen.dtmf_payload_type)
    );
    assert_eq!(back.remote_rtp, Some(local.rtp));
    assert_eq!(back.remote_direction, answered);
    match chosen.srtp {
        Some(theirs) => {
            let ours = back.srtp.expect("our crypto line reads back");
            assert_eq!((ours.tag, ours.suite, ours.key), (theirs.tag, theirs.suite, [0x5A; 30]));
            assert_eq!(back.secure_profile, chosen.secure_profile);
        }
        None => assert_eq!(back.srtp, None),
    }
});
