//! `konferenz-load events`: the window's event benchmark (issue 10). Opens many server-sent
//! event streams on `GET /api/v1/events?room=N` (one TCP connection each), then toggles
//! participants' mute through the API at a steady pace and measures, for every stream, the
//! time from sending the POST to receiving the matching `muted` event; alongside, the API's
//! latency under that load (the mute POST itself and periodic participant-list GETs).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::config::parse_duration;
use crate::stats::Summary;

/// `konferenz-load events …`.
#[derive(Args, Debug, Clone)]
pub struct EventsArgs {
    /// The server's HTTP address (host:port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: String,
    /// Bearer token (`konferenz token create`, or the server's admin-token file's content).
    #[arg(long, env = "KONFERENZ_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read the bearer token from this file instead (e.g. DIR/admin-token).
    #[arg(long, conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// The room whose events are followed and whose participants are muted and unmuted.
    #[arg(long, default_value = "800")]
    pub room: String,
    /// Event streams to open (each its own TCP connection).
    #[arg(long, default_value_t = 100)]
    pub streams: usize,
    /// Mute changes to make: each call in turn is muted and unmuted again (its mute toggled
    /// twice), so at most one is off at a time.
    #[arg(long, default_value_t = 200)]
    pub changes: usize,
    /// Mute changes per second.
    #[arg(long, default_value_t = 20.0)]
    pub change_rate: f64,
    /// Participant-list GETs per second while the changes run (0: none).
    #[arg(long, default_value_t = 10.0)]
    pub list_rate: f64,
    /// Wait until the room has at least this many connected calls before starting (0: start
    /// with whatever is connected, at least one).
    #[arg(long, default_value_t = 0)]
    pub participants: usize,
    /// Give up waiting for the participants or for the streams to connect after this.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub wait_timeout: Duration,
    /// A stream that has not received a change this long after the last POST missed it.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub event_timeout: Duration,
    /// Exit with status 1 if more than this many failures (missed events, failed requests,
    /// streams that did not connect or broke) occur.
    #[arg(long, default_value_t = 0)]
    pub max_failures: usize,
}

/// What one run measured. Times in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EventsReport {
    pub room: String,
    /// Streams asked for, connected (200 and headers received), and failed (did not connect,
    /// or ended before the run did).
    pub streams: usize,
    pub streams_connected: usize,
    pub streams_failed: usize,
    /// Request sent → response headers of each stream.
    pub stream_connect_ms: Summary,
    /// Connected calls in the room whose mute was toggled.
    pub participants: usize,
    /// Mute POSTs sent, and answered 204.
    pub changes: usize,
    pub changes_ok: usize,
    /// Asked and achieved changes per second.
    pub change_rate: f64,
    pub change_rate_achieved: f64,
    /// First POST → last POST answered, seconds.
    pub window_s: f64,
    /// POST sent → the matching `muted` event read from a stream, over every stream × change.
    pub delivery_ms: Summary,
    /// Per change, the time until its slowest stream had it.
    pub delivery_slowest_stream_ms: Summary,
    /// POST sent → the event's `at` (server wall clock, whole ms; same machine's clock).
    pub post_to_publish_ms: Summary,
    /// The event's `at` → read from a stream (ms resolution of `at`), every stream × change.
    pub publish_to_stream_ms: Summary,
    /// Stream × change pairs never received within `--event-timeout`, and the streams with
    /// at least one such miss.
    pub missed: usize,
    pub streams_missing_events: usize,
    /// `muted` events that matched no change we made.
    pub unmatched_events: usize,
    /// Other events seen over all streams (talking, participant, …) and keep-alive comments.
    pub other_events: u64,
    /// The mute POSTs' own latency (sent → response read).
    pub mute_post_ms: Summary,
    pub mute_post_failed: usize,
    /// `GET /api/v1/rooms/N/participants` during the changes: latency, failures, size of the
    /// last answer.
    pub list_get_ms: Summary,
    pub list_get_failed: usize,
    pub list_rate: f64,
    pub list_bytes: usize,
    /// Everything that failed: missed + streams_failed + mute_post_failed + list_get_failed.
    pub failures: usize,
    /// The first few error messages.
    pub errors: Vec<String>,
}

