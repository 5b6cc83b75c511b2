//! baresip's `ctrl_tcp` control connection: netstring-framed JSON commands, responses, events.
//!
//! baresip sends events only to its newest connection, so a `Ctrl` keeps one connection for
//! the phone's lifetime; a reader thread parses frames and forwards them over channels.

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Ctrl {
    stream: TcpStream,
    events: Receiver<Value>,
    responses: Receiver<Value>,
    /// Events received but not yet matched by a `wait_event`.
    pending: VecDeque<Value>,
    /// Every event seen, in order, for failure messages.
    pub history: Vec<Value>,
    next_token: u64,
    reader: Option<JoinHandle<()>>,
}

/// Reads one netstring (`<len>:<bytes>,`); `None` at end of stream or on a framing error.
fn read_netstring(r: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = 0usize;
    let mut byte = [0u8; 1];
    loop {
        r.read_exact(&mut byte).ok()?;
        match byte[0] {
            b'0'..=b'9' => {
                len = len
                    .checked_mul(10)?
                    .checked_add(usize::from(byte[0] - b'0'))?
            }
            b':' => break,
            _ => return None,
        }
    }
    let mut buf = vec![0u8; len + 1];
    r.read_exact(&mut buf).ok()?;
    (buf.pop() == Some(b',')).then_some(buf)
}

impl Ctrl {
    /// Connects to `127.0.0.1:port`, retrying until `timeout` (baresip may still be starting).
    pub fn connect(port: u16, timeout: Duration) -> Result<Ctrl, String> {
        let stream = super::poll_until(timeout, || TcpStream::connect(("127.0.0.1", port)).ok())
            .ok_or_else(|| format!("ctrl_tcp on port {port} not reachable within {timeout:?}"))?;
        stream.set_nodelay(true).ok();
        let (ev_tx, events) = mpsc::channel();
        let (resp_tx, responses) = mpsc::channel();
        let mut r = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let reader = std::thread::spawn(move || {
            while let Some(frame) = read_netstring(&mut r) {
                let Ok(v) = serde_json::from_slice::<Value>(&frame) else {
                    continue;
                };
                let tx = if v["response"] == true {
                    &resp_tx
                } else {
                    &ev_tx
                };
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Ok(Ctrl {
            stream,
            events,
            responses,
            pending: VecDeque::new(),
            history: Vec::new(),
            next_token: 1,
            reader: Some(reader),
        })
    }

    /// Sends a command and waits for its response; `Ok(data)` when baresip says ok.
    pub fn command(
        &mut self,
        command: &str,
        params: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let token = self.next_token.to_string();
        self.next_token += 1;
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{},", body.len(), body);
        self.stream
            .write_all(frame.as_bytes())
            .map_err(|e| format!("ctrl_tcp write `{command}`: {e}"))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.responses.recv_timeout(left) {
                Ok(v) if v["token"] == token.as_str() => {
                    let data = v["data"].as_str().unwrap_or_default().to_string();
                    return if v["ok"] == true {
                        Ok(data)
                    } else {
                        Err(format!("`{command} {params}`: {data}"))
                    };
                }
                Ok(_) => continue,
                Err(_) => {
                    return Err(format!(
                        "no response to `{command} {params}` within {timeout:?}"
                    ));
                }
            }
        }
    }

    /// Waits for the first not-yet-consumed event whose `type` is one of `types`.
    pub fn wait_event(&mut self, types: &[&str], timeout: Duration) -> Result<Value, String> {
        let is_match = |v: &Value| types.iter().any(|t| v["type"] == *t);
        if let Some(i) = self.pending.iter().position(is_match) {
            return Ok(self.pending.remove(i).expect("index is valid"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) => {
                    self.history.push(v.clone());
                    if is_match(&v) {
                        return Ok(v);
                    }
                    self.pending.push_back(v);
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no {types:?} event within {timeout:?}; seen: {}",
                        self.seen()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "ctrl_tcp closed while waiting for {types:?}; seen: {}",
                        self.seen()
                    ));
                }
            }
        }
    }

    /// Moves already-arrived events into `pending` without blocking.
    pub fn drain(&mut self) {
        while let Ok(v) = self.events.try_recv() {
            self.history.push(v.clone());
            self.pending.push_back(v);
        }
    }

    /// The event types seen so far, e.g. `CALL_RINGING, CALL_ESTABLISHED`.
    pub fn seen(&self) -> String {
        let types: Vec<&str> = self
            .history
            .iter()
            .filter_map(|v| v["type"].as_str())
            .collect();
        types.join(", ")
    }
}

impl Drop for Ctrl {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

#[test]
fn netstrings_parse() {
    let mut r: &[u8] = b"5:hello,0:,3:abc";
    assert_eq!(read_netstring(&mut r).as_deref(), Some(&b"hello"[..]));
    assert_eq!(read_netstring(&mut r).as_deref(), Some(&b""[..]));
    assert_eq!(read_netstring(&mut r), None);
}
