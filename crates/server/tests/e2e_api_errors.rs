//! Every error under `/api` in the one JSON format `{"error": {"code", "message", "field"}}`
//! on the real server: a path parameter that does not parse (`400 bad_request` naming it),
//! an unknown path (`404 not_found`), a method the path does not have (`405
//! method_not_allowed` with `Allow`), bodies with the wrong content type, broken or
//! ill-fitting JSON (`422 invalid` naming the field), too large (`413 too_large`), query
//! parameters that do not parse (`422` naming them) — and no message shows axum's wording or
//! a Rust type.

mod support;

use serde_json::json;
use support::api::{Answer, Auth, Client};
use support::{Server, ServerOptions};

const PASSWORD: &str = "correct horse 1";

/// Room 800; organiser 201 (with room 201).
fn server() -> Server {
    let server = Server::start_with(&ServerOptions::default().room("800").room("201"));
    server.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--password",
        PASSWORD,
        "--organiser",
    ]);
    server
}

/// One request on a connection of its own: a refused request's body may be left unread,
/// and the server then closes that connection.
fn ask(
    server: &Server,
    auth: &Auth,
    method: &str,
    path: &str,
    body: Option<(&[u8], &str)>,
) -> Answer {
    let client = Client::new(&server.http_base(), auth.clone());
    match body {
        Some((bytes, content_type)) => client.raw(method, path, Some(bytes.to_vec()), content_type),
        None => client.raw(method, path, None, ""),
    }
}

/// Sends a 9 MiB body (past the 8 MiB + 64 KiB limit) on a raw connection, reading the
/// answer while still writing: the server may answer and close before it has all of it.
fn oversized(server: &Server, token: &str, method: &str, path: &str, content_type: &str) -> Answer {
    use std::io::{Read, Write};
    let size = 9 << 20;
    let address = server.http_base().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 << 10];
        for _ in 0..size / chunk.len() {
            if writer.write_all(&chunk).is_err() {
                break; // answered and closed
            }
        }
    });
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    sending.join().unwrap();
    let text = String::from_utf8_lossy(&text).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer: {text:?}"));
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    Answer {
        status,
        body: serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        retry_after: header("retry-after"),
        set_cookie: None,
        event_seq: None,
        allow: header("allow"),
        content_type: header("content-type"),
    }
}

/// Words that would mean axum's or serde's own text (or a Rust type) reached the client.
const INTERNAL: &[&str] = &[
    "Failed to",
    "deserialize",
    "Path",
    "Query",
    "Json<",
    "Body",
    "struct ",
    "enum ",
    "u64",
    "i64",
    "usize",
    "axum",
    "serde",
];

/// The answer is our error body with this status, code and field; its message is ours.
#[track_caller]
fn assert_error(what: &str, answer: &Answer, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(answer.status, status, "{what}: {:?}", answer.body);
    assert!(
        answer
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json")),
        "{what}: content type {:?}",
        answer.content_type
    );
    let error = &answer.body["error"];
    assert_eq!(error["code"], code, "{what}: {}", answer.body);
    assert_eq!(error["field"].as_str(), field, "{what}: {}", answer.body);
    assert_our_message(what, answer);
}

/// The error's message is there and says nothing in axum's, serde's or Rust's words.
#[track_caller]
fn assert_our_message(what: &str, answer: &Answer) -> String {
    let message = answer.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.is_empty(), "{what}: no message: {}", answer.body);
    for word in INTERNAL {
        assert!(
            !message.contains(word),
            "{what}: {word:?} in the message {message:?}"
        );
    }
    message
}

