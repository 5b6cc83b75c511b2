//! Janus AudioBridge as the system under test: the same media load as `call` mode, with
//! participants joined through the Janus HTTP API instead of SIP.
//!
//! One session; one `janus.plugin.audiobridge` handle per participant (plus one to create the
//! rooms). Rooms are created with `sampling_rate` 8000 (G.711 needs no resampling then),
//! `allow_rtp_participants`, no audio-level extension, events or recording. Each participant
//! `join`s with `codec: "pcmu"` and an `rtp` object naming the shared RTP socket it streams
//! from; the `joined` event (asynchronous, read by a long-poll `GET /janus/<session>`, which
//! also keeps the session alive) carries the port Janus expects the participant's RTP on.
//! Janus connects that socket to our address, so it only accepts packets from exactly there
//! and sends the participant's mix (everyone but themselves) back to it.
//!
//! The HTTP work runs on a control thread; the runner sees [`JanusEvent`]s on a channel and
//! sends it [`JanusCommand`]s, so its 20 ms send loop never waits for HTTP.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Plugin package name.
pub const PLUGIN: &str = "janus.plugin.audiobridge";
/// Events per long-poll answer.
const MAX_EVENTS: usize = 100;
/// Keepalive (also sent while long-polling; Janus' default session timeout is 60 s).
const KEEPALIVE: Duration = Duration::from_secs(25);
/// How long to wait for a `joined` event before a join counts as failed.
const JOIN_TIMEOUT: Duration = Duration::from_secs(20);

/// What the runner needs to know to drive Janus.
#[derive(Clone, Debug, PartialEq)]
pub struct JanusSetup {
    /// e.g. `http://127.0.0.1:8088/janus`.
    pub url: String,
    /// Room numbers to create, participant `i` joins `rooms[i % rooms.len()]`.
    pub rooms: Vec<u64>,
    /// The room mixing rate (8000: no resampling for PCMU).
    pub sampling_rate: u32,
    /// Participants per second.
    pub rate: f64,
}

/// From the control thread to the runner.
#[derive(Clone, Debug, PartialEq)]
pub enum JanusEvent {
    /// Participant `index`'s join request went out.
    Joining { index: usize },
    /// Participant `index` is in the room: send RTP to `remote`; `setup_ms` from the join
    /// request to the `joined` event.
    Joined {
        index: usize,
        remote: SocketAddr,
        setup_ms: f64,
    },
    /// Participant `index` (or, with `None`, the whole setup) failed.
    Failed { index: Option<usize>, why: String },
    /// Every participant has left (session destroyed): `ok` handles confirmed.
    HungUp { ok: usize },
}

/// From the runner to the control thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JanusCommand {
    /// Leave every room and destroy the session.
    HangUp,
}

// ---- request bodies -------------------------------------------------------------------

pub fn create_session(transaction: &str) -> Value {
    json!({"janus": "create", "transaction": transaction})
}

pub fn attach(transaction: &str) -> Value {
    json!({"janus": "attach", "plugin": PLUGIN, "transaction": transaction})
}

pub fn keepalive(transaction: &str) -> Value {
    json!({"janus": "keepalive", "transaction": transaction})
}

pub fn destroy_session(transaction: &str) -> Value {
    json!({"janus": "destroy", "transaction": transaction})
}

/// A plugin message (`janus: message`) carrying `body`.
pub fn message(transaction: &str, body: Value) -> Value {
    json!({"janus": "message", "transaction": transaction, "body": body})
}

/// `create` for an AudioBridge room that plain-RTP G.711 participants can join.
pub fn create_room(room: u64, sampling_rate: u32) -> Value {
    json!({
        "request": "create",
        "room": room,
        "description": format!("konferenz-load {room}"),
        "sampling_rate": sampling_rate,
        "allow_rtp_participants": true,
        "audiolevel_ext": false,
        "audiolevel_event": false,
        "denoise": false,
        "record": false,
        "permanent": false,
    })
}

pub fn destroy_room(room: u64) -> Value {
    json!({"request": "destroy", "room": room, "permanent": false})
}

/// `join` as a plain-RTP PCMU participant sending from (and receiving on) `local`.
pub fn join(room: u64, display: &str, local: SocketAddr) -> Value {
    json!({
        "request": "join",
        "room": room,
        "display": display,
        "codec": "pcmu",
        "muted": false,
        "denoise": false,
        "rtp": {
            "ip": local.ip().to_string(),
            "port": local.port(),
            "payload_type": 0,
        },
    })
}

// ---- answers ----------------------------------------------------------------------------

