//! `konferenz invite`, `participants`, `hangup`, `mute`, `room lock` …: clients of the
//! running server's HTTP API (`/api/v1`), authenticated as the local administrator with the
//! token the server wrote beside its database (the server places the calls; this process
//! only asks and shows the answers).

use std::time::Duration;

use anyhow::{Context, bail};
use konferenz_conference::RoomNumber;

use crate::config::Config;

/// A plain-HTTP client for the server's own API on `http.listen`.
struct Api {
    base: String,
    agent: ureq::Agent,
    /// `Bearer <the local administrator's token>`.
    auth: String,
}

impl Api {
    fn new(config: &Config) -> anyhow::Result<Self> {
        let token = crate::admin_token::read(&config.admin_token_file())?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Self {
            base: format!("http://{}", config.http.listen),
            agent,
            auth: format!("Bearer {token}"),
        })
    }

    /// (status, JSON body) of a request; a server that does not answer is an error.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let url = format!("{}{path}", self.base);
        let mut response = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header("authorization", &self.auth)
                .header("content-type", "application/json")
                .send(body.to_string()),
            None if method == "GET" => self
                .agent
                .get(&url)
                .header("authorization", &self.auth)
                .call(),
            None => bail!("unsupported method {method}"),
        }
        .with_context(|| format!("is the server running? (http.listen {})", self.base))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        ))
    }
}

fn api_error(value: &serde_json::Value) -> String {
    value
        .pointer("/error/message")
        .and_then(|e| e.as_str())
        .unwrap_or("unexpected answer")
        .to_owned()
}

/// `konferenz invite --room 800 NUMBER...`: the server calls each number into the room.
pub fn invite(config: &Config, room: &RoomNumber, numbers: &[String]) -> anyhow::Result<()> {
    let api = Api::new(config)?;
    let (status, body) = api.call(
        "POST",
        &format!("/api/v1/rooms/{room}/invitations"),
        Some(serde_json::json!({ "numbers": numbers })),
    )?;
    if status != 202 {
        bail!("cannot invite: {}", api_error(&body));
    }
    let mut failed = 0;
    let results = body["invitations"].as_array().cloned().unwrap_or_default();
    for (number, result) in numbers.iter().zip(&results) {
        if let Some(call) = result.get("call") {
            println!("calling {number} into room {room} (call {call})");
        } else {
            eprintln!("konferenz: cannot invite {number}: {}", api_error(result));
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} invitations failed", numbers.len());
    }
    Ok(())
}

/// `konferenz participants --room 800 [--follow]`: the room's participants (callers in the
/// menu, invitations, those in the conference, the recently finished) and their states;
/// with `--follow`, every change as it happens (server-sent events from the server's event
/// stream, resumed from the list's sequence number) until Ctrl-C.
pub fn participants(config: &Config, room: &RoomNumber, follow: bool) -> anyhow::Result<()> {
    let api = Api::new(config)?;
    let url = format!("{}/api/v1/rooms/{room}/participants", api.base);
    let mut response = api
        .agent
        .get(&url)
        .header("authorization", &api.auth)
        .call()
        .with_context(|| format!("is the server running? (http.listen {})", api.base))?;
    let status = response.status().as_u16();
    let seq: u64 = response
        .headers()
        .get("x-event-seq")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status != 200 {
        bail!("{}", api_error(&body));
    }
    let list = body.as_array().cloned().unwrap_or_default();
    if !follow && list.is_empty() {
        println!("no participants");
    }
    let mut shown = Shown::default();
    for p in &list {
        shown.participant(p);
    }
    if !follow {
        return Ok(());
    }
    follow_events(&api, room, seq, &mut shown)
}

/// What `participants` has printed per call: the number and the last line's state.
#[derive(Default)]
struct Shown {
    calls: std::collections::HashMap<u64, (String, String, bool)>,
}

impl Shown {
    /// A participant as listed (or from an event): prints a line if its state changed.
    fn participant(&mut self, p: &serde_json::Value) {
        let call = p["call"].as_u64().unwrap_or_default();
        let number = p["number"].as_str().unwrap_or_default().to_owned();
        let state = p["state"].as_str().unwrap_or_default().to_owned();
        let muted = p["muted"]
            .as_bool()
            .unwrap_or_else(|| self.calls.get(&call).is_some_and(|(_, _, muted)| *muted));
        let detail = match (p["status"].as_u64(), p["reason"].as_str()) {
            (Some(code), Some(reason)) => format!(" ({code} {reason})"),
            _ => String::new(),
        };
        self.print(call, number, state, muted, &detail);
    }

    /// A mute or unmute of a call already shown.
    fn muted(&mut self, call: u64, muted: bool) {
        if let Some((number, state, _)) = self.calls.get(&call).cloned() {
            self.print(call, number, state, muted, "");
        }
    }

