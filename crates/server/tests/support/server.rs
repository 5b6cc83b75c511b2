//! The real `konferenz` binary on loopback: temp config + database, started and stopped per test.

use super::ports::{free_port_range, free_tcp_port, free_udp_port};
use std::fs::File;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    pub sip_port: u16,
    pub http_port: u16,
    /// `GET /metrics` is served here (`[metrics] listen`).
    pub metrics_port: u16,
    pub rtp_ports: (u16, u16),
    pub config: PathBuf,
    dir: Option<tempfile::TempDir>,
    child: Child,
}

/// How long the server may take to answer its first OPTIONS.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_konferenz")
}

/// `konferenz` without the test harness's own `KONFERENZ_E2E_*` variables in its environment:
/// the server reads every `KONFERENZ_*` variable as config and rejects unknown keys.
fn konferenz_command() -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KONFERENZ_E2E_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// SIGTERM, wait up to `grace`, then SIGKILL and reap. No-op if it already exited.
pub fn stop_child(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // SAFETY: plain kill(2) on our own child's pid, which has not been reaped yet.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let exited = super::poll_until(grace, || child.try_wait().ok().flatten());
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Sends a SIP OPTIONS to `127.0.0.1:port`; true if any SIP response comes back in `wait`.
pub fn sip_options_answered(port: u16, wait: Duration) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let local = sock.local_addr().map(|a| a.port()).unwrap_or(0);
    static N: AtomicU64 = AtomicU64::new(1);
    let branch = format!(
        "z9hG4bK-probe-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let msg = format!(
        "OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         To: <sip:127.0.0.1:{port}>\r\n\
         From: <sip:probe@127.0.0.1:{local}>;tag=probe{local}\r\n\
         Call-ID: probe-{local}-{branch}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n"
    );
    if sock.send_to(msg.as_bytes(), ("127.0.0.1", port)).is_err() {
        return false;
    }
    sock.set_read_timeout(Some(wait)).ok();
    let mut buf = [0u8; 4096];
    matches!(sock.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 "))
}

/// What [`Server::start_with`] sets up: rooms (number, optional PIN) and config text appended
/// to the generated file (whole TOML sections, e.g. `[dialin]\nshared_numbers = [\"8000\"]`).
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    pub rooms: Vec<(String, Option<String>)>,
    pub extra_config: String,
    /// Keys added to the generated `[sip]` section (`key = value` lines).
    pub sip_config: String,
    /// Keys added to the generated `[http]` section.
    pub http_config: String,
}

impl ServerOptions {
    /// A room without a PIN.
    pub fn room(mut self, number: &str) -> ServerOptions {
        self.rooms.push((number.into(), None));
        self
    }
    /// A room with a PIN.
    pub fn room_with_pin(mut self, number: &str, pin: &str) -> ServerOptions {
        self.rooms.push((number.into(), Some(pin.into())));
        self
    }
    /// Adds `key = value` lines to the `[sip]` section.
    pub fn sip(mut self, lines: &str) -> ServerOptions {
        self.sip_config.push_str(lines);
        self.sip_config.push('\n');
        self
    }
    /// Adds `key = value` lines to the generated `[http]` section.
    #[allow(dead_code)]
    pub fn http(mut self, lines: &str) -> ServerOptions {
        self.http_config.push_str(lines);
        self.http_config.push('\n');
        self
    }
    /// Appends TOML text (whole sections) to the server's config file.
    pub fn config(mut self, text: &str) -> ServerOptions {
        self.extra_config.push_str(text);
        self.extra_config.push('\n');
        self
    }
}

impl Server {
    /// Writes the config, adds room 800, starts `konferenz serve` and waits until it answers
    /// SIP OPTIONS (deadline `START_TIMEOUT`).
    pub fn start() -> Server {
        Server::start_with_rooms(&["800"])
    }

    pub fn start_with_rooms(rooms: &[&str]) -> Server {
        let mut options = ServerOptions::default();
        for room in rooms {
            options = options.room(room);
        }
        Server::start_with(&options)
    }