/// The `data.id` of a `success` answer (session or handle id).
pub fn success_id(answer: &Value) -> Result<u64, String> {
    if answer["janus"] == "success"
        && let Some(id) = answer["data"]["id"].as_u64()
    {
        return Ok(id);
    }
    Err(error_text(answer))
}

/// The plugin's data of a synchronous plugin answer; an error if Janus or the plugin said so.
pub fn plugin_data(answer: &Value) -> Result<&Value, String> {
    let data = &answer["plugindata"]["data"];
    if answer["janus"] != "success" || data.is_null() {
        return Err(error_text(answer));
    }
    if data.get("error_code").is_some() {
        return Err(error_text(answer));
    }
    Ok(data)
}

/// AudioBridge's error code for "room already exists".
pub const ROOM_EXISTS: i64 = 486;

/// A readable error from a Janus or plugin answer.
pub fn error_text(answer: &Value) -> String {
    let data = &answer["plugindata"]["data"];
    if let Some(code) = data["error_code"].as_i64() {
        return format!(
            "audiobridge {code}: {}",
            data["error"].as_str().unwrap_or("")
        );
    }
    if let Some(code) = answer["error"]["code"].as_i64() {
        return format!(
            "janus {code}: {}",
            answer["error"]["reason"].as_str().unwrap_or("")
        );
    }
    format!("unexpected answer: {answer}")
}

/// What an asynchronous event says about one of our joins.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinOutcome {
    /// `joined` with the address Janus expects our RTP on.
    Joined {
        transaction: String,
        remote: SocketAddr,
    },
    /// An error event answering our join.
    Failed { transaction: String, why: String },
}

/// Reads one event of a long-poll answer: our own `joined` (it has a transaction and an `rtp`
/// object; the notices to the other members have neither) or an error answering a join.
pub fn join_outcome(event: &Value) -> Option<JoinOutcome> {
    if event["janus"] != "event" {
        return None;
    }
    let transaction = event["transaction"].as_str()?.to_string();
    let data = &event["plugindata"]["data"];
    if data.get("error_code").is_some() {
        return Some(JoinOutcome::Failed {
            transaction,
            why: error_text(event),
        });
    }
    if data["audiobridge"] != "joined" {
        return None;
    }
    let rtp = &data["rtp"];
    let ip: IpAddr = rtp["ip"].as_str()?.parse().ok()?;
    let port = u16::try_from(rtp["port"].as_u64()?).ok()?;
    Some(JoinOutcome::Joined {
        transaction,
        remote: SocketAddr::new(ip, port),
    })
}

// ---- the control thread -----------------------------------------------------------------

/// The runner's end of the control thread.
pub struct JanusControl {
    pub events: Receiver<JanusEvent>,
    commands: Sender<JanusCommand>,
}

impl JanusControl {
    /// Starts the control thread: session, rooms, then one participant per entry of `locals`
    /// (the RTP address participant `i` streams from) at `setup.rate` per second.
    pub fn start(setup: JanusSetup, locals: Vec<SocketAddr>) -> JanusControl {
        let (event_tx, events) = channel();
        let (commands, command_rx) = channel();
        thread::Builder::new()
            .name("janus-control".into())
            .spawn(move || {
                if let Err(why) = control(&setup, &locals, &event_tx, &command_rx) {
                    let _ = event_tx.send(JanusEvent::Failed { index: None, why });
                }
            })
            .expect("spawn the Janus control thread");
        JanusControl { events, commands }
    }

    pub fn try_event(&self) -> Option<JanusEvent> {
        self.events.try_recv().ok()
    }

    pub fn hang_up(&self) {
        let _ = self.commands.send(JanusCommand::HangUp);
    }
}

/// Blocking JSON over HTTP to Janus.
#[derive(Clone)]
struct Http {
    agent: ureq::Agent,
    url: String,
}

impl Http {
    fn new(url: &str, timeout: Duration) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Http {
            agent,
            url: url.trim_end_matches('/').to_string(),
        }
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| format!("POST {url}: {e}"))?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("POST {url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("POST {url}: {e}: {text}"))
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {url}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("GET {url}: {e}: {text}"))
    }
}

/// Joins waiting for their event: transaction → (participant, sent at).
type Pending = Arc<Mutex<std::collections::HashMap<String, (usize, Instant)>>>;

