//! Test certificates: a self-signed P-256 certificate for localhost and 127.0.0.1, made by
//! `openssl` (Debian package openssl), for HTTPS and SIP over TLS.

use std::path::Path;
use std::process::Command;

/// Writes `cert.pem` and `key.pem` into `dir`.
pub fn certificate(dir: &Path) {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl (Debian package openssl)");
    assert!(status.status.success(), "{status:?}");
}