impl EventsReport {
    /// The report as a few lines of text.
    pub fn human(&self) -> String {
        let s = |x: &Summary| {
            let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            format!(
                "p50 {} / p99 {} / max {} ms ({})",
                f(x.p50),
                f(x.p99),
                f(x.max),
                x.count
            )
        };
        let mut out = format!(
            "events on room {}: {}/{} streams connected ({}), {} participants, {} mute changes \
             ({} ok) at {:.1}/s over {:.1} s\n",
            self.room,
            self.streams_connected,
            self.streams,
            s(&self.stream_connect_ms),
            self.participants,
            self.changes,
            self.changes_ok,
            self.change_rate_achieved,
            self.window_s
        );
        out += &format!(
            "  delivery, POST sent → event on a stream: {}\n",
            s(&self.delivery_ms)
        );
        out += &format!(
            "  per change, until the slowest stream:    {}\n",
            s(&self.delivery_slowest_stream_ms)
        );
        out += &format!(
            "  POST sent → published (at):              {}\n",
            s(&self.post_to_publish_ms)
        );
        out += &format!(
            "  published (at) → on a stream:            {}\n",
            s(&self.publish_to_stream_ms)
        );
        out += &format!(
            "  missed {} (on {} streams), unmatched {}, other events {}\n",
            self.missed, self.streams_missing_events, self.unmatched_events, self.other_events
        );
        out += &format!(
            "  mute POST:            {}, failed {}\n",
            s(&self.mute_post_ms),
            self.mute_post_failed
        );
        out += &format!(
            "  participants GET:     {}, failed {}, {} bytes, asked {:.1}/s\n",
            s(&self.list_get_ms),
            self.list_get_failed,
            self.list_bytes,
            self.list_rate
        );
        out += &format!("  failures {}\n", self.failures);
        for e in &self.errors {
            out += &format!("  error: {e}\n");
        }
        out
    }
}

/// A `muted` event as one stream read it.
#[derive(Clone, Copy, Debug)]
struct Received {
    call: u64,
    muted: bool,
    /// The event's `at`: Unix ms when the server published it.
    at_ms: f64,
    /// When we had read it.
    when: Instant,
    wall_ms: f64,
}

/// What one stream's reader thread collects.
#[derive(Default)]
struct StreamLog {
    muted: Mutex<Vec<Received>>,
    other: AtomicU64,
    /// Set when the stream ended or failed before we closed it.
    broke: Mutex<Option<String>>,
}

/// One mute change as sent.
#[derive(Clone, Copy, Debug)]
struct Change {
    call: u64,
    muted: bool,
    sent: Instant,
    sent_wall_ms: f64,
}

fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark.
pub fn run(args: EventsArgs) -> anyhow::Result<EventsReport> {
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => t.trim().to_string(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
            .trim()
            .to_string(),
        (None, None) => anyhow::bail!("give --token, --token-file or KONFERENZ_TOKEN"),
    };
    anyhow::ensure!(args.change_rate > 0.0, "--change-rate must be above 0");
    let base = format!("http://{}", args.http);
    let api = Api::new(&base, &token);
    let mut report = EventsReport {
        room: args.room.clone(),
        streams: args.streams,
        change_rate: args.change_rate,
        list_rate: args.list_rate,
        ..EventsReport::default()
    };
    let mut errors = Vec::new();

    // The participants to toggle: wait until enough calls are connected.
    let list_path = format!("/api/v1/rooms/{}/participants", args.room);
    let deadline = Instant::now() + args.wait_timeout;
    let mut calls = loop {
        let calls = match api.get(&list_path) {
            Ok((200, body)) => connected_calls(&body)?,
            Ok((status, body)) => anyhow::bail!("GET {list_path}: {status} {body}"),
            Err(e) => anyhow::bail!("GET {list_path}: {e}"),
        };
        if calls.len() >= args.participants.max(1) {
            break calls;
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "only {} of {} calls connected in room {} after {:?}",
                calls.len(),
                args.participants.max(1),
                args.room,
                args.wait_timeout
            );
        }
        thread::sleep(Duration::from_millis(200));
    };
    report.participants = calls.len();

    // The streams: each connects on its own thread and then reads until we shut it down.
    let addr = args
        .http
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("--http {}: no address", args.http))?;
    let events_path = format!("/api/v1/events?room={}", args.room);
    let (connected_tx, connected_rx) = mpsc::channel();
    let mut readers: Vec<(Arc<StreamLog>, JoinHandle<()>)> = Vec::new();
    for i in 0..args.streams {
        let log = Arc::new(StreamLog::default());
        let tx = connected_tx.clone();
        let (path, host, token, thread_log) = (
            events_path.clone(),
            args.http.clone(),
            token.clone(),
            log.clone(),
        );
        let handle = thread::Builder::new()
            .name(format!("sse-{i}"))
            .stack_size(256 << 10)
            .spawn(move || {
                let asked = Instant::now();
                match open_stream(addr, &host, &path, &token) {
                    Ok((socket, reader)) => {
                        let _ = tx.send((i, Ok((asked.elapsed(), socket))));
                        read_events(reader, &thread_log);
                    }
                    Err(e) => {
                        let _ = tx.send((i, Err(e.to_string())));
                    }
                }
            })?;
        readers.push((log, handle));
    }
    drop(connected_tx);
    let mut sockets: Vec<TcpStream> = Vec::new();
    // Streams connected in time; only these are measured (and joined at the end: a late one
    // would read on forever).
    let mut live = vec![false; args.streams];
    let mut connect_ms = Vec::new();
    let deadline = Instant::now() + args.wait_timeout;
    while sockets.len() + report.streams_failed < args.streams {
        let left = deadline.saturating_duration_since(Instant::now());
        match connected_rx.recv_timeout(left) {
            Ok((i, Ok((took, socket)))) => {
                connect_ms.push(ms(took));
                sockets.push(socket);
                live[i] = true;
            }
            Ok((i, Err(e))) => {
                report.streams_failed += 1;
                errors.push(format!("stream {i}: {e}"));
            }
            Err(_) => break,
        }
    }
    report.streams_connected = sockets.len();
    report.stream_connect_ms = Summary::of(&connect_ms);
    let not_connected = args.streams - sockets.len() - report.streams_failed;
    if not_connected > 0 {
        report.streams_failed += not_connected;
        errors.push(format!(
            "{not_connected} streams not connected after {:?}",
            args.wait_timeout
        ));
    }
    // The server subscribes before it answers, but give the last headers a moment.
    thread::sleep(Duration::from_millis(200));

    // Participant-list GETs alongside, on their own connection.
    let stop = Arc::new(AtomicBool::new(false));
    let lister = (args.list_rate > 0.0).then(|| {
        let (api, path, stop, rate) = (
            Api::new(&base, &token),
            list_path.clone(),
            stop.clone(),
            args.list_rate,
        );
        thread::spawn(move || list_load(&api, &path, rate, &stop))
    });

    // The changes, on an absolute schedule: change 2j mutes (toggles) call j mod n and 2j+1
    // undoes it, so at most one call is off at a time and the room keeps talking.
    let mut changes = Vec::with_capacity(args.changes);
    let mut post_ms = Vec::with_capacity(args.changes);
    let start = Instant::now();
    for k in 0..args.changes {
        let due = start + Duration::from_secs_f64(k as f64 / args.change_rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let slot = (k / 2) % calls.len();
        let (call, was_muted) = calls[slot];
        let muted = !was_muted;
        let path = format!("/api/v1/rooms/{}/calls/{call}/mute", args.room);
        let sent_wall_ms = unix_ms();
        let sent = Instant::now();
        let result = api.post(&path, &format!("{{\"muted\":{muted}}}"));
        post_ms.push(ms(sent.elapsed()));
        match result {
            Ok((204, _)) => {
                calls[slot].1 = muted;
                changes.push(Change {
                    call,
                    muted,
                    sent,
                    sent_wall_ms,
                });
            }
            Ok((status, body)) => {
                report.mute_post_failed += 1;
                errors.push(format!("POST {path}: {status} {body}"));
            }
            Err(e) => {
                report.mute_post_failed += 1;
                errors.push(format!("POST {path}: {e}"));
            }
        }
    }
    report.window_s = start.elapsed().as_secs_f64();
    report.changes = args.changes;
    report.changes_ok = changes.len();
    report.change_rate_achieved = if report.window_s > 0.0 && args.changes > 1 {
        (args.changes - 1) as f64 / report.window_s
    } else {
        0.0
    };
    report.mute_post_ms = Summary::of(&post_ms);

    // Wait until every stream has every change (or the timeout passed).
    let deadline = Instant::now() + args.event_timeout;
    while Instant::now() < deadline {
        let complete = readers.iter().zip(&live).all(|((log, _), &live)| {
            !live
                || log.broke.lock().unwrap().is_some()
                || log.muted.lock().unwrap().len() >= changes.len()
        });
        if complete {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(lister) = lister {
        let (samples, failed, bytes, errs) = lister
            .join()
            .map_err(|_| anyhow::anyhow!("the participant-list thread panicked"))?;
        report.list_get_ms = Summary::of(&samples);
        report.list_get_failed = failed;
        report.list_bytes = bytes;
        errors.extend(errs);
    }
    for socket in &sockets {
        let _ = socket.shutdown(Shutdown::Both);
    }

    // Match every change to its event on every connected stream.
    let mut delivery = Vec::new();
    let mut publish_to_stream = Vec::new();
    let mut slowest = vec![None::<f64>; changes.len()];
    let mut published = vec![None::<f64>; changes.len()];
    for (i, (log, handle)) in readers.into_iter().enumerate() {
        // A stream that did not connect in time is counted in streams_failed already.
        if !live[i] {
            continue;
        }
        let _ = handle.join();
        let events = log.muted.lock().unwrap().clone();
        report.other_events += log.other.load(Ordering::Relaxed);
        let broke = log.broke.lock().unwrap().clone();
        let mut used = vec![false; events.len()];
        let mut missed = 0;
        for (k, change) in changes.iter().enumerate() {
            let found = events.iter().enumerate().position(|(j, e)| {
                !used[j]
                    && e.call == change.call
                    && e.muted == change.muted
                    && e.when >= change.sent
            });
            match found {
                Some(j) => {
                    used[j] = true;
                    let e = events[j];
                    let d = ms(e.when - change.sent);
                    delivery.push(d);
                    publish_to_stream.push(e.wall_ms - e.at_ms);
                    slowest[k] = Some(slowest[k].map_or(d, |s: f64| s.max(d)));
                    published[k].get_or_insert(e.at_ms - change.sent_wall_ms);
                }
                None => missed += 1,
            }
        }
        if missed > 0 {
            report.missed += missed;
            report.streams_missing_events += 1;
            if let Some(why) = broke {
                errors.push(format!("stream {i} ended early: {why}"));
            }
        }
        report.unmatched_events += used.iter().filter(|u| !**u).count();
    }
    report.delivery_ms = Summary::of(&delivery);
    report.delivery_slowest_stream_ms =
        Summary::of(&slowest.iter().flatten().copied().collect::<Vec<_>>());
    report.post_to_publish_ms =
        Summary::of(&published.iter().flatten().copied().collect::<Vec<_>>());
    report.publish_to_stream_ms = Summary::of(&publish_to_stream);
    report.failures =
        report.missed + report.streams_failed + report.mute_post_failed + report.list_get_failed;
    errors.truncate(10);
    report.errors = errors;
    Ok(report)
}

/// The connected calls of a participant list and whether each is muted, by call id.
fn connected_calls(body: &str) -> anyhow::Result<Vec<(u64, bool)>> {
    let list: Value = serde_json::from_str(body)?;
    let mut calls: Vec<(u64, bool)> = list
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("participant list is not an array: {body}"))?
        .iter()
        .filter(|p| p["state"] == "connected")
        .filter_map(|p| Some((p["call"].as_u64()?, p["muted"].as_bool().unwrap_or(false))))
        .collect();
    calls.sort_unstable();
    Ok(calls)
}

/// GETs the participant list `rate` times a second until `stop`: (latencies, failures,
/// size of the last answer, errors).
fn list_load(
    api: &Api,
    path: &str,
    rate: f64,
    stop: &AtomicBool,
) -> (Vec<f64>, usize, usize, Vec<String>) {
    let (mut samples, mut failed, mut bytes, mut errors) = (Vec::new(), 0, 0, Vec::new());
    let start = Instant::now();
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        k += 1;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let sent = Instant::now();
        let result = api.get(path);
        samples.push(ms(sent.elapsed()));
        match result {
            Ok((200, body)) => bytes = body.len(),
            Ok((status, body)) => {
                failed += 1;
                errors.push(format!("GET {path}: {status} {body}"));
            }
            Err(e) => {
                failed += 1;
                errors.push(format!("GET {path}: {e}"));
            }
        }
    }
    errors.truncate(3);
    (samples, failed, bytes, errors)
}

