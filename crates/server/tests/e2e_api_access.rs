//! Open event streams lose what their caller loses, against the real server: unsharing a
//! room, logging out, revoking the token and withdrawing the organiser right end a stream
//! that is already open (`event: access-ended`, then the end; reconnecting is refused),
//! while other callers' streams go on delivering. A user without rights learns whom to ask.

mod support;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::api::{Auth, Client, add_users};
use support::{Server, ServerOptions};

const PASSWORD: &str = "correct horse 1";

/// How long a change made through the API may take to reach an open stream.
const AT_ONCE: Duration = Duration::from_secs(3);

/// Rooms 201 (Anna's own) and 900 (shared with Bert); users 100 admin, 201 Anna and 202
/// Bert (organisers).
fn server() -> Server {
    let server = Server::start_with(&ServerOptions::default().room("201").room("900"));
    add_users(
        &server,
        PASSWORD,
        &[
            ("100", "Ada Admin", &["--admin"]),
            ("201", "Anna Müller", &["--organiser"]),
            ("202", "Bert Brandt", &["--organiser"]),
        ],
    );
    let shared = admin(&server).send("PUT", "/api/v1/rooms/900/shares/202", None);
    assert_eq!(shared.status, 204, "{:?}", shared.body);
    server
}

fn bearer(server: &Server, user: &str) -> Client {
    named_bearer(server, user, "stream")
}

fn named_bearer(server: &Server, user: &str, name: &str) -> Client {
    let token = server
        .cli(&["token", "create", "--user", user, "--name", name])
        .trim()
        .to_owned();
    Client::new(&server.http_base(), Auth::Bearer(token))
}

/// A stream's check after an announced change runs beside the request that announced it:
/// events sent this long after the change are filtered by the new rights.
const SETTLE: Duration = Duration::from_millis(500);

fn admin(server: &Server) -> Client {
    bearer(server, "100")
}

/// What a stream's reader thread saw: a line, or the end of the stream.
enum Seen {
    Line(String),
    End,
}

/// An open `GET /api/v1/events…`, read line by line on a thread of its own.
struct Stream {
    lines: mpsc::Receiver<Seen>,
    seen: Vec<String>,
}

