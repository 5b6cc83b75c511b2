//! Offer/answer tests: codec choice by the offerer's preference, telephone-event, hold
//! directions and what our SDP says.

use super::*;
use crate::{PCMA, PCMU};

fn sdp(m: &str, attrs: &[&str], c: &str) -> Vec<u8> {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 {c}\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\nm=audio 4000 RTP/AVP {m}\r\n"
    );
    for a in attrs {
        s.push_str(&format!("a={a}\r\n"));
    }
    s.into_bytes()
}

#[test]
fn offerers_first_supported_codec_wins() {
    let offer = sdp(
        "9 8 0",
        &["rtpmap:9 G722/8000", "rtpmap:8 PCMA/8000"],
        "10.0.0.1",
    );
    let n = negotiate_offer(&offer, &[PCMU, PCMA]).unwrap();
    assert_eq!((n.codec, n.payload_type), (PCMA, 8));
    assert_eq!(n.remote_rtp, Some("10.0.0.1:4000".parse().unwrap()));
}

#[test]
fn static_payload_types_need_no_rtpmap_and_dynamic_dtmf_is_found() {
    let offer = sdp(
        "0 96",
        &["rtpmap:96 telephone-event/8000", "fmtp:96 0-15"],
        "10.0.0.1",
    );
    let n = negotiate_offer(&offer, &[PCMU, PCMA]).unwrap();
    assert_eq!((n.codec, n.dtmf_payload_type), (PCMU, Some(96)));
}

#[test]
fn hold_with_zero_address_or_direction_attribute() {
    let offer = sdp("0", &["sendonly"], "0.0.0.0");
    let n = negotiate_offer(&offer, &[PCMU]).unwrap();
    assert_eq!(n.remote_rtp, None);
    assert_eq!(n.remote_direction, Direction::SendOnly);
}

#[test]
fn no_common_codec_and_no_audio_and_garbage_are_told_apart() {
    let g729 = sdp("18", &["rtpmap:18 G729/8000"], "10.0.0.1");
    assert_eq!(
        negotiate_offer(&g729, &[PCMU]),
        Err(SdpError::NoCommonCodec)
    );
    let video = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n";
    assert_eq!(negotiate_offer(video, &[PCMU]), Err(SdpError::NoAudio));
    assert!(matches!(
        negotiate_offer(b"hello", &[PCMU]),
        Err(SdpError::Syntax(_))
    ));
}

#[test]
fn answer_mirrors_direction_and_names_chosen_formats_only() {
    let offer = sdp(
        "8 0 101",
        &["rtpmap:101 telephone-event/8000", "recvonly"],
        "10.0.0.1",
    );
    let n = negotiate_offer(&offer, &[PCMU, PCMA]).unwrap();
    let local = LocalMedia::plain("192.0.2.5:20002".parse().unwrap());
    let answer = String::from_utf8(write_answer(&local, &n, 42, 2)).unwrap();
    assert!(answer.contains("c=IN IP4 192.0.2.5\r\n"), "{answer}");
    assert!(
        answer.contains("m=audio 20002 RTP/AVP 8 101\r\n"),
        "{answer}"
    );
    assert!(answer.contains("a=sendonly\r\n"), "{answer}");
    assert!(answer.contains("a=ptime:20\r\n"), "{answer}");
    assert!(
        answer.contains("o=konferenz 42 2 IN IP4 192.0.2.5"),
        "{answer}"
    );
}

#[test]
fn our_offer_round_trips_through_our_answer_reader() {
    let local = LocalMedia::plain("127.0.0.1:20000".parse().unwrap());
    let offer = write_offer(&local, &[PCMU, PCMA], 1, 1);
    let n = read_answer(&offer, &[PCMA]).unwrap();
    assert_eq!(
        (n.codec, n.payload_type, n.dtmf_payload_type),
        (PCMA, 8, Some(OFFERED_DTMF_PT))
    );
}
