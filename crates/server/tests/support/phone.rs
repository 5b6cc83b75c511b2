//! A baresip phone: one `baresip -f <dir>` process with its own config, driven over ctrl_tcp.
//!
//! It sends a tone from a WAV file (module aufile) and records what it hears and what it
//! sends (module sndfile: `<dir>/dump-<time>-dec.wav` heard, `…-enc.wav` sent).

use super::ctrl::Ctrl;
use super::phone_config::{PhoneConfig, account_line, config_text};
use super::ports::{free_port_pair, free_port_range, free_tcp_port};
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Phone {
    pub cfg: PhoneConfig,
    pub sip_port: u16,
    pub ctrl_port: u16,
    dir: Option<tempfile::TempDir>,
    child: Child,
    ctrl: Option<Ctrl>,
}

const CMD_TIMEOUT: Duration = Duration::from_secs(5);

impl Phone {
    /// Writes the config, starts baresip and connects to its ctrl_tcp port (10 s deadline).
    pub fn start(cfg: PhoneConfig) -> Phone {
        let dir = tempfile::Builder::new()
            .prefix(&format!("phone-{}-", cfg.name))
            .tempdir()
            .expect("temp dir");
        let wav = dir.path().join("tone.wav");
        if let Some(high) = cfg.high_tone_hz {
            // baresip's aufile wants the codec's own rate and channels (Opus: 48 kHz stereo).
            let (rate, channels) = if cfg.codec == super::Codec::Opus {
                (48000, 2)
            } else {
                (16000, 1)
            };
            let samples = super::audio::two_tones(cfg.tone_hz, high, cfg.tone_seconds, rate);
            super::audio::write_wav_at(&wav, &samples, rate, channels);
        } else if cfg.lead_in.is_empty() {
            super::audio::tone_wav(&wav, cfg.tone_hz, cfg.tone_seconds);
        } else {
            let mut samples = cfg.lead_in.clone();
            samples.extend(super::audio::tone_samples(cfg.tone_hz, cfg.tone_seconds));
            super::audio::write_wav(&wav, &samples);
        }
        let (sip_port, _) = free_port_pair();
        let ctrl_port = free_tcp_port();
        let rtp_lo = free_port_range(20, 2);
        std::fs::write(
            dir.path().join("config"),
            config_text(&cfg, dir.path(), &wav, sip_port, ctrl_port, rtp_lo),
        )
        .expect("write baresip config");
        std::fs::write(dir.path().join("accounts"), account_line(&cfg, sip_port))
            .expect("write baresip accounts");
        let log = File::create(dir.path().join("baresip.log")).expect("create baresip log");
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn baresip (is baresip-core installed?)");
        let mut phone = Phone {
            cfg,
            sip_port,
            ctrl_port,
            dir: Some(dir),
            child,
            ctrl: None,
        };
        match Ctrl::connect(ctrl_port, Duration::from_secs(10)) {
            Ok(c) => phone.ctrl = Some(c),
            Err(e) => panic!("phone {}: {e}\n{}", phone.cfg.name, phone.log_tail(40)),
        }
        phone
    }

    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("dir lives as long as the phone")
            .path()
    }

    /// This phone's own SIP URI (for calling it directly).
    pub fn uri(&self) -> String {
        format!("sip:{}@127.0.0.1:{}", self.cfg.name, self.sip_port)
    }

    fn ctrl(&mut self) -> &mut Ctrl {
        self.ctrl.as_mut().expect("ctrl connection is open")
    }

    fn fail(&self, what: &str, err: &str) -> ! {
        panic!(
            "phone {}: {what}: {err}\n--- baresip log tail ---\n{}",
            self.cfg.name,
            self.log_tail(40)
        )
    }

    /// Runs a ctrl_tcp command (`dial`, `hangup`, `sndcode`, `listcalls`, …); panics on error.
    pub fn command(&mut self, command: &str, params: &str) -> String {
        match self.ctrl().command(command, params, CMD_TIMEOUT) {
            Ok(data) => data,
            Err(e) => self.fail(command, &e),
        }
    }

    pub fn dial(&mut self, uri: &str) {
        self.command("dial", uri);
    }

    /// Waits for CALL_ESTABLISHED; panics if the call closes first or the deadline passes.
    pub fn wait_established(&mut self, timeout: Duration) -> Value {
        match self
            .ctrl()
            .wait_event(&["CALL_ESTABLISHED", "CALL_CLOSED"], timeout)
        {
            Ok(v) if v["type"] == "CALL_ESTABLISHED" => v,
            Ok(v) => self.fail("call closed before it was established", &v.to_string()),
            Err(e) => self.fail("wait_established", &e),
        }
    }

    /// Waits for CALL_CLOSED (the far end hung up, or after `hangup`).
    pub fn wait_closed(&mut self, timeout: Duration) -> Value {
        match self.ctrl().wait_event(&["CALL_CLOSED"], timeout) {
            Ok(v) => v,
            Err(e) => self.fail("wait_closed", &e),
        }
    }

    /// Waits for any event of the given types (e.g. `CALL_DTMF_START`).
    pub fn wait_event(&mut self, types: &[&str], timeout: Duration) -> Result<Value, String> {
        self.ctrl().wait_event(types, timeout)
    }

    /// Hangs up the current call and waits for CALL_CLOSED.
    pub fn hangup(&mut self) {
        self.command("hangup", "");
        self.wait_closed(Duration::from_secs(10));
    }

    /// Sends RFC 4733 digits in the current call, e.g. `"1234#"`.
    pub fn send_dtmf(&mut self, digits: &str) {
        self.command("sndcode", digits);
    }

    /// The event types seen so far (for messages).
    pub fn seen_events(&mut self) -> String {
        self.ctrl().drain();
        self.ctrl().seen()
    }

    fn recording(&self, suffix: &str) -> PathBuf {
        let found = super::poll_until(Duration::from_secs(10), || {
            let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir())
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect();
            names.sort();
            let p = names.pop()?;
            // libsndfile writes the sizes into the header when the call's stream closes.
            let len = std::fs::metadata(&p).ok()?.len();
            let r = hound::WavReader::open(&p).ok()?;
            (r.len() > 0 && u64::from(r.len()) * 2 + 256 >= len).then_some(p)
        });
        found.unwrap_or_else(|| {
            self.fail(
                "recording",
                &format!("no complete *{suffix} in {}", self.dir().display()),
            )
        })
    }

    /// The recording of what this phone heard (after the call has closed).
    pub fn heard_wav(&self) -> PathBuf {
        self.recording("-dec.wav")
    }

    /// The recording of what this phone sent.
    pub fn sent_wav(&self) -> PathBuf {
        self.recording("-enc.wav")
    }

    /// The codec baresip chose for sending in the current/last call, from its log line
    /// `audio: Set audio encoder: PCMA 8000Hz 1ch`; waits up to 5 s for it to appear.
    pub fn encoder(&self) -> Option<String> {
        super::poll_until(Duration::from_secs(5), || {
            let log = std::fs::read(self.dir().join("baresip.log")).ok()?;
            let log = String::from_utf8_lossy(&log);
            let (_, after) = log.rsplit_once("Set audio encoder: ")?;
            after.split_whitespace().next().map(str::to_string)
        })
    }

    pub fn log_tail(&self, lines: usize) -> String {
        // The status line is rewritten with '\r'; keep only the last state per line.
        let text = super::tail(&self.dir().join("baresip.log"), lines * 4);
        let lines_v: Vec<&str> = text
            .lines()
            .map(|l| l.rsplit('\r').next().unwrap_or(l))
            .collect();
        lines_v[lines_v.len().saturating_sub(lines)..].join("\n")
    }

    /// Asks baresip to quit and waits for the process (5 s), then SIGTERM, then SIGKILL.
    pub fn quit(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Some(c) = self.ctrl.as_mut() {
            let _ = c.command("quit", "", Duration::from_secs(2));
        }
        self.ctrl = None;
        super::server::stop_child(&mut self.child, Duration::from_secs(5));
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.quit();
        if std::thread::panicking() {
            eprintln!(
                "--- phone {} (baresip) log tail ---\n{}",
                self.cfg.name,
                self.log_tail(30)
            );
        }
        let keep = super::keep_dirs() || std::thread::panicking();
        if keep && let Some(d) = self.dir.take() {
            eprintln!(
                "phone {} files kept in {}",
                self.cfg.name,
                d.keep().display()
            );
        }
    }
}
