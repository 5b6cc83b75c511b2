//! Overload: SIPp floods the server with new calls while two phones talk in room 800.
//! Once SIP datagrams queue up, new INVITEs are answered `503` with `Retry-After`
//! (`konferenz_sip_rejected_overload_total` counts them), and the phones in the conference
//! keep hearing each other without a gap. With per-source admission on (the default), the
//! same flood from one address is refused early — 503, then no answer at all — and the
//! guard never needs to trip.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::conference::talk_and_check_during;
use support::{Codec, Server, ServerOptions, free_udp_port};

#[test]
fn a_flood_of_invites_gets_503_and_the_conference_keeps_its_audio() {
    // A low mark (32 KiB of queued datagrams) so the flood trips it on any machine.
    let server = Server::start_with(
        &ServerOptions::default()
            .room("800")
            .sip("overload_queue_kib = 32")
            // The flood comes from one address: here the queue guard is under test.
            .config("[limits]\ninvites_per_source_per_sec = 0"),
    );
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/sipp/uac_room.xml");
    let phones = [(790.0, Codec::Pcmu), (1190.0, Codec::Pcmu)];
    talk_and_check_during(&server, &phones, Duration::from_secs(8), || {
        let out = Command::new("sipp")
            .args(["-sf", scenario, "-s", "801"])
            .arg(format!("127.0.0.1:{}", server.sip_port))
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &free_udp_port().to_string()])
            .args(["-mp", &free_udp_port().to_string()])
            .args([
                "-r", "5000", "-rp", "1000", "-m", "20000", "-d", "100", "-l", "20000",
            ])
            .args(["-nostdin", "-timeout", "20s", "-timeout_error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run sipp (Debian package sip-tester)");
        eprintln!("sipp ended: {out}");
        let rejected = server
            .metric("konferenz_sip_rejected_overload_total")
            .unwrap_or(0.0);
        eprintln!("INVITEs answered 503 for overload: {rejected}");
        assert!(
            rejected > 0.0,
            "the flood never tripped the overload guard\n{}",
            server.metrics()
        );
        assert!(
            server.wait_log("SIP task behind", Duration::from_secs(1)),
            "overload logged"
        );
    });
    assert!(
        server.wait_log("SIP task caught up", Duration::from_secs(20)),
        "the guard lets calls in again after the flood\n{}",
        server.log_tail(30)
    );
}

#[test]
fn a_flood_from_one_address_is_refused_early_and_then_ignored() {
    let server = Server::start_with(&ServerOptions::default().room("800").config(
        "[limits]\ninvites_per_source_per_sec = 50\ninvites_burst = 100\n\
         invites_refusals_before_ignore = 200\ninvites_ignore_secs = 60",
    ));
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/sipp/uac_room.xml");
    let phones = [(790.0, Codec::Pcmu), (1190.0, Codec::Pcmu)];
    talk_and_check_during(&server, &phones, Duration::from_secs(8), || {
        let out = Command::new("sipp")
            .args(["-sf", scenario, "-s", "801"])
            .arg(format!("127.0.0.1:{}", server.sip_port))
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &free_udp_port().to_string()])
            .args(["-mp", &free_udp_port().to_string()])
            .args(["-r", "2000", "-m", "6000", "-d", "100", "-l", "20000"])
            .args(["-nostdin", "-timeout", "10s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run sipp (Debian package sip-tester)");
        eprintln!("sipp ended: {out}");
        let refused = server
            .metric("konferenz_sip_rejected_rate_total")
            .unwrap_or(0.0);
        let ignored = server
            .metric("konferenz_sip_ignored_rate_total")
            .unwrap_or(0.0);
        let calls = server.metric("konferenz_calls_total").unwrap_or(-1.0);
        eprintln!("flood: {refused} refused with 503, {ignored} ignored, calls {calls}");
        assert!(
            (200.0..400.0).contains(&refused),
            "503 until the source counts as a repeat offender: {refused}\n{}",
            server.metrics()
        );
        assert!(ignored > 1000.0, "then silence: {ignored}");
        assert_eq!(
            server
                .metric("konferenz_sip_rejected_overload_total")
                .unwrap_or(0.0),
            0.0,
            "refused before the queue guard had to trip"
        );
    });
}
