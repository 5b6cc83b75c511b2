//! Digest server tests (the clock is read here, never in the crate): answers computed by
//! sipx-sip's client code (an independent implementation) are accepted; wrong passwords,
//! foreign nonces, replays and old nonces are not.

use std::time::{Duration, Instant};

use sipx_sip::auth::{Challenge, Credentials, respond};

use konferenz_sip::digest::{Answer, Check, DigestAlgorithm, DigestServer, Ha1};

fn server(t0: Instant) -> DigestServer {
    DigestServer::new("konferenz", "s3cret", t0, Duration::from_secs(300))
        .with_algorithms(&[DigestAlgorithm::Sha256, DigestAlgorithm::Md5])
}

fn client_answer(challenge: &str, user: &str, password: &str, uri: &str) -> Answer {
    let challenge = Challenge::parse(challenge.as_bytes(), false).expect("challenge parses");
    let value = respond(
        &challenge,
        &Credentials::new(user, password),
        "REGISTER",
        uri,
        1,
        "0a4f113b",
    );
    Answer::parse(&value).expect("answer parses")
}

#[test]
fn a_right_password_is_valid_for_both_algorithms() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    for i in 0..2 {
        // A fresh nonce per algorithm: the same nonce and count twice would be a replay.
        let now = t0 + Duration::from_secs(i);
        let challenge = s.challenges(now, false)[i as usize].clone();
        let answer = client_answer(&challenge, "201", "pw201", "sip:127.0.0.1");
        assert_eq!(answer.username(), "201");
        assert_eq!(
            s.check(now, &answer, "REGISTER", &ha1),
            Check::Valid,
            "{challenge}"
        );
    }
}

#[test]
fn a_wrong_password_or_method_is_invalid() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let challenge = &s.challenges(t0, false)[0];
    let wrong = client_answer(challenge, "201", "guess", "sip:127.0.0.1");
    assert_eq!(s.check(t0, &wrong, "REGISTER", &ha1), Check::Invalid);
    let right = client_answer(challenge, "201", "pw201", "sip:127.0.0.1");
    assert_eq!(s.check(t0, &right, "INVITE", &ha1), Check::Invalid);
}

#[test]
fn a_nonce_from_another_server_or_run_is_unknown() {
    let t0 = Instant::now();
    let other = DigestServer::new("konferenz", "other", t0, Duration::from_secs(300));
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let challenge = &other.challenges(t0, false)[0];
    let answer = client_answer(challenge, "201", "pw201", "sip:127.0.0.1");
    assert_eq!(
        server(t0).check(t0, &answer, "REGISTER", &ha1),
        Check::UnknownNonce
    );
}

#[test]
fn an_old_nonce_is_stale_not_invalid() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let challenge = &s.challenges(t0, false)[1];
    assert!(challenge.contains("MD5"));
    let answer = client_answer(challenge, "201", "pw201", "sip:127.0.0.1");
    let later = t0 + Duration::from_secs(301);
    assert_eq!(s.check(later, &answer, "REGISTER", &ha1), Check::Stale);
    assert!(s.challenges(later, true)[0].contains("stale=true"));
}

#[test]
fn garbage_credentials_do_not_parse() {
    assert!(Answer::parse("Basic dXNlcjpwYXNz").is_none());
    assert!(Answer::parse("Digest username=\"201\"").is_none());
    assert!(Answer::parse("").is_none());
    // Found by fuzzing: multi-byte characters made the header parser panic.
    assert!(
        Answer::parse(
            "Digest username=\"201\", realm=\"f\", nonce=algorit=SHA-256op,\u{61e}que=\"o\""
        )
        .is_none()
    );
}

#[test]
fn only_offered_algorithms_are_accepted() {
    let t0 = Instant::now();
    let mut md5_only = DigestServer::new("konferenz", "s3cret", t0, Duration::from_secs(300));
    let challenges = md5_only.challenges(t0, false);
    assert_eq!(challenges.len(), 1);
    assert!(challenges[0].contains("algorithm=MD5"));
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let sha = &server(t0).challenges(t0, false)[0];
    assert!(sha.contains("SHA-256"));
    let answer = client_answer(sha, "201", "pw201", "sip:127.0.0.1");
    assert_eq!(
        md5_only.check(t0, &answer, "REGISTER", &ha1),
        Check::Invalid
    );
    assert_eq!(
        server(t0).check(t0, &answer, "REGISTER", &ha1),
        Check::Valid
    );
}

#[test]
fn a_replayed_answer_is_invalid_and_a_higher_count_is_fine() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let challenge = &s.challenges(t0, false)[1];
    let answer = client_answer(challenge, "201", "pw201", "sip:127.0.0.1");
    assert_eq!(s.check(t0, &answer, "REGISTER", &ha1), Check::Valid);
    assert_eq!(
        s.check(t0, &answer, "REGISTER", &ha1),
        Check::Invalid,
        "replay"
    );
    let parsed = sipx_sip::auth::Challenge::parse(challenge.as_bytes(), false).unwrap();
    let value = respond(
        &parsed,
        &Credentials::new("201", "pw201"),
        "REGISTER",
        "sip:127.0.0.1",
        2,
        "c2",
    );
    let next = Answer::parse(&value).unwrap();
    assert_eq!(
        s.check(t0, &next, "REGISTER", &ha1),
        Check::Valid,
        "nc 2 after nc 1"
    );
}

#[test]
fn an_answer_without_qop_is_invalid() {
    let t0 = Instant::now();
    let mut s = server(t0);
    let ha1 = Ha1::compute("201", "konferenz", "pw201");
    let challenge = s.challenges(t0, false)[1].replace(", qop=\"auth\"", "");
    let answer = client_answer(&challenge, "201", "pw201", "sip:127.0.0.1");
    assert_eq!(s.check(t0, &answer, "REGISTER", &ha1), Check::Invalid);
}
