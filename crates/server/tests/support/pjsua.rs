//! A pjsua2 phone (PyPI `pjsua2-python`): `pjsua_phone.py` beside this file, driven by lines
//! on stdin. Unlike baresip it can send DTMF as SIP INFO (`application/dtmf-relay`).
//!
//! It plays a tone WAV into the call and records what it hears (`heard.wav`, 8 kHz mono).

use super::ports::{free_port_pair, free_port_range};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub struct PjsuaPhone {
    pub name: String,
    pub tone_hz: f64,
    pub sip_port: u16,
    dir: Option<tempfile::TempDir>,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every line the script printed, for failure messages.
    pub seen: Vec<String>,
}

/// The Python interpreter: `KONFERENZ_E2E_PYTHON` or `python3` on PATH.
fn python() -> String {
    std::env::var("KONFERENZ_E2E_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// True when `python3 -c "import pjsua2"` works (the test script installs it).
pub fn available() -> bool {
    Command::new(python())
        .args(["-c", "import pjsua2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl PjsuaPhone {
    /// Starts the script with a `tone_hz` sine to send and waits for `READY` (10 s).
    pub fn start(name: &str, tone_hz: f64) -> PjsuaPhone {
        let dir = tempfile::Builder::new()
            .prefix(&format!("pjsua-{name}-"))
            .tempdir()
            .expect("temp dir");
        let wav = dir.path().join("tone.wav");
        super::audio::tone_wav(&wav, tone_hz, 120.0);
        let (sip_port, _) = free_port_pair();
        let rtp_lo = free_port_range(20, 2);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pjsua_phone.py");
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr file");
        let mut child = Command::new(python())
            .arg(&script)
            .args(["--name", name])
            .args(["--port", &sip_port.to_string()])
            .args(["--rtp-port", &rtp_lo.to_string()])
            .arg("--play")
            .arg(&wav)
            .arg("--record")
            .arg(dir.path().join("heard.wav"))
            .arg("--log")
            .arg(dir.path().join("pjsua.log"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn python3 pjsua_phone.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut phone = PjsuaPhone {
            name: name.into(),
            tone_hz,
            sip_port,
            dir: Some(dir),
            child,
            stdin,
            lines,
            seen: Vec::new(),
        };
        if let Err(e) = phone.wait_line("READY", Duration::from_secs(10)) {
            phone.fail("start", &e);
        }
        phone
    }

    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("dir lives as long as the phone")
            .path()
    }

    fn fail(&self, what: &str, err: &str) -> ! {
        panic!(
            "pjsua phone {}: {what}: {err}\nstdout lines: {:?}\n--- stderr ---\n{}\n--- pjsua log tail ---\n{}",
            self.name,
            self.seen,
            super::tail(&self.dir().join("stderr.txt"), 20),
            super::tail(&self.dir().join("pjsua.log"), 40)
        )
    }

    fn send(&mut self, line: &str) {
        let ok = self
            .stdin
            .as_mut()
            .is_some_and(|s| writeln!(s, "{line}").and_then(|_| s.flush()).is_ok());
        if !ok {
            self.fail("send", &format!("cannot write `{line}` to the script"));
        }
    }

    /// Waits for a printed line starting with `prefix`; `ERROR …` lines fail at once.
    fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return Ok(line);
                    }
                    if line.starts_with("ERROR") {
                        return Err(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no `{prefix}` within {timeout:?}"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("script exited while waiting for `{prefix}`"));
                }
            }
        }
    }

    pub fn dial(&mut self, uri: &str) {
        self.send(&format!("dial {uri}"));
        if let Err(e) = self.wait_line("CALLING", Duration::from_secs(5)) {
            self.fail("dial", &e);
        }
    }

    /// Waits until the call is confirmed (200 OK + ACK); panics if it closes first.
    pub fn wait_established(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.wait_line("", left) {
                Ok(l) if l == "ESTABLISHED" => return,
                Ok(l) if l.starts_with("CLOSED") => self.fail("wait_established", &l),
                Ok(_) => continue,
                Err(e) => self.fail("wait_established", &e),
            }
        }
    }

    /// Sends `keys` as SIP INFO (`application/dtmf-relay`), one INFO per key.
    pub fn send_info_dtmf(&mut self, keys: &str) {
        self.send(&format!("info {keys}"));
        if let Err(e) = self.wait_line("SENT", Duration::from_secs(5)) {
            self.fail("info", &e);
        }
    }

    /// Waits for the call to close (either side hung up); the SIP status code line.
    pub fn wait_closed(&mut self, timeout: Duration) -> String {
        match self.wait_line("CLOSED", timeout) {
            Ok(l) => l,
            Err(e) => self.fail("wait_closed", &e),
        }
    }

    pub fn hangup(&mut self) {
        self.send("hangup");
        self.wait_closed(Duration::from_secs(10));
    }

    /// Ends the script (which hangs up and closes the recording) and waits for it.
    pub fn quit(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if self.stdin.is_some() {
            let _ = self
                .stdin
                .as_mut()
                .map(|s| writeln!(s, "quit").and_then(|_| s.flush()));
            self.stdin = None;
            let _ = self.wait_line("BYE", Duration::from_secs(10));
        }
        super::server::stop_child(&mut self.child, Duration::from_secs(5));
    }

    /// What this phone heard (call `quit` first so the WAV is complete).
    pub fn heard_wav(&self) -> PathBuf {
        self.dir().join("heard.wav")
    }
}

impl Drop for PjsuaPhone {
    fn drop(&mut self) {
        self.quit();
        let keep = super::keep_dirs() || std::thread::panicking();
        if std::thread::panicking() {
            eprintln!(
                "--- pjsua phone {} log tail ---\n{}",
                self.name,
                super::tail(&self.dir().join("pjsua.log"), 30)
            );
        }
        if keep && let Some(d) = self.dir.take() {
            eprintln!(
                "pjsua phone {} files kept in {}",
                self.name,
                d.keep().display()
            );
        }
    }
}