#[test]
fn a_path_parameter_that_does_not_parse_is_400_naming_it() {
    let server = server();
    let admin = Auth::Bearer(server.admin_token());
    let body = Some((&b"{}"[..], "application/json"));
    for (method, path, field) in [
        ("POST", "/api/v1/rooms/800/calls/abc/mute", "call"),
        ("POST", "/api/v1/rooms/800/calls/-1/hangup", "call"),
        ("POST", "/api/v1/rooms/800/calls/1.5/redial", "call"),
        ("POST", "/api/v1/calls/99999999999999999999999/mute", "call"),
        ("PUT", "/api/v1/phonebook/xyz", "id"),
        ("DELETE", "/api/v1/phonebook/xyz", "id"),
        ("GET", "/api/v1/conferences/next", "id"),
        ("DELETE", "/api/v1/tokens/all", "id"),
        ("DELETE", "/api/v1/rooms/800/browser/me", "call"),
        // Not UTF-8 once decoded; a room number with a space.
        ("GET", "/api/v1/rooms/%FF", "number"),
        ("GET", "/api/v1/rooms/80%200", "number"),
    ] {
        let answer = ask(&server, &admin, method, path, body);
        assert_error(
            &format!("{method} {path}"),
            &answer,
            400,
            "bad_request",
            Some(field),
        );
    }
    let answer = ask(&server, &admin, "PUT", "/api/v1/phonebook/xyz", body);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("id: ") && message.contains("whole number") && message.contains("xyz"),
        "says which parameter, what it must be and what it got: {message}"
    );
    // Credentials are checked first: nothing about the API's shape without them.
    let anonymous = ask(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/rooms/800/calls/abc/mute",
        body,
    );
    assert_error("anonymous", &anonymous, 401, "unauthorized", None);
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let server = server();
    let admin = Auth::Bearer(server.admin_token());
    for auth in [&admin, &Auth::None] {
        for path in [
            "/api/v1/nope",
            "/api/v1/rooms/800/nope",
            "/api/v1/rooms/800/calls/1/nope",
            "/api/v1/rooms/800/",
            "/api/v1",
            "/api/v1/",
            "/api/rooms",
            "/api",
        ] {
            for method in ["GET", "POST", "DELETE"] {
                let answer = ask(&server, auth, method, path, None);
                assert_error(
                    &format!("{method} {path} ({auth:?})"),
                    &answer,
                    404,
                    "not_found",
                    None,
                );
            }
        }
    }
    // Outside the API a missing page stays a plain 404.
    let page = ask(&server, &Auth::None, "GET", "/no-such-page", None);
    assert_eq!(page.status, 404);

    for (method, path, allowed) in [
        ("DELETE", "/api/v1/rooms", &["GET", "POST"][..]),
        ("PUT", "/api/v1/rooms/800/participants", &["GET"][..]),
        ("GET", "/api/v1/rooms/800/calls/1/mute", &["POST"][..]),
        ("PATCH", "/api/v1/phonebook/1", &["PUT", "DELETE"][..]),
        ("PUT", "/api/v1/session", &["GET", "POST", "DELETE"][..]),
        ("POST", "/api/v1/openapi.json", &["GET"][..]),
    ] {
        for auth in [&admin, &Auth::None] {
            let what = format!("{method} {path} ({auth:?})");
            let answer = ask(&server, auth, method, path, None);
            assert_error(&what, &answer, 405, "method_not_allowed", None);
            let allow = answer.allow.clone().unwrap_or_default();
            let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
            for method in allowed {
                assert!(listed.contains(method), "{what}: Allow: {allow}");
            }
            assert!(!listed.contains(&method), "{what}: Allow: {allow}");
        }
    }
    // The routes themselves still answer.
    assert_eq!(
        ask(&server, &admin, "GET", "/api/v1/rooms", None).status,
        200
    );
    assert_eq!(
        ask(&server, &Auth::None, "GET", "/api/v1/openapi.json", None).status,
        200
    );
}

