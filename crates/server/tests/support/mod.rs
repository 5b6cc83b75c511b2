//! End-to-end test harness: free ports, the real `konferenz` server, baresip phones, audio checks.
//!
//! Used as `mod support;` from `tests/e2e_*.rs`. No async runtime: std::process + std::net.
//! Every wait has a deadline; nothing synchronises with a bare sleep.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod audio;
pub mod browser;
pub mod conference;
pub mod ctrl;
pub mod kamailio;
pub mod phone;
pub mod phone_config;
pub mod pin;
pub mod pjsua;
pub mod ports;
pub mod server;
pub mod smtp;
pub mod tls;

pub use audio::{goertzel_power, read_wav, tone_fraction, tone_present, tone_wav};
pub use phone::Phone;
pub use phone_config::{Codec, PhoneConfig};
pub use ports::{free_port_pair, free_port_range, free_tcp_port, free_udp_port};
pub use server::{Server, ServerOptions};

use std::path::Path;
use std::time::{Duration, Instant};

/// Polls `f` every 50 ms until it returns `Some`, or returns `None` after `timeout`.
pub fn poll_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `max_lines` lines of a (log) file, or a note that it could not be read.
pub fn tail(path: &Path, max_lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(max_lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// True when the temp dirs of this run should be kept for inspection (`KONFERENZ_E2E_KEEP=1`).
pub fn keep_dirs() -> bool {
    std::env::var_os("KONFERENZ_E2E_KEEP").is_some_and(|v| v != "0")
}
