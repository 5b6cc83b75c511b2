//! An SMTP server on loopback for the tests: `smtp_sink.py` (Debian python3-aiosmtpd) stores
//! every accepted message as `<dir>/<n>.eml`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's interpreter (its python3-aiosmtpd).
const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts the sink on `127.0.0.1:port`, storing mails in `dir`; returns once it listens.
    pub fn start(port: u16, dir: &Path) -> SmtpSink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(PYTHON)
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 smtp_sink.py (Debian python3-aiosmtpd)");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.as_mut().expect("piped stdout")),
            &mut line,
        )
        .expect("the SMTP sink's first line");
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink {
            port,
            dir: dir.to_owned(),
            child,
        }
    }

    /// The stored mails, in arrival order.
    pub fn mails(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
    }

    /// Waits up to `timeout` until at least `n` mails have arrived; their texts.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let files = super::poll_until(timeout, || {
            let files = self.mails();
            (files.len() >= n).then_some(files)
        })
        .unwrap_or_else(|| panic!("{n} mails expected, {} arrived", self.mails().len()));
        files
            .iter()
            .map(|f| String::from_utf8_lossy(&std::fs::read(f).expect("read mail")).into_owned())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