/// Blocking requests to the API on one kept-alive connection (ureq's pool).
struct Api {
    agent: ureq::Agent,
    base: String,
    bearer: String,
}

impl Api {
    fn new(base: &str, token: &str) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Api {
            agent,
            base: base.trim_end_matches('/').to_string(),
            bearer: format!("Bearer {token}"),
        }
    }

    fn get(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
            .call()?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()?;
        Ok((status, body))
    }

    fn post(&self, path: &str, json: &str) -> Result<(u16, String), ureq::Error> {
        let mut response = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
            .header("content-type", "application/json")
            .send(json)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok((status, body))
    }
}

/// Opens one event stream on its own connection: sends the GET, reads the head, and returns
/// a handle to shut the socket down with and a line reader of the (de-chunked) body.
fn open_stream(
    addr: std::net::SocketAddr,
    host: &str,
    path: &str,
    token: &str,
) -> io::Result<(TcpStream, Box<dyn BufRead + Send>)> {
    let mut socket = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    socket.set_nodelay(true)?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    )?;
    socket.flush()?;
    let mut reader = BufReader::new(socket.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(io::Error::other(format!("GET {path}: {}", line.trim_end())));
    }
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            chunked = true;
        }
    }
    // Keep-alive comments come every 15 s; wait for events without a timeout from here.
    socket.set_read_timeout(None)?;
    let body: Box<dyn BufRead + Send> = if chunked {
        Box::new(BufReader::new(Chunked::new(reader)))
    } else {
        Box::new(reader)
    };
    Ok((socket, body))
}