    /// Like [`Server::start_with_rooms`], with rooms that may have PINs and extra config text.
    pub fn start_with(options: &ServerOptions) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("konferenz-e2e-")
            .tempdir()
            .expect("temp dir");
        let sip_port = free_udp_port();
        let http_port = free_tcp_port();
        let metrics_port = free_tcp_port();
        let webrtc_port = free_udp_port();
        let rtp_lo = free_port_range(100, 2);
        let rtp_ports = (rtp_lo, rtp_lo + 99);
        let config = dir.path().join("konferenz.toml");
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:{sip_port}\"\n{}\
             [rtp]\nports = \"{}-{}\"\n\
             [http]\nlisten = \"127.0.0.1:{http_port}\"\n{}\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n\
             [webrtc]\nlisten = \"127.0.0.1:{webrtc_port}\"\n\
             [database]\nurl = \"sqlite://{}/konferenz.db\"\n\
             [log]\nlevel = \"debug\"\n{}\n",
            options.sip_config,
            rtp_ports.0,
            rtp_ports.1,
            options.http_config,
            dir.path().display(),
            options.extra_config,
        );
        std::fs::write(&config, text).expect("write server config");
        for (room, pin) in &options.rooms {
            let mut args = vec!["room", "add", "--number", room.as_str()];
            if let Some(pin) = pin {
                args.extend(["--pin", pin.as_str()]);
            }
            let out = konferenz_command()
                .arg("--config")
                .arg(&config)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .expect("run konferenz room add");
            assert!(
                out.status.success(),
                "`konferenz room add --number {room}` failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let log = File::create(dir.path().join("server.log")).expect("create server log");
        let child = spawn_serve(&config, log);
        let mut server = Server {
            sip_port,
            http_port,
            metrics_port,
            rtp_ports,
            config,
            dir: Some(dir),
            child,
        };
        server.wait_ready();
        server
    }

    /// Stops the server (SIGTERM) and starts it again on the same config and database;
    /// the log continues in the same file.
    #[allow(dead_code)]
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Stops the server (SIGTERM, after 10 s SIGKILL) and waits until it has exited, for
    /// work on its database while no server runs; [`Server::start_again`] resumes.
    #[allow(dead_code)]
    pub fn stop(&mut self) {
        if self.terminate(Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts `serve` again on the same config and database after [`Server::stop`]; the log
    /// continues in the same file.
    #[allow(dead_code)]
    pub fn start_again(&mut self) {
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.log_path())
            .expect("reopen server log");
        self.child = spawn_serve(&self.config, log);
        self.wait_ready();
    }

    /// The SQLite database file.
    #[allow(dead_code)]
    pub fn database(&self) -> PathBuf {
        self.dir().join("konferenz.db")
    }

    /// `kill -9` (no shutdown at all), then starts the server again on the same config and
    /// database.
    #[allow(dead_code)]
    pub fn crash_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.log_path())
            .expect("reopen server log");
        self.child = spawn_serve(&self.config, log);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "konferenz serve exited early ({status})\n{}",
                    self.log_tail(60)
                );
            }
            if sip_options_answered(self.sip_port, Duration::from_millis(300)) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "konferenz did not answer SIP OPTIONS within {START_TIMEOUT:?}\n{}",
                    self.log_tail(60)
                );
            }
        }
    }

    /// SIGTERM (as systemd stops it) and wait up to `grace`; the exit status if it exited.
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: plain kill(2) on our own child's pid, which has not been reaped yet.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        super::poll_until(grace, || self.child.try_wait().ok().flatten())
    }

    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("dir lives as long as the server")
            .path()
    }

    /// `sip:<user>@127.0.0.1:<sip port>`, e.g. `uri("800")`.
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@127.0.0.1:{}", self.sip_port)
    }

    pub fn http_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `GET /metrics` as text.
    pub fn metrics(&self) -> String {
        ureq::get(format!("http://127.0.0.1:{}/metrics", self.metrics_port))
            .call()
            .expect("GET /metrics")
            .body_mut()
            .read_to_string()
            .expect("metrics text")
    }

    /// The local administrator's bearer token (written by the server at start).
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir().join("admin-token"))
            .expect("the server writes admin-token beside its database")
            .trim()
            .to_owned()
    }

    /// `GET <path>` of the HTTP API as text (any status), as the local administrator.
    #[allow(dead_code)]
    pub fn get(&self, path: &str) -> String {
        ureq::get(format!("{}{path}", self.http_base()))
            .header("authorization", &format!("Bearer {}", self.admin_token()))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("HTTP GET")
            .body_mut()
            .read_to_string()
            .expect("HTTP body")
    }

    /// The value of one sample line of `GET /metrics` (`name{labels}` exactly), if present.
    pub fn metric(&self, sample: &str) -> Option<f64> {
        self.metrics().lines().find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == sample).then(|| value.parse().ok())?
        })
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir().join("server.log")
    }

    /// The whole server log so far (lossy UTF-8; empty if unreadable).
    pub fn log_text(&self) -> String {
        std::fs::read(self.log_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits until the server log contains `needle`; false after `timeout`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        super::poll_until(timeout, || self.log_text().contains(needle).then_some(())).is_some()
    }

    /// Waits until one line of the server log contains every one of `needles` (e.g.
    /// `["joined", "participants=2"]`); false after `timeout`.
    pub fn wait_log_line(&self, needles: &[&str], timeout: Duration) -> bool {
        super::poll_until(timeout, || {
            self.log_text()
                .lines()
                .any(|l| needles.iter().all(|n| l.contains(n)))
                .then_some(())
        })
        .is_some()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        format!(
            "--- konferenz server log tail ---\n{}",
            super::tail(&self.log_path(), lines)
        )
    }

    /// Runs `konferenz --config <file> <args…>` and returns what it did, failed or not.
    pub fn cli_output(&self, args: &[&str]) -> std::process::Output {
        konferenz_command()
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("run konferenz")
    }

    /// Runs `konferenz --config <file> <args…>` (an admin command) and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_output(args);
        assert!(
            out.status.success(),
            "konferenz {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(10));
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(80));
        }
        let keep = super::keep_dirs() || std::thread::panicking();
        if keep && let Some(d) = self.dir.take() {
            eprintln!("server files kept in {}", d.keep().display());
        }
    }
}

/// `konferenz --config CONFIG serve` with stdout and stderr into `log`.
fn spawn_serve(config: &Path, log: File) -> Child {
    konferenz_command()
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup log"))
        .stderr(log)
        .spawn()
        .expect("spawn konferenz serve")
}