#[test]
fn bodies_and_queries_that_do_not_fit_name_the_field() {
    let server = server();
    let admin = Auth::Bearer(server.admin_token());
    let json = "application/json";
    for (what, bytes, content_type) in [
        (
            "no JSON content type",
            &b"{\"number\": \"810\"}"[..],
            "text/plain",
        ),
        ("broken JSON", &b"{\"number\": "[..], json),
        ("an array, not an object", &b"[]"[..], json),
        ("a string, not an object", &b"\"810\""[..], json),
        ("a number for a string", &b"{\"number\": 810}"[..], json),
        ("no number", &b"{\"name\": \"x\"}"[..], json),
    ] {
        let answer = ask(
            &server,
            &admin,
            "POST",
            "/api/v1/rooms",
            Some((bytes, content_type)),
        );
        assert_error(what, &answer, 422, "invalid", Some("number"));
    }
    let nested = ask(
        &server,
        &admin,
        "POST",
        "/api/v1/phonebook",
        Some((br#"{"name": "X", "numbers": ["+41441234567"]}"#, json)),
    );
    // The field is the one the operation names for its body as a whole; the message
    // points at the part at fault.
    assert_eq!(
        (nested.status, nested.body["error"]["code"].as_str()),
        (422, Some("invalid")),
        "{:?}",
        nested.body
    );
    let message = assert_our_message("a string for a number object", &nested);
    assert!(
        message.contains("numbers[0]") && message.contains("expected an object"),
        "{message}"
    );
    let login = ask(
        &server,
        &Auth::None,
        "POST",
        "/api/v1/session",
        Some((b"[\"201\"]", json)),
    );
    assert_error("login as an array", &login, 422, "invalid", Some("login"));
    assert!(
        ask(&server, &admin, "GET", "/api/v1/rooms/810", None).status == 404,
        "none of them made a room"
    );

    let token = server.admin_token();
    for (what, path, content_type) in [
        ("9 MiB of JSON", "/api/v1/rooms", json),
        ("9 MiB of music", "/api/v1/rooms/800/music", "audio/wav"),
        ("a 9 MiB phone book", "/api/v1/phonebook/import", "text/csv"),
    ] {
        let method = if path.ends_with("music") {
            "PUT"
        } else {
            "POST"
        };
        let answer = oversized(&server, &token, method, path, content_type);
        assert_error(what, &answer, 413, "too_large", None);
    }

    for (path, field) in [
        ("/api/v1/audit?limit=x", "limit"),
        ("/api/v1/audit?action=login&before=yesterday", "before"),
        ("/api/v1/phonebook?q=m&limit=-1", "limit"),
        ("/api/v1/rooms/800/history?before=x", "before"),
        ("/api/v1/rooms/800/history?limit=lots", "limit"),
    ] {
        let answer = ask(&server, &admin, "GET", path, None);
        assert_error(path, &answer, 422, "invalid", Some(field));
    }
    let anna = Client::login(&server.http_base(), "201", PASSWORD);
    let twice = ask(
        &server,
        &anna.auth,
        "GET",
        "/api/v1/conferences/defaults?lang=de&lang=en",
        None,
    );
    assert_error("a parameter twice", &twice, 422, "invalid", Some("query"));
    let fine = ask(
        &server,
        &anna.auth,
        "GET",
        "/api/v1/conferences/defaults?lang=de",
        None,
    );
    assert_eq!(fine.status, 200, "{:?}", fine.body);
    let muted = ask(
        &server,
        &admin,
        "POST",
        "/api/v1/rooms/800/mute",
        Some((b"{\"muted\": \"yes\"}", json)),
    );
    assert_error("muted as a string", &muted, 422, "invalid", Some("muted"));
    assert_eq!(
        ask(
            &server,
            &admin,
            "POST",
            "/api/v1/rooms/800/mute",
            Some((&json!({"muted": false}).to_string().into_bytes(), json))
        )
        .status,
        200
    );
}

#[test]
fn the_document_lists_400_for_every_operation_with_a_path_parameter() {
    let server = Server::start();
    let doc = ask(&server, &Auth::None, "GET", "/api/v1/openapi.json", None).body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let documented = operation["responses"].get("400").is_some();
            assert_eq!(
                documented,
                path.contains('{'),
                "{method} {path}: 400 documented exactly for operations with path parameters"
            );
            if documented {
                assert_eq!(
                    operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked} operations with path parameters");
}
