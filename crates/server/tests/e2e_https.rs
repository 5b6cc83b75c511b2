//! The window over HTTPS, against the real server with a certificate made by `openssl`:
//! HTTPS answers with HSTS and a `Secure` session cookie, plain HTTP on the redirect port
//! is sent to HTTPS, a foreign `Host` gets 421 and a foreign `Origin` may not log in; a
//! certificate that cannot be read stops the start with a message naming the key.

mod support;

use std::path::Path;
use std::process::Command;

use support::tls::certificate;
use support::{Server, ServerOptions, free_tcp_port};

/// `curl` with the test's CA; returns (status line and headers, body).
fn curl(dir: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "-D", "-", "--cacert"])
        .arg(dir.join("cert.pem"))
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

#[test]
fn the_window_over_https_with_hsts_redirect_and_host_checks() {
    let certs = tempfile::tempdir().unwrap();
    certificate(certs.path());
    let redirect_port = free_tcp_port();
    let server = Server::start_with(&ServerOptions::default().http(&format!(
        "tls_certificate = \"{0}/cert.pem\"\ntls_private_key = \"{0}/key.pem\"\n\
         redirect_listen = \"127.0.0.1:{redirect_port}\"",
        certs.path().display()
    )));
    server.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna",
        "--password",
        "correct horse 1",
        "--organiser",
    ]);
    let https = format!("https://localhost:{}", server.http_port);

    let (head, body) = curl(certs.path(), &[&format!("{https}/healthz")]);
    assert!(head.starts_with("HTTP/"), "{head}");
    assert!(head.contains(" 200"), "{head}");
    assert!(body.contains("\"ok\""), "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );

    let login = r#"{"login":"201","password":"correct horse 1"}"#;
    let (head, _) = curl(
        certs.path(),
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            login,
            &format!("{https}/api/v1/session"),
        ],
    );
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {head}"));
    assert!(cookie.contains("; Secure"), "{cookie}");

    let (head, _) = curl(
        certs.path(),
        &[
            "-H",
            "Content-Type: application/json",
            "-H",
            "Origin: https://evil.example",
            "-d",
            login,
            &format!("{https}/api/v1/session"),
        ],
    );
    assert!(head.contains(" 403"), "a foreign Origin logs in: {head}");

    let (head, _) = curl(
        certs.path(),
        &["-H", "Host: evil.example", &format!("{https}/healthz")],
    );
    assert!(head.contains(" 421"), "a foreign Host is served: {head}");

    let (head, _) = curl(
        certs.path(),
        &[&format!("http://127.0.0.1:{redirect_port}/j/abc?x=1")],
    );
    assert!(head.contains(" 308"), "{head}");
    assert!(
        head.contains(&format!(
            "location: https://127.0.0.1:{}/j/abc?x=1",
            server.http_port
        )) || head.contains(&format!(
            "Location: https://127.0.0.1:{}/j/abc?x=1",
            server.http_port
        )),
        "{head}"
    );

    // Plain HTTP on the HTTPS port gets no page.
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "3",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg(format!("http://127.0.0.1:{}/healthz", server.http_port))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&out.stdout), "200");
}

#[test]
fn an_unreadable_certificate_stops_the_start_and_says_which_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("konferenz.toml");
    let d = dir.path().display().to_string();
    let (sip, http, metrics) = (support::free_udp_port(), free_tcp_port(), free_tcp_port());
    std::fs::write(
        &config,
        format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             tls_certificate = \"{d}/missing.pem\"\ntls_private_key = \"{d}/missing.key\"\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics}\"\n[database]\nurl = \"sqlite://{d}/k.db\"\n"
        ),
    )
    .unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_konferenz"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONFERENZ_") {
            serve.env_remove(key);
        }
    }
    let out = serve
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("http.tls_certificate"), "{stderr}");
}