/// Reads SSE events until the stream ends: `muted` events into the log, the rest counted.
fn read_events(mut reader: Box<dyn BufRead + Send>, log: &StreamLog) {
    let (mut kind, mut data, mut line) = (String::new(), String::new(), String::new());
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => {
                *log.broke.lock().unwrap() = Some("end of stream".into());
                return;
            }
            Ok(_) => {}
            Err(e) => {
                *log.broke.lock().unwrap() = Some(e.to_string());
                return;
            }
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if kind == "muted" {
                let (when, wall_ms) = (Instant::now(), unix_ms());
                if let Ok(v) = serde_json::from_str::<Value>(&data)
                    && let (Some(call), Some(muted)) = (v["call"].as_u64(), v["muted"].as_bool())
                {
                    log.muted.lock().unwrap().push(Received {
                        call,
                        muted,
                        at_ms: v["at"].as_f64().unwrap_or(0.0),
                        when,
                        wall_ms,
                    });
                }
            } else if !kind.is_empty() || !data.is_empty() {
                log.other.fetch_add(1, Ordering::Relaxed);
            }
            kind.clear();
            data.clear();
        } else if let Some(v) = l.strip_prefix("event:") {
            kind = v.strip_prefix(' ').unwrap_or(v).to_string();
        } else if let Some(v) = l.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        } else if l.starts_with(':') {
            // A keep-alive comment.
            log.other.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Decodes an HTTP/1.1 chunked body (extensions and trailers ignored).
struct Chunked<R> {
    inner: R,
    left: usize,
    /// The CRLF after a chunk's data is still to be read (read lazily, so a chunk is
    /// handed on as soon as its data is there).
    crlf: bool,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            crlf: false,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.crlf {
                self.inner.read_line(&mut line)?;
                self.crlf = false;
                line.clear();
            }
            if self.inner.read_line(&mut line)? == 0 {
                return Ok(0);
            }
            let size = line.trim().split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("chunk size {size:?}"))
            })?;
            if size == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = size;
        }
        let n = self.left.min(buf.len());
        let n = self.inner.read(&mut buf[..n])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n;
        self.crlf = self.left == 0;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_across_chunk_boundaries() {
        let wire = b"5\r\nevent\r\n8;x=1\r\n: muted\n\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked::new(&wire[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "event: muted\n");
    }

    #[test]
    fn muted_events_are_logged_and_others_counted() {
        let body = "event: talking\ndata: {\"call\":3}\nid: 1\n\n: keep-alive\n\n\
                    id: 2\nevent: muted\ndata: {\"seq\":2,\"at\":1733480000123,\"room\":\"800\",\
                    \"type\":\"muted\",\"call\":17,\"muted\":true}\n\n";
        let log = StreamLog::default();
        read_events(Box::new(body.as_bytes()), &log);
        let muted = log.muted.lock().unwrap();
        assert_eq!(muted.len(), 1);
        assert_eq!((muted[0].call, muted[0].muted), (17, true));
        assert_eq!(muted[0].at_ms, 1733480000123.0);
        assert_eq!(log.other.load(Ordering::Relaxed), 2);
        assert_eq!(log.broke.lock().unwrap().as_deref(), Some("end of stream"));
    }

    #[test]
    fn only_connected_calls_are_toggled() {
        let body = r#"[{"call":5,"state":"connected","muted":true},
                       {"call":2,"state":"connected","muted":false},
                       {"call":9,"state":"left","muted":false}]"#;
        assert_eq!(connected_calls(body).unwrap(), vec![(2, false), (5, true)]);
    }
}