impl Stream {
    /// Opens the stream as `client`; panics unless it answers 200.
    fn open(client: &Client, path: &str) -> Stream {
        let mut request = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", client.base))
            .header("accept", "text/event-stream");
        match &client.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                request = request.header("authorization", format!("Bearer {token}"))
            }
            Auth::Session { cookie, .. } => request = request.header("cookie", cookie),
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .run(request.body(()).expect("request"))
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(response.into_body().into_reader());
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if tx.send(Seen::Line(line)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Seen::End);
        });
        Stream {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits up to `within` for a line equal to `line`; how long it took.
    fn expect_line(&mut self, line: &str, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let left = within.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(Seen::Line(l)) if l == line => return start.elapsed(),
                Ok(Seen::Line(l)) => self.seen.push(l),
                Ok(Seen::End) => panic!("the stream ended before `{line}`; saw {:?}", self.seen),
                Err(_) => panic!("no `{line}` within {within:?}; saw {:?}", self.seen),
            }
        }
    }

    /// The JSON of the next `data:` line, waiting up to `within`.
    fn expect_data(&mut self, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let left = within.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(Seen::Line(l)) => {
                    if let Some(data) = l.strip_prefix("data: ") {
                        return serde_json::from_str(data).expect("JSON data");
                    }
                    self.seen.push(l);
                }
                Ok(Seen::End) => panic!("the stream ended; saw {:?}", self.seen),
                Err(_) => panic!("no data within {within:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Waits up to `within` for the stream to end (after what it still sends).
    fn expect_end(&mut self, within: Duration) {
        let start = Instant::now();
        loop {
            let left = within.saturating_sub(start.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(Seen::Line(l)) => self.seen.push(l),
                Ok(Seen::End) => return,
                Err(_) => panic!("still open after {within:?}; saw {:?}", self.seen),
            }
        }
    }

    /// The stream's access ended: it says so, then closes.
    fn expect_access_ended(&mut self, within: Duration) -> Duration {
        let took = self.expect_line("event: access-ended", within);
        self.expect_end(Duration::from_secs(2));
        took
    }
}

/// Switches the room-wide mute of `room` (an event in that room, with or without calls).
fn room_event(client: &Client, room: &str, muted: bool) {
    let answer = client.post(
        &format!("/api/v1/rooms/{room}/mute"),
        json!({ "muted": muted }),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[test]
fn unsharing_a_room_ends_the_streams_that_follow_it_and_only_those() {
    let server = server();
    let ada = admin(&server);
    let bert = bearer(&server, "202");
    let anna = bearer(&server, "201");
    let mut bert_900 = Stream::open(&bert, "/api/v1/events?room=900");
    let mut bert_all = Stream::open(&bert, "/api/v1/events");
    let mut anna_201 = Stream::open(&anna, "/api/v1/events?room=201");
    room_event(&ada, "900", true);
    bert_900.expect_line("event: room-muted", AT_ONCE);
    bert_all.expect_line("event: room-muted", AT_ONCE);
    assert_eq!(bert_all.expect_data(AT_ONCE)["room"], "900");

    let answer = ada.send("DELETE", "/api/v1/rooms/900/shares/202", None);
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    let took = bert_900.expect_access_ended(AT_ONCE);
    println!("unshared: Bert's stream of room 900 ended {took:?} after the answer");
    assert_eq!(bert.get("/api/v1/events?room=900").status, 404);

    // His stream of all his rooms stays open, but room 900 is no longer among them (nor is
    // Anna's room 201, which her own stream shows).
    std::thread::sleep(SETTLE);
    room_event(&ada, "900", false);
    room_event(&anna, "201", true);
    anna_201.expect_line("event: room-muted", AT_ONCE);
    let shared = ada.send("PUT", "/api/v1/rooms/201/shares/202", None);
    assert_eq!(shared.status, 204, "{:?}", shared.body);
    // Room 201 is now shared with Bert: his open all-rooms stream follows it from now on.
    std::thread::sleep(SETTLE);
    room_event(&anna, "201", false);
    bert_all.expect_line("event: room-muted", AT_ONCE);
    let data = bert_all.expect_data(AT_ONCE);
    assert_eq!(
        (&data["room"], &data["muted"]),
        (&json!("201"), &json!(false)),
        "Bert's stream got {data}, not room 201's unmute (room 900's or 201's before the share?)"
    );
}

#[test]
fn logging_out_ends_the_session_s_stream() {
    let server = server();
    let anna = Client::login(&server.http_base(), "201", PASSWORD);
    let other = Client::login(&server.http_base(), "201", PASSWORD);
    let mut stream = Stream::open(&anna, "/api/v1/events?room=201");
    let mut other_stream = Stream::open(&other, "/api/v1/events?room=201");
    let answer = anna.send("DELETE", "/api/v1/session", None);
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    let took = stream.expect_access_ended(AT_ONCE);
    println!("logged out: the session's stream ended {took:?} after the answer");
    assert_eq!(anna.get("/api/v1/events?room=201").status, 401);
    // Her other session (another browser) keeps its stream.
    room_event(&other, "201", true);
    other_stream.expect_line("event: room-muted", AT_ONCE);
}

#[test]
fn revoking_a_token_ends_its_stream_and_not_another() {
    let server = server();
    let bert = named_bearer(&server, "202", "laptop");
    let bert_second = named_bearer(&server, "202", "script");
    let mut revoked = Stream::open(&bert, "/api/v1/events?room=900");
    let mut kept = Stream::open(&bert_second, "/api/v1/events?room=900");
    let tokens = bert.get("/api/v1/tokens");
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    let mine: Vec<&Value> = tokens
        .body
        .as_array()
        .expect("a list")
        .iter()
        .filter(|t| t["name"] == "laptop")
        .collect();
    assert_eq!(mine.len(), 1, "{}", tokens.body);
    let id = &mine[0]["id"];
    let answer = bert_second.send("DELETE", &format!("/api/v1/tokens/{id}"), None);
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    let took = revoked.expect_access_ended(AT_ONCE);
    println!("token revoked: its stream ended {took:?} after the answer");
    assert_eq!(bert.get("/api/v1/events?room=900").status, 401);
    room_event(&bert_second, "900", true);
    kept.expect_line("event: room-muted", AT_ONCE);
}

#[test]
fn withdrawing_the_organiser_right_on_the_command_line_ends_the_stream_within_the_recheck() {
    let server = server();
    let bert = bearer(&server, "202");
    let mut stream = Stream::open(&bert, "/api/v1/events?room=900");
    let start = Instant::now();
    server.cli(&["user", "set", "--number", "202", "--organiser", "false"]);
    // The command line writes the database directly; streams look again every 10 s.
    stream.expect_access_ended(Duration::from_secs(13));
    println!(
        "organiser withdrawn on the command line: the stream ended {:?} later",
        start.elapsed()
    );
    assert_eq!(bert.get("/api/v1/events?room=900").status, 403);
}

#[test]
fn withdrawing_the_organiser_right_in_the_window_ends_the_stream_at_once() {
    let server = server();
    let ada = admin(&server);
    let bert = Client::login(&server.http_base(), "202", PASSWORD);
    let mut stream = Stream::open(&bert, "/api/v1/events");
    let answer = ada.send(
        "PATCH",
        "/api/v1/users/202",
        Some(json!({ "organiser": false })),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let took = stream.expect_access_ended(AT_ONCE);
    println!("organiser withdrawn by an administrator: the stream ended {took:?} after the answer");
    assert_eq!(bert.get("/api/v1/events").status, 403);
}

#[test]
fn a_user_without_rights_learns_whom_to_ask() {
    let server = server();
    server.cli(&[
        "user",
        "add",
        "--number",
        "203",
        "--name",
        "Carla Plain",
        "--password",
        PASSWORD,
    ]);
    server.cli(&[
        "user",
        "set",
        "--number",
        "100",
        "--email",
        "ada@example.org",
    ]);
    let carla = Client::login(&server.http_base(), "203", PASSWORD);
    assert_eq!(carla.get("/api/v1/rooms").status, 403);
    let account = carla.get("/api/v1/account");
    assert_eq!(account.status, 200, "{:?}", account.body);
    assert_eq!(
        account.body["administrators"],
        json!([{ "name": "Ada Admin", "email": "ada@example.org" }]),
        "only administrators, and nothing but name and e-mail"
    );
}