fn control(
    setup: &JanusSetup,
    locals: &[SocketAddr],
    events: &Sender<JanusEvent>,
    commands: &Receiver<JanusCommand>,
) -> Result<(), String> {
    let http = Http::new(&setup.url, Duration::from_secs(10));
    let session = success_id(&http.post("", &create_session("session"))?)
        .map_err(|e| format!("create session: {e}"))?;
    let spath = format!("/{session}");
    let admin =
        success_id(&http.post(&spath, &attach("admin"))?).map_err(|e| format!("attach: {e}"))?;
    for &room in &setup.rooms {
        let path = format!("{spath}/{admin}");
        let answer = http.post(
            &path,
            &message("room", create_room(room, setup.sampling_rate)),
        )?;
        if let Err(e) = plugin_data(&answer) {
            if answer["plugindata"]["data"]["error_code"].as_i64() != Some(ROOM_EXISTS) {
                return Err(format!("create room {room}: {e}"));
            }
            // Left over from an earlier run: start from an empty room.
            let _ = http.post(&path, &message("room", destroy_room(room)));
            plugin_data(&http.post(
                &path,
                &message("room", create_room(room, setup.sampling_rate)),
            )?)
            .map_err(|e| format!("create room {room}: {e}"))?;
        }
    }

    // Long-poll for the join events (and as keepalive) until told to stop.
    let pending: Pending = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let http = Http::new(&setup.url, Duration::from_secs(70));
        let (pending, stop, events) = (pending.clone(), stop.clone(), events.clone());
        let path = format!("{spath}?maxev={MAX_EVENTS}");
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let answer = match http.get(&path) {
                    Ok(a) => a,
                    Err(e) => {
                        if !stop.load(Ordering::Relaxed) {
                            let _ = events.send(JanusEvent::Failed {
                                index: None,
                                why: format!("long poll: {e}"),
                            });
                            thread::sleep(Duration::from_millis(200));
                        }
                        continue;
                    }
                };
                let list = match answer {
                    Value::Array(list) => list,
                    single => vec![single],
                };
                for event in &list {
                    let Some(outcome) = join_outcome(event) else {
                        continue;
                    };
                    let now = Instant::now();
                    let tx = match &outcome {
                        JoinOutcome::Joined { transaction, .. }
                        | JoinOutcome::Failed { transaction, .. } => transaction,
                    };
                    let Some((index, sent)) = pending.lock().expect("pending").remove(tx) else {
                        continue;
                    };
                    let _ = events.send(match outcome {
                        JoinOutcome::Joined { remote, .. } => JanusEvent::Joined {
                            index,
                            remote,
                            setup_ms: now.duration_since(sent).as_secs_f64() * 1000.0,
                        },
                        JoinOutcome::Failed { why, .. } => JanusEvent::Failed {
                            index: Some(index),
                            why,
                        },
                    });
                }
            }
        })
    };

    let start = Instant::now();
    let mut last_keepalive = Instant::now();
    let mut handles = Vec::with_capacity(locals.len());
    for (i, &local) in locals.iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / setup.rate.max(0.001));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        if let Ok(JanusCommand::HangUp) = commands.try_recv() {
            break;
        }
        let room = setup.rooms[i % setup.rooms.len()];
        let handle = match http
            .post(&spath, &attach(&format!("attach-{i}")))
            .and_then(|a| success_id(&a))
        {
            Ok(h) => h,
            Err(why) => {
                let _ = events.send(JanusEvent::Failed {
                    index: Some(i),
                    why: format!("attach: {why}"),
                });
                continue;
            }
        };
        handles.push(handle);
        let tx = format!("join-{i}");
        pending
            .lock()
            .expect("pending")
            .insert(tx.clone(), (i, Instant::now()));
        let _ = events.send(JanusEvent::Joining { index: i });
        let body = message(&tx, join(room, &format!("load{i}"), local));
        match http.post(&format!("{spath}/{handle}"), &body) {
            Ok(a) if a["janus"] == "ack" || a["janus"] == "success" => {}
            Ok(a) => {
                pending.lock().expect("pending").remove(&tx);
                let _ = events.send(JanusEvent::Failed {
                    index: Some(i),
                    why: format!("join: {}", error_text(&a)),
                });
            }
            Err(why) => {
                pending.lock().expect("pending").remove(&tx);
                let _ = events.send(JanusEvent::Failed {
                    index: Some(i),
                    why: format!("join: {why}"),
                });
            }
        }
        if last_keepalive.elapsed() >= KEEPALIVE {
            let _ = http.post(&spath, &keepalive("keepalive"));
            last_keepalive = Instant::now();
        }
    }

    // Hold: keepalives, time out joins that never got their event, wait for the hang-up.
    loop {
        match commands.recv_timeout(Duration::from_millis(500)) {
            Ok(JanusCommand::HangUp) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        let overdue: Vec<(String, usize)> = pending
            .lock()
            .expect("pending")
            .iter()
            .filter(|(_, (_, sent))| sent.elapsed() > JOIN_TIMEOUT)
            .map(|(tx, (i, _))| (tx.clone(), *i))
            .collect();
        for (tx, i) in overdue {
            pending.lock().expect("pending").remove(&tx);
            let _ = events.send(JanusEvent::Failed {
                index: Some(i),
                why: "no joined event".into(),
            });
        }
        if last_keepalive.elapsed() >= KEEPALIVE {
            let _ = http.post(&spath, &keepalive("keepalive"));
            last_keepalive = Instant::now();
        }
    }

    // Hang up: every participant leaves (detach), the rooms go, the session goes.
    let mut ok = 0;
    for &handle in &handles {
        let answer = http.post(
            &format!("{spath}/{handle}"),
            &json!({"janus": "detach", "transaction": "detach"}),
        );
        ok += usize::from(answer.is_ok_and(|a| a["janus"] == "success"));
    }
    for &room in &setup.rooms {
        let _ = http.post(
            &format!("{spath}/{admin}"),
            &message("room", destroy_room(room)),
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = http.post(&spath, &destroy_session("destroy"));
    let _ = events.send(JanusEvent::HungUp { ok });
    let _ = poller.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_what_janus_1_1_expects() {
        let local: SocketAddr = "127.0.0.1:30000".parse().unwrap();
        let j = message("join-3", join(801, "load3", local));
        assert_eq!(j["janus"], "message");
        assert_eq!(j["transaction"], "join-3");
        let b = &j["body"];
        assert_eq!(
            (b["request"].as_str(), b["room"].as_u64()),
            (Some("join"), Some(801))
        );
        assert_eq!(b["codec"], "pcmu");
        assert_eq!(
            b["rtp"],
            json!({"ip": "127.0.0.1", "port": 30000, "payload_type": 0})
        );
        let c = create_room(800, 8000);
        assert_eq!(c["sampling_rate"], 8000);
        assert_eq!(c["allow_rtp_participants"], true);
        assert_eq!(c["audiolevel_ext"], false);
        assert_eq!(attach("a")["plugin"], PLUGIN);
        assert_eq!(
            create_session("s"),
            json!({"janus": "create", "transaction": "s"})
        );
    }

    // Answers captured from Janus 1.1.2 (Debian 12) on loopback.
    const SESSION: &str =
        r#"{"janus": "success", "transaction": "1", "data": {"id": 2198347381577033}}"#;
    const CREATED: &str = r#"{"janus": "success", "session_id": 6337643401092114, "transaction": "3", "sender": 6250839257785710, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "created", "room": 800, "permanent": false}}}"#;
    const JOINED: &str = r#"[{"janus": "event", "session_id": 6337643401092114, "transaction": "4", "sender": 6250839257785710, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "joined", "room": 800, "id": 236080787420052, "participants": [], "rtp": {"ip": "127.0.0.1", "port": 40000, "payload_type": 0}}}}]"#;
    const EXISTS: &str = r#"{"janus": "success", "session_id": 1, "transaction": "3", "sender": 2, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "event", "error_code": 486, "error": "Room 800 already exists"}}}"#;
    const NOTICE: &str = r#"{"janus": "event", "session_id": 1, "sender": 2, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "event", "room": 800, "participants": [{"id": 5, "display": "load1", "setup": false, "muted": false}]}}}"#;
    const JANUS_ERROR: &str = r#"{"janus": "error", "transaction": "x", "error": {"code": 458, "reason": "No such session 1"}}"#;

    #[test]
    fn answers_are_read() {
        let v: Value = serde_json::from_str(SESSION).unwrap();
        assert_eq!(success_id(&v), Ok(2198347381577033));
        let v: Value = serde_json::from_str(CREATED).unwrap();
        assert_eq!(plugin_data(&v).unwrap()["audiobridge"], "created");
        let v: Value = serde_json::from_str(EXISTS).unwrap();
        assert_eq!(
            plugin_data(&v).unwrap_err(),
            "audiobridge 486: Room 800 already exists"
        );
        let v: Value = serde_json::from_str(JANUS_ERROR).unwrap();
        assert_eq!(success_id(&v).unwrap_err(), "janus 458: No such session 1");
    }

    #[test]
    fn our_joined_event_gives_the_rtp_address() {
        let list: Value = serde_json::from_str(JOINED).unwrap();
        assert_eq!(
            join_outcome(&list[0]),
            Some(JoinOutcome::Joined {
                transaction: "4".into(),
                remote: "127.0.0.1:40000".parse().unwrap()
            })
        );
        // The notice to the other members is not ours.
        let v: Value = serde_json::from_str(NOTICE).unwrap();
        assert_eq!(join_outcome(&v), None);
        let mut err: Value = serde_json::from_str(EXISTS).unwrap();
        err["janus"] = "event".into();
        assert!(matches!(
            join_outcome(&err),
            Some(JoinOutcome::Failed { .. })
        ));
    }
}
