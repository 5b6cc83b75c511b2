//! Kamailio (Debian `kamailio`) as a stand-in PBX: registrar and record-routing proxy with
//! digest authentication, on a free loopback UDP port; one process per test.
//!
//! The config is `kamailio.cfg` next to this file, a template: the harness fills in the port
//! and the subscribers (user → password, kept in an in-memory htable; no database) and
//! writes it with Kamailio's log (`kamailio.log`) into a temp dir, kept like the server's
//! when the test fails or `KONFERENZ_E2E_KEEP=1`. The realm and the local domain alias are
//! `pbx.test` (see [`DOMAIN`]).

use super::ports::free_udp_port;
use super::server::{sip_options_answered, stop_child};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TEMPLATE: &str = include_str!("kamailio.cfg");

/// The realm of the challenges and a domain Kamailio treats as its own.
pub const DOMAIN: &str = "pbx.test";

/// How long Kamailio may take to answer its first OPTIONS.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Kamailio {
    pub port: u16,
    dir: Option<tempfile::TempDir>,
    child: Child,
}

/// The config text for `port` and `users` (`(name, password)`).
pub fn config_text(port: u16, users: &[(&str, &str)]) -> String {
    let users: String = users
        .iter()
        .map(|(name, password)| {
            assert!(
                !format!("{name}{password}").contains(['"', '\\', '\n']),
                "plain user names and passwords only"
            );
            format!("\t$sht(users=>{name}) = \"{password}\";\n")
        })
        .collect();
    TEMPLATE
        .replace(
            "listen=udp:127.0.0.1:@PORT@",
            &format!("listen=udp:127.0.0.1:{port}"),
        )
        .replace("@USERS@\n", &users)
}

impl Kamailio {
    /// Writes the config, starts `kamailio -DD -E` and waits until it answers SIP OPTIONS.
    pub fn start(users: &[(&str, &str)]) -> Kamailio {
        let dir = tempfile::Builder::new()
            .prefix("kamailio-e2e-")
            .tempdir()
            .expect("temp dir");
        let port = free_udp_port();
        let cfg = dir.path().join("kamailio.cfg");
        std::fs::write(&cfg, config_text(port, users)).expect("write kamailio.cfg");
        let log = File::create(dir.path().join("kamailio.log")).expect("create kamailio log");
        // -DD: no fork into the background; -E: log to stderr; small memory pools (the
        // defaults reserve 64 MB shared memory); -Y: a runtime dir of its own.
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(&cfg)
            .args(["-DD", "-E", "-m", "32", "-M", "4", "-Y"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn kamailio (is the Debian package `kamailio` installed?)");
        let mut kamailio = Kamailio {
            port,
            dir: Some(dir),
            child,
        };
        kamailio.wait_ready();
        kamailio
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("kamailio exited early ({status})\n{}", self.log_tail(60));
            }
            // Any answer will do (a 407 challenge: OPTIONS needs proxy authentication).
            if sip_options_answered(self.port, Duration::from_millis(300)) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "kamailio did not answer SIP OPTIONS within {START_TIMEOUT:?}\n{}",
                    self.log_tail(60)
                );
            }
        }
    }

    /// `127.0.0.1:<port>`, e.g. for `trunk.outbound_proxy`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("dir lives as long as kamailio")
            .path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir().join("kamailio.log")
    }

    /// The whole log so far (lossy UTF-8; empty if unreadable).
    pub fn log_text(&self) -> String {
        std::fs::read(self.log_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits until one log line contains every one of `needles`; that line, or `None`.
    pub fn wait_log_line(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        super::poll_until(timeout, || {
            self.log_text()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
                .map(str::to_owned)
        })
    }

    /// Waits for the registrar's `REGISTERED <user> contact …` line (see kamailio.cfg).
    pub fn wait_registered(&self, user: &str, timeout: Duration) -> Option<String> {
        self.wait_log_line(&[&format!("REGISTERED {user} contact ")], timeout)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        format!(
            "--- kamailio log tail ---\n{}",
            super::tail(&self.log_path(), lines)
        )
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(10));
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(60));
        }
        let keep = super::keep_dirs() || std::thread::panicking();
        if keep && let Some(d) = self.dir.take() {
            eprintln!("kamailio files kept in {}", d.keep().display());
        }
    }
}

#[test]
fn the_template_gets_port_and_users() {
    let text = config_text(20_000, &[("201", "secret201"), ("konferenz", "trunkpass")]);
    assert!(text.contains("listen=udp:127.0.0.1:20000\n"));
    assert!(text.contains("\t$sht(users=>konferenz) = \"trunkpass\";\n"));
    assert!(!text.contains("@PORT@") && !text.contains("@USERS@"));
}
