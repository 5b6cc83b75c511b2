//! A client of the running server's HTTP API for tests: anonymous, with a bearer token,
//! or logged in as a browser (session cookie + CSRF token); API tokens made with the CLI;
//! and the server with one user of each role that the API tests share.

use std::time::Duration;

use serde_json::Value;

use super::{Server, ServerOptions};

/// The password of every user [`roles_server`] makes.
pub const PASSWORD: &str = "correct horse 1";

/// Rooms 800 (nobody's), 201 (organiser 201's own), 900 (shared with 202); users: 100
/// admin, 201 (`anna@example.org`) and 202 organisers, 203 a plain user; all with
/// [`PASSWORD`].
pub fn roles_server() -> Server {
    roles_server_with(ServerOptions::default())
}

/// Adds users with `konferenz user add`: each `(number, name, extra flags)`, all with `password`.
pub fn add_users(server: &Server, password: &str, users: &[(&str, &str, &[&str])]) {
    for (number, name, flags) in users {
        let mut args = vec![
            "user",
            "add",
            "--number",
            number,
            "--name",
            name,
            "--password",
            password,
        ];
        args.extend_from_slice(flags);
        server.cli(&args);
    }
}

/// [`roles_server`] with more configuration (`options`' rooms are added too).
pub fn roles_server_with(options: ServerOptions) -> Server {
    let server = Server::start_with(&options.room("800").room("201").room("900"));
    add_users(
        &server,
        PASSWORD,
        &[
            ("100", "Ada Admin", &["--admin"]),
            (
                "201",
                "Anna Müller",
                &["--organiser", "--email", "anna@example.org"],
            ),
            ("202", "Bert Brandt", &["--organiser"]),
            ("203", "Carla Plain", &[]),
        ],
    );
    let admin = token(&server, "100");
    let shared = Client::new(&server.http_base(), Auth::Bearer(admin)).send(
        "PUT",
        "/api/v1/rooms/900/shares/202",
        None,
    );
    assert_eq!(shared.status, 204, "{:?}", shared.body);
    server
}

/// A new API token of `user`, made with `konferenz token create` (named `test`).
pub fn token(server: &Server, user: &str) -> String {
    server
        .cli(&["token", "create", "--user", user, "--name", "test"])
        .trim()
        .to_owned()
}

/// A client acting as `user` with a new API token.
pub fn client(server: &Server, user: &str) -> Client {
    Client::new(&server.http_base(), Auth::Bearer(token(server, user)))
}

/// How a [`Client`] authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

/// One answer: status, JSON body (Null if none or not JSON), headers we look at.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub set_cookie: Option<String>,
    pub event_seq: Option<u64>,
    pub allow: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub auth: Auth,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str, auth: Auth) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build()
            .into();
        Client {
            base: base.to_owned(),
            auth,
            agent,
        }
    }

    /// Logs in by `POST /api/v1/session`; panics unless it succeeds.
    pub fn login(base: &str, login: &str, password: &str) -> Client {
        let anonymous = Client::new(base, Auth::None);
        let answer = anonymous.send(
            "POST",
            "/api/v1/session",
            Some(serde_json::json!({"login": login, "password": password})),
        );
        assert_eq!(answer.status, 200, "login {login}: {:?}", answer.body);
        let cookie = answer
            .set_cookie
            .expect("login sets a cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = answer.body["csrf"].as_str().unwrap().to_owned();
        Client::new(base, Auth::Session { cookie, csrf })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body))
    }

    /// A request with a JSON body (or none).
    pub fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.raw(method, path, bytes, "application/json")
    }

    /// A request with any body and content type; reads no body of an event stream.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                request = request.header("authorization", format!("Bearer {token}"))
            }
            Auth::Session { cookie, csrf } => {
                request = request
                    .header("cookie", cookie)
                    .header("x-csrf-token", csrf)
            }
        }
        if body.is_some() {
            request = request.header("content-type", content_type);
        }
        let request = request.body(body.unwrap_or_default()).expect("request");
        let mut response = self.agent.run(request).expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let set_cookie = header("set-cookie");
        let event_seq = header("x-event-seq").and_then(|v| v.parse().ok());
        let allow = header("allow");
        let content_type = header("content-type");
        let streaming = content_type
            .as_ref()
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let status = response.status().as_u16();
        let body = if streaming {
            Value::Null
        } else {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Answer {
            status,
            body,
            retry_after,
            set_cookie,
            event_seq,
            allow,
            content_type,
        }
    }
}
