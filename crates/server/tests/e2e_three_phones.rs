//! Three phones dial room 800 on the real server; each hears the other two, not itself.
//!
//! Tones 790/1190/1780 Hz: no sum, difference, harmonic or 3rd-order product of any two
//! (after G.711 companding, aliased at 8 kHz) lands within 190 Hz of the third.

mod support;

use std::time::Duration;

use support::conference::talk_and_check_during;
use support::{Codec, Server, poll_until};

#[test]
fn three_pcmu_phones_hear_each_other_not_themselves() {
    let server = Server::start();
    let phones = [
        (790.0, Codec::Pcmu),
        (1190.0, Codec::Pcmu),
        (1780.0, Codec::Pcmu),
    ];
    talk_and_check_during(&server, &phones, Duration::from_secs(6), || {
        // GET /metrics while the call is up (packet counters are flushed once a second).
        let up = poll_until(Duration::from_secs(5), || {
            let participants = server.metric("konferenz_participants")?;
            let received = server.metric("konferenz_rtp_packets_received_total")?;
            (participants == 3.0 && received > 0.0).then_some(())
        });
        let text = server.metrics();
        assert!(up.is_some(), "metrics while 3 phones talk:\n{text}");
        assert_eq!(server.metric("konferenz_rooms_active"), Some(1.0), "{text}");
        let invite_ok =
            r#"konferenz_sip_transactions_total{direction="in",method="INVITE",status="200"}"#;
        assert_eq!(server.metric(invite_ok), Some(3.0), "{text}");
        assert_eq!(
            server.metric(r#"konferenz_calls_total{direction="in"}"#),
            Some(3.0)
        );
    });
}
