//! SIP over TLS and SRTP (SDES keys) with real baresip phones: a phone dialling in over
//! TLS with mandatory SRTP (RTP/SAVP) and a plain UDP phone hear each other; a phone
//! registered over TLS with best-effort SRTP is invited by the server and talks encrypted;
//! `sip.srtp = "required"` turns away a plain call. No SDES key ever reaches the log.

mod support;

use std::path::Path;
use std::time::Duration;

use support::audio::{read_wav, tone_present};
use support::tls::certificate;
use support::{Phone, PhoneConfig, Server, ServerOptions, free_tcp_port, poll_until};

const SETUP: Duration = Duration::from_secs(10);

/// A server with SIP over TLS on its own port; returns it and that port.
fn tls_server(certs: &Path, extra: &str) -> (Server, u16) {
    let tls_port = free_tcp_port();
    let server = Server::start_with(&ServerOptions::default().room("800").sip(&format!(
        "tls_listen = \"127.0.0.1:{tls_port}\"\n\
         tls_certificate = \"{0}/cert.pem\"\ntls_private_key = \"{0}/key.pem\"\n{extra}",
        certs.display()
    )));
    (server, tls_port)
}

fn hears(phone: &Phone, hz: f64) -> bool {
    let (rate, heard) = read_wav(&phone.heard_wav()).unwrap();
    tone_present(&heard, rate, hz)
}

fn no_keys_logged(server: &Server) {
    let log = server.log_text();
    assert!(!log.contains("inline:"), "an SDES key in the server log");
}

#[test]
fn an_srtp_phone_over_tls_and_a_plain_phone_hear_each_other() {
    let certs = tempfile::tempdir().unwrap();
    certificate(certs.path());
    let (server, tls_port) = tls_server(certs.path(), "");
    let ca = certs.path().join("cert.pem");

    let mut anna = Phone::start(
        PhoneConfig::new("anna", 790.0)
            .tls(&ca)
            .mediaenc("srtp-mand"),
    );
    anna.dial(&format!("sip:800@127.0.0.1:{tls_port};transport=tls"));
    anna.wait_established(SETUP);
    let mut bert = Phone::start(PhoneConfig::new("bert", 1190.0));
    bert.dial(&server.uri("800"));
    bert.wait_established(SETUP);
    poll_until(SETUP, || {
        (server.metric("konferenz_participants")? >= 2.0).then_some(())
    })
    .expect("both joined");
    std::thread::sleep(Duration::from_secs(3)); // talk time, not synchronisation
    anna.hangup();
    bert.hangup();

    assert!(hears(&anna, 1190.0), "anna (SRTP) hears bert");
    assert!(hears(&bert, 790.0), "bert hears anna (SRTP)");
    let log = server.log_text();
    assert!(
        log.contains("SIP over TLS listening"),
        "{}",
        server.log_tail(30)
    );
    assert!(
        log.contains("media encrypted (SRTP AES_CM_128_HMAC_SHA1_80)"),
        "{}",
        server.log_tail(40)
    );
    no_keys_logged(&server);
    anna.quit();
    bert.quit();
}

#[test]
fn a_phone_registered_over_tls_is_invited_with_srtp() {
    let certs = tempfile::tempdir().unwrap();
    certificate(certs.path());
    let (server, tls_port) = tls_server(certs.path(), "");
    let ca = certs.path().join("cert.pem");
    let out = server.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna",
        "--password",
        "secret-201",
    ]);
    assert!(out.starts_with("user 201 added"), "{out}");
    let mut anna = Phone::start(
        PhoneConfig::new("201", 1190.0)
            .auto_answer()
            .tls(&ca)
            .mediaenc("srtp")
            .register_at(tls_port, "secret-201"),
    );
    let mut list = String::new();
    poll_until(SETUP, || {
        list = server.cli(&["user", "list"]);
        list.contains("transport=tls").then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "201 never registered over TLS: {list}\n{}",
            anna.log_tail(30)
        )
    });

    let mut caller = Phone::start(PhoneConfig::new("dial", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);
    let out = server.cli(&["invite", "--room", "800", "201"]);
    assert!(out.starts_with("calling 201 into room 800"), "{out}");
    anna.wait_established(SETUP);
    std::thread::sleep(Duration::from_secs(3)); // talk time, not synchronisation
    anna.hangup();
    caller.hangup();

    assert!(hears(&anna, 790.0), "anna (TLS, SRTP) hears the caller");
    assert!(hears(&caller, 1190.0), "the caller hears anna");
    assert!(
        server
            .log_text()
            .contains("media encrypted (SRTP AES_CM_128_HMAC_SHA1_80)"),
        "{}",
        server.log_tail(40)
    );
    no_keys_logged(&server);
    caller.quit();
    anna.quit();
}

#[test]
fn required_srtp_turns_away_a_plain_call() {
    let certs = tempfile::tempdir().unwrap();
    certificate(certs.path());
    let (server, tls_port) = tls_server(certs.path(), "srtp = \"required\"");
    let mut plain = Phone::start(PhoneConfig::new("plain", 790.0));
    plain.dial(&server.uri("800"));
    let closed = plain.wait_closed(SETUP);
    assert!(
        closed.to_string().contains("488"),
        "refused with 488: {closed}"
    );
    // Over TLS with SRTP it gets in.
    let ca = certs.path().join("cert.pem");
    let mut secure = Phone::start(
        PhoneConfig::new("secure", 790.0)
            .tls(&ca)
            .mediaenc("srtp-mand"),
    );
    secure.dial(&format!("sip:800@127.0.0.1:{tls_port};transport=tls"));
    secure.wait_established(SETUP);
    secure.hangup();
    plain.quit();
    secure.quit();
}
