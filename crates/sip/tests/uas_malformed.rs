//! Bad and odd input: nothing panics, what can be answered gets 400/405/416/420/501/505,
//! what cannot is dropped and counted. Also runs the fuzz corpus (with RFC 4475 torture messages).

mod support;

use support::{Harness, Req};

#[test]
fn garbage_is_dropped_and_counted() {
    let mut h = Harness::new();
    h.udp("\u{1}\u{2}garbage that is not SIP at all");
    h.endpoint
        .handle_datagram(h.now, support::PHONE, &[0xff; 300]);
    h.drain();
    assert!(h.sent.is_empty() && h.events.is_empty());
    assert_eq!(h.endpoint.stats().unparseable, 2);
}

#[test]
fn keepalive_crlf_is_ignored() {
    let mut h = Harness::new();
    h.udp("\r\n\r\n");
    assert!(h.sent.is_empty());
    assert_eq!(h.endpoint.stats().unparseable, 0);
}

#[test]
fn missing_call_id_gets_400() {
    let mut h = Harness::new();
    let text = Req::default()
        .text()
        .replace("Call-ID: call-1@phone\r\n", "");
    h.udp(&text);
    assert_eq!(h.statuses(), vec![400]);
    assert!(h.events.is_empty());
}

#[test]
fn cseq_method_mismatch_gets_400() {
    let mut h = Harness::new();
    let text = Req::default()
        .text()
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    h.udp(&text);
    assert_eq!(h.statuses(), vec![400]);
}

#[test]
fn unknown_sip_version_gets_505() {
    let mut h = Harness::new();
    let text = Req::default()
        .text()
        .replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1);
    h.udp(&text);
    assert_eq!(h.statuses(), vec![505]);
}

#[test]
fn options_is_answered_with_what_we_allow() {
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "OPTIONS",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![200]);
    let (_, r) = h.responses().pop().unwrap();
    let allow = r.headers.value(&sipx_sip::HeaderName::Allow).unwrap();
    assert!(String::from_utf8_lossy(&allow).contains("INVITE, ACK, BYE, CANCEL"));
}

/// RFC 3261 §8.2.1 and §21.5.2: a method we do not recognise gets 501, one we know but do
/// not take 405; both list what we take in Allow.
#[test]
fn unknown_methods_get_501_known_ones_we_do_not_take_405_with_allow() {
    for (method, status) in [("FOOBAR", 501), ("SUBSCRIBE", 405), ("MESSAGE", 405)] {
        let mut h = Harness::new();
        h.udp(
            &Req {
                method,
                branch: "z9hG4bK-2",
                ..Default::default()
            }
            .text(),
        );
        assert_eq!(h.statuses(), vec![status], "{method}");
        let (_, r) = h.responses().pop().unwrap();
        let allow = r.headers.value(&sipx_sip::HeaderName::Allow).unwrap();
        assert!(
            String::from_utf8_lossy(&allow).contains("REGISTER"),
            "{method}"
        );
        assert!(h.events.is_empty());
    }
}

/// RFC 3261 §8.2.2.1: only sip and sips Request-URIs are served.
#[test]
fn unsupported_request_uri_schemes_get_416() {
    for uri in ["tel:+4930123", "mailto:a@example.com"] {
        let mut h = Harness::new();
        h.udp(
            &Req {
                method: "OPTIONS",
                uri,
                ..Default::default()
            }
            .text(),
        );
        assert_eq!(h.statuses(), vec![416], "{uri}");
    }
}

/// RFC 3261 §8.2.2.3: an extension required of us that we lack gets 420 naming it; CANCEL's
/// Require is ignored.
#[test]
fn required_extensions_we_lack_get_420_naming_them() {
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "OPTIONS",
            extra: "Require: foo, bar\r\nRequire: baz\r\nProxy-Require: qux\r\n",
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![420]);
    let (_, r) = h.responses().pop().unwrap();
    let unsupported = r.headers.value(&sipx_sip::HeaderName::Unsupported).unwrap();
    assert_eq!(&*unsupported, b"foo, bar, baz");
}

/// Datagrams sipx-sip refuses are answered 400 when they are requests with a Via to answer
/// to (RFC 4475 §3.1.2); the 400 copies Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2).
#[test]
fn unparseable_requests_with_a_via_get_400() {
    let good = Req {
        method: "OPTIONS",
        ..Default::default()
    }
    .text();
    for bad in [
        good.replace("Content-Length: 0", "Content-Length: 99"),
        good.replace("Content-Length: 0", "Content-Length: -1"),
        good.replacen(
            "OPTIONS sip:800@127.0.0.1:5060",
            "OPTIONS <sip:800@127.0.0.1:5060>",
            1,
        ),
        good.replacen("SIP/2.0\r\n", "SIP/2.0 \r\n", 1),
    ] {
        let mut h = Harness::new();
        h.udp(&bad);
        assert_eq!(h.statuses(), vec![400], "{bad}");
        let (_, r) = h.responses().pop().unwrap();
        for name in [
            sipx_sip::HeaderName::Via,
            sipx_sip::HeaderName::From,
            sipx_sip::HeaderName::To,
            sipx_sip::HeaderName::CallId,
            sipx_sip::HeaderName::CSeq,
        ] {
            assert!(
                r.headers.value(&name).is_some(),
                "{name:?} in answer to {bad}"
            );
        }
        assert_eq!(
            &*r.headers.value(&sipx_sip::HeaderName::CSeq).unwrap(),
            b"1 OPTIONS"
        );
        assert_eq!(h.endpoint.stats().unparseable, 1);
        assert!(h.events.is_empty());
    }
    // Never an answer to an ACK, nor to a request without a Via.
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "ACK",
            ..Default::default()
        }
        .text()
        .replace("Content-Length: 0", "Content-Length: 99"),
    );
    h.udp(
        &good
            .replace("Content-Length: 0", "Content-Length: 99")
            .replace(
                "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n",
                "",
            ),
    );
    assert!(h.sent.is_empty());
    assert_eq!(h.endpoint.stats().unparseable, 2);
}

#[test]
fn info_outside_a_dialog_gets_481() {
    let mut h = Harness::new();
    h.udp(
        &Req {
            method: "INFO",
            to_tag: Some("x"),
            ..Default::default()
        }
        .text(),
    );
    assert_eq!(h.statuses(), vec![481]);
}

#[test]
fn stray_response_and_ack_are_ignored() {
    let mut h = Harness::new();
    h.udp("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnope\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
    h.udp(
        &Req {
            method: "ACK",
            to_tag: Some("unknown"),
            ..Default::default()
        }
        .text(),
    );
    assert!(h.sent.is_empty() && h.events.is_empty());
}

/// Every seed of the SIP fuzz target, including re-typed RFC 4475 torture messages, goes
/// through the endpoint without a panic and without leaving transactions behind for ever.
#[test]
fn fuzz_corpus_runs_clean() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sip_message");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus folder") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let mut h = Harness::new();
        konferenz_sip::fuzz_datagram(&bytes, h.now);
        h.endpoint.handle_datagram(h.now, support::PHONE, &bytes);
        h.drain();
        h.advance(std::time::Duration::from_secs(60));
        assert_eq!(h.endpoint.transaction_count().0, 0);
        count += 1;
    }
    assert!(count >= 10, "corpus has {count} files");
}