    fn print(&mut self, call: u64, number: String, state: String, muted: bool, detail: &str) {
        let entry = (number, state, muted);
        if self.calls.get(&call) == Some(&entry) {
            return;
        }
        let flag = if muted { " (muted)" } else { "" };
        println!("{call}  {}  {}{detail}{flag}", entry.0, entry.1);
        use std::io::Write;
        let _ = std::io::stdout().flush();
        self.calls.insert(call, entry);
    }
}

/// Follows `GET /api/v1/events?room=…&since=…` and prints each change.
fn follow_events(
    api: &Api,
    room: &RoomNumber,
    since: u64,
    shown: &mut Shown,
) -> anyhow::Result<()> {
    use std::io::BufRead;
    // The stream stays open: no overall timeout, only for connecting.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("{}/api/v1/events?room={room}&since={since}", api.base);
    let mut response = agent
        .get(&url)
        .header("authorization", &api.auth)
        .header("accept", "text/event-stream")
        .call()
        .with_context(|| format!("is the server running? (http.listen {})", api.base))?;
    if response.status().as_u16() != 200 {
        let text = response.body_mut().read_to_string().unwrap_or_default();
        bail!(
            "{}",
            api_error(&serde_json::from_str(&text).unwrap_or_default())
        );
    }
    let reader = std::io::BufReader::new(response.body_mut().as_reader());
    let mut kind = String::new();
    let mut data = String::new();
    for line in reader.lines() {
        let line = line.context("the event stream broke off")?;
        if line.is_empty() {
            on_event(api, room, &kind, &data, shown)?;
            kind.clear();
            data.clear();
        } else if let Some(value) = line.strip_prefix("event:") {
            kind = value.trim_start().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push_str(value.trim_start());
        }
    }
    bail!("the server closed the event stream")
}

