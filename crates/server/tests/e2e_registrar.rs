//! The built-in registrar with real phones: a baresip phone of a user created with
//! `konferenz user add` registers with digest authentication, `konferenz user list` shows
//! the registration, and `konferenz invite 201` reaches the phone at its binding — with
//! no trunk configured at all — into a room where it hears a dial-in caller. A phone with
//! a wrong password is refused; the binding survives a server restart.

mod support;

use std::time::Duration;

use support::audio::{read_wav, tone_present};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(10);

fn wait_registered(server: &Server, number: &str) -> String {
    let mut last = String::new();
    let found = poll_until(SETUP, || {
        last = server.cli(&["user", "list"]);
        last.lines()
            .any(|l| l.starts_with(number) && l.contains("sip:"))
            .then_some(())
    });
    assert!(
        found.is_some(),
        "{number} never registered; user list: {last}"
    );
    last
}

#[test]
fn a_registered_phone_is_invited_by_its_internal_number() {
    let server = Server::start_with(&ServerOptions::default().room("800"));
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
    assert_eq!(out, "user 201 added (realm konferenz)\n");
    assert!(
        !std::fs::read_to_string(server.dir().join("konferenz.db"))
            .unwrap_or_default()
            .contains("secret-201")
    );

    let mut anna = Phone::start(
        PhoneConfig::new("201", 1190.0)
            .auto_answer()
            .register_at(server.sip_port, "secret-201"),
    );
    // Registered with digest auth (the phone's reginfo says so, and so does `user list`).
    let list = wait_registered(&server, "201");
    assert!(list.contains("Anna"), "{list}");
    let reginfo = anna.command("reginfo", "");
    assert!(
        reginfo.contains("OK ") && !reginfo.contains("ERR"),
        "{reginfo}"
    );

    let mut caller = Phone::start(PhoneConfig::new("dial", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);
    let out = server.cli(&["invite", "--room", "800", "201"]);
    assert!(out.starts_with("calling 201 into room 800"), "{out}");
    anna.wait_established(SETUP);
    std::thread::sleep(Duration::from_secs(3)); // talk time, not synchronisation
    anna.hangup();
    caller.hangup();

    let (rate, heard_by_anna) = read_wav(&anna.heard_wav()).unwrap();
    assert!(
        tone_present(&heard_by_anna, rate, 790.0),
        "Anna hears the caller"
    );
    let (_, heard_by_caller) = read_wav(&caller.heard_wav()).unwrap();
    assert!(
        tone_present(&heard_by_caller, rate, 1190.0),
        "the caller hears Anna"
    );
    assert!(
        !server.log_text().contains("secret-201"),
        "no password in the log"
    );
    caller.quit();
    anna.quit();
}

#[test]
fn a_wrong_password_is_refused_and_a_binding_survives_a_restart() {
    let mut server = Server::start_with(&ServerOptions::default().room("800"));
    server.cli(&[
        "user",
        "add",
        "--number",
        "202",
        "--password",
        "right-password",
    ]);
    let mut intruder =
        Phone::start(PhoneConfig::new("202", 700.0).register_at(server.sip_port, "wrong-password"));
    assert!(server.wait_log("REGISTER with a wrong password refused", SETUP));
    intruder.quit();
    let list = server.cli(&["user", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("202") && l.trim_end().ends_with('-')),
        "{list}"
    );

    let mut phone = Phone::start(
        PhoneConfig::new("202", 1190.0)
            .auto_answer()
            .register_at(server.sip_port, "right-password"),
    );
    wait_registered(&server, "202");

    // A restart keeps the binding: the phone is reachable before it registers again.
    server.restart();
    let out = server.cli(&["invite", "--room", "800", "202"]);
    assert!(out.starts_with("calling 202 into room 800"), "{out}");
    phone.wait_established(SETUP);
    let found = poll_until(SETUP, || {
        server
            .cli(&["participants", "--room", "800"])
            .contains("202  connected")
            .then_some(())
    });
    assert!(found.is_some());
    phone.quit();
}

/// One REGISTER from `socket` for user 202 (with `authorization` if given); the status
/// line and the nonce of a 401.
fn register_once(
    socket: &std::net::UdpSocket,
    server: &Server,
    cseq: u32,
    authorization: Option<&str>,
) -> (String, Option<String>) {
    let local = socket.local_addr().unwrap();
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let text = format!(
        "REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bKguess{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:202@127.0.0.1>;tag=guess\r\n\
         To: <sip:202@127.0.0.1>\r\n\
         Call-ID: guess@127.0.0.1\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:202@{local}>\r\n\
         Expires: 600\r\n{auth}Content-Length: 0\r\n\r\n",
        port = server.sip_port
    );
    socket
        .send_to(text.as_bytes(), ("127.0.0.1", server.sip_port))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("an answer to REGISTER");
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let nonce = answer
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned);
    (status, nonce)
}

#[test]
fn password_guessing_by_register_is_locked_out() {
    let server = Server::start_with(&ServerOptions::default().room("800"));
    server.cli(&[
        "user",
        "add",
        "--number",
        "202",
        "--password",
        "right-password",
    ]);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(SETUP)).unwrap();
    let mut cseq = 1;
    // The default limit: six wrong passwords from one address for one account.
    for attempt in 1..=6 {
        let (status, nonce) = register_once(&socket, &server, cseq, None);
        cseq += 1;
        assert!(status.contains(" 401 "), "{status}");
        let guess = format!(
            "Digest username=\"202\", realm=\"konferenz\", nonce=\"{}\", \
             uri=\"sip:127.0.0.1:{}\", response=\"{:032x}\", qop=auth, nc=00000001, \
             cnonce=\"c{attempt}\", algorithm=MD5",
            nonce.expect("a nonce"),
            server.sip_port,
            attempt
        );
        let (status, _) = register_once(&socket, &server, cseq, Some(&guess));
        cseq += 1;
        assert!(
            status.contains(" 403 "),
            "wrong password {attempt}: {status}"
        );
    }
    assert!(server.wait_log("too many failed logins: registrations locked", SETUP));
    // Locked: the next attempt is refused before any check, right password or not.
    let (_, nonce) = register_once(&socket, &server, cseq, None);
    let attempt = format!(
        "Digest username=\"202\", realm=\"konferenz\", nonce=\"{}\", uri=\"sip:127.0.0.1:{}\", \
         response=\"{:032x}\", qop=auth, nc=00000001, cnonce=\"c7\", algorithm=MD5",
        nonce.expect("a nonce"),
        server.sip_port,
        7
    );
    let (status, _) = register_once(&socket, &server, cseq + 1, Some(&attempt));
    assert!(status.contains(" 403 "), "{status}");
    assert!(server.wait_log("REGISTER refused: too many failed logins", SETUP));
    assert!(!server.log_text().contains("right-password"));
}