fn on_event(
    api: &Api,
    room: &RoomNumber,
    kind: &str,
    data: &str,
    shown: &mut Shown,
) -> anyhow::Result<()> {
    let event: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    match kind {
        "participant" => shown.participant(&event),
        "muted" => shown.muted(
            event["call"].as_u64().unwrap_or_default(),
            event["muted"].as_bool().unwrap_or_default(),
        ),
        "room-locked" => println!(
            "room {room} {}",
            if event["locked"].as_bool() == Some(true) {
                "locked"
            } else {
                "unlocked"
            }
        ),
        "conference-ended" => println!("room {room}: conference ended"),
        "reset" => {
            // Missed events: reload the list and show what changed.
            let (status, body) =
                api.call("GET", &format!("/api/v1/rooms/{room}/participants"), None)?;
            if status == 200 {
                for p in body.as_array().cloned().unwrap_or_default() {
                    shown.participant(&p);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `konferenz room lock|unlock --number 800`: asks the running server.
pub fn lock(config: &Config, room: &RoomNumber, locked: bool) -> anyhow::Result<()> {
    let (status, answer) = Api::new(config)?.call(
        "POST",
        &format!("/api/v1/rooms/{room}/lock"),
        Some(serde_json::json!({ "locked": locked })),
    )?;
    if status != 204 {
        bail!("{}", api_error(&answer));
    }
    println!("room {room} {}", if locked { "locked" } else { "unlocked" });
    Ok(())
}

/// `konferenz room end --number 800`: hangs up everyone in the room.
pub fn end(config: &Config, room: &RoomNumber) -> anyhow::Result<()> {
    let (status, answer) = Api::new(config)?.call(
        "POST",
        &format!("/api/v1/rooms/{room}/end"),
        Some(serde_json::json!({})),
    )?;
    if status != 204 {
        bail!("{}", api_error(&answer));
    }
    println!("room {room}: conference ended");
    Ok(())
}

/// A number as typed (digits, `+`, and the usual separators), or a phone book search.
/// One person with one number is taken; several candidates are listed and, at a terminal,
/// the user picks one — never a guess. A word that matches nobody is used as a SIP user
/// name as it stands (e.g. a phone registered as `alice`).
pub async fn resolve(store: &konferenz_store::Store, wanted: &str) -> anyhow::Result<String> {
    let looks_dialable = wanted.chars().any(|c| c.is_ascii_digit())
        && wanted
            .chars()
            .all(|c| c.is_ascii_digit() || "+ -/().*#".contains(c));
    if looks_dialable {
        return Ok(wanted.chars().filter(|c| !" -/().".contains(*c)).collect());
    }
    let matches = store.search_phonebook(wanted).await?;
    let candidates: Vec<(String, String)> = matches
        .iter()
        .flat_map(|m| {
            let name = m.entry.contact.name().to_owned();
            m.entry
                .contact
                .numbers()
                .iter()
                .map(move |n| (format!("{name} ({})", n.label), n.number.to_string()))
        })
        .collect();
    match candidates.len() {
        0 if wanted
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) =>
        {
            Ok(wanted.to_owned())
        }
        0 => bail!("no phone book entry matches {wanted:?}"),
        1 => Ok(candidates[0].1.clone()),
        _ => choose(wanted, &candidates),
    }
}

fn choose(wanted: &str, candidates: &[(String, String)]) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let list: String = candidates
        .iter()
        .enumerate()
        .map(|(i, (who, number))| format!("  {}) {who}  {number}\n", i + 1))
        .collect();
    if !std::io::stdin().is_terminal() {
        bail!(
            "{} numbers match {wanted:?}; give the number or a more exact name:\n{list}",
            candidates.len()
        );
    }
    print!(
        "{} numbers match {wanted:?}:\n{list}which one? ",
        candidates.len()
    );
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let choice: usize = line
        .trim()
        .parse()
        .context("expected the number of a line")?;
    candidates
        .get(choice.wrapping_sub(1))
        .map(|(_, number)| number.clone())
        .context("no such line")
}

/// `konferenz hangup CALL [--block [--block-for 2h]]`.
pub fn hang_up(
    config: &Config,
    call: u64,
    block: bool,
    block_for: Option<Duration>,
) -> anyhow::Result<()> {
    let api = Api::new(config)?;
    let (status, answer) = api.call(
        "POST",
        &format!("/api/v1/calls/{call}/hangup"),
        Some(serde_json::json!({ "block": block, "block_secs": block_for.map(|d| d.as_secs()) })),
    )?;
    if status != 204 {
        bail!("{}", api_error(&answer));
    }
    println!(
        "call {call}: hung up{}",
        if block { " and blocked" } else { "" }
    );
    Ok(())
}

/// `konferenz blocks --room 800`.
pub fn blocks(config: &Config, room: &RoomNumber) -> anyhow::Result<()> {
    let (status, answer) =
        Api::new(config)?.call("GET", &format!("/api/v1/rooms/{room}/blocks"), None)?;
    if status != 200 {
        bail!("{}", api_error(&answer));
    }
    let list = answer.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("nobody is blocked from room {room}");
    }
    let now = crate::location::unix(std::time::SystemTime::now());
    for b in list {
        let until = match b["until"].as_i64() {
            Some(until) => format!("for {} more minutes", ((until - now).max(0) + 59) / 60),
            None => "for good".to_owned(),
        };
        println!(
            "{}  ({})  {until}",
            b["who"].as_str().unwrap_or_default(),
            b["kind"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

/// `konferenz unblock --room 800 WHO`.
pub fn unblock(config: &Config, room: &RoomNumber, who: &str) -> anyhow::Result<()> {
    let api = Api::new(config)?;
    // Caller IDs may hold anything: escape all but the unreserved characters (RFC 3986).
    let escaped: String = who
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let url = format!("{}/api/v1/rooms/{room}/blocks/{escaped}", api.base);
    let mut response = api
        .agent
        .delete(&url)
        .header("authorization", &api.auth)
        .call()
        .with_context(|| format!("is the server running? (http.listen {})", api.base))?;
    if response.status().as_u16() != 204 {
        let text = response.body_mut().read_to_string().unwrap_or_default();
        bail!(
            "{}",
            api_error(&serde_json::from_str(&text).unwrap_or_default())
        );
    }
    println!("{who} may call room {room} again");
    Ok(())
}

/// `konferenz mute|unmute CALL`, or `--room 800 --all` / `--all-but CALL` (the host).
pub fn mute(
    config: &Config,
    call: Option<u64>,
    group: &crate::cli::MuteGroup,
    muted: bool,
) -> anyhow::Result<()> {
    if let Some(call) = call {
        return call_command(config, call, "mute", Some(muted));
    }
    let Some(room) = &group.room else {
        bail!("name a call, or --room with --all or --all-but");
    };
    let body = serde_json::json!({ "muted": muted, "except": group.all_but });
    let (status, answer) =
        Api::new(config)?.call("POST", &format!("/api/v1/rooms/{room}/mute"), Some(body))?;
    if status != 200 {
        bail!("{}", api_error(&answer));
    }
    let calls: Vec<String> = answer["calls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_u64())
                .map(|c| c.to_string())
                .collect()
        })
        .unwrap_or_default();
    let what = if muted { "muted" } else { "unmuted" };
    if calls.is_empty() {
        println!("room {room}: nobody to change");
    } else {
        println!("room {room}: {what} calls {}", calls.join(", "));
    }
    Ok(())
}

/// `konferenz mute CALL` / `unmute CALL` (call ids from `participants`).
pub fn call_command(
    config: &Config,
    call: u64,
    action: &str,
    muted: Option<bool>,
) -> anyhow::Result<()> {
    let api = Api::new(config)?;
    let body = muted
        .map(|m| serde_json::json!({ "muted": m }))
        .unwrap_or(serde_json::json!({}));
    let (status, answer) = api.call(
        "POST",
        &format!("/api/v1/calls/{call}/{action}"),
        Some(body),
    )?;
    if status != 204 {
        bail!("{}", api_error(&answer));
    }
    println!(
        "call {call}: {}",
        match muted {
            Some(true) => "muted",
            Some(false) => "unmuted",
            None => "hung up",
        }
    );
    Ok(())
}
