//! The authenticated API of the real server: every operation in the OpenAPI document
//! answers each role as its tag says (no credentials 401, wrong role 403, someone else's
//! room 404); login with cookie, CSRF and throttle; sharing and demotion take effect at
//! once; rooms, PINs, phone book, users and tokens with good and bad input.

mod support;

use serde_json::{Value, json};
use support::api::{Auth, Client};
use support::{Server, ServerOptions};

const PASSWORD: &str = "correct horse 1";

/// Rooms 800 (nobody's), 201 (organiser 201's own), 900 (shared with 202); users: 100
/// admin, 201 and 202 organisers, 203 a plain user.
fn server() -> Server {
    let server = Server::start_with(&ServerOptions::default().room("800").room("201").room("900"));
    for (number, name, flags) in [
        ("100", "Ada Admin", vec!["--admin"]),
        (
            "201",
            "Anna Müller",
            vec!["--organiser", "--email", "anna@example.org"],
        ),
        ("202", "Bert Brandt", vec!["--organiser"]),
        ("203", "Carla Plain", vec![]),
    ] {
        let mut args = vec![
            "user",
            "add",
            "--number",
            number,
            "--name",
            name,
            "--password",
            PASSWORD,
        ];
        args.extend(flags);
        server.cli(&args);
    }
    let admin = token(&server, "100");
    let shared = Client::new(&server.http_base(), Auth::Bearer(admin)).send(
        "PUT",
        "/api/v1/rooms/900/shares/202",
        None,
    );
    assert_eq!(shared.status, 204, "{:?}", shared.body);
    server
}

fn token(server: &Server, user: &str) -> String {
    server
        .cli(&["token", "create", "--user", user, "--name", "test"])
        .trim()
        .to_owned()
}

fn client(server: &Server, user: &str) -> Client {
    Client::new(&server.http_base(), Auth::Bearer(token(server, user)))
}

/// Every operation of the OpenAPI document: (method, path template, tag).
fn operations(server: &Server) -> Vec<(String, String, String)> {
    let doc = Client::new(&server.http_base(), Auth::None).get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let mut ops = Vec::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let tag = op["tags"][0].as_str().unwrap_or("untagged").to_owned();
            ops.push((method.to_uppercase(), path.clone(), tag));
        }
    }
    assert!(ops.len() >= 40, "{} operations", ops.len());
    ops
}

/// The path with its parameters filled in.
fn fill(path: &str, room: &str) -> String {
    path.replace("{number}", room)
        .replace("{call}", "999999")
        .replace("{who}", "nobody")
        .replace("{user}", "999")
        .replace("{token}", "0000")
        .replace("{id}", "999999")
}

fn assert_error_shape(what: &str, body: &Value) {
    let error = &body["error"];
    assert!(
        error["code"].is_string() && error["message"].is_string() && error.get("field").is_some(),
        "{what}: not an error body: {body}"
    );
}

#[test]
fn every_operation_answers_each_role_as_its_tag_says() {
    let server = server();
    let ops = operations(&server);
    let anonymous = Client::new(&server.http_base(), Auth::None);
    let plain = client(&server, "203");
    let stranger = client(&server, "202"); // an organiser, but room 201 is not theirs
    let owner = client(&server, "201");
    let admin = client(&server, "100");
    for (method, path, tag) in &ops {
        assert!(
            ["public", "account", "rooms", "conferences", "admin"].contains(&tag.as_str()),
            "{method} {path}: tag {tag}"
        );
        let uri = fill(path, "201");
        let body = (method != "GET").then(|| json!({}));
        let what = format!("{method} {path}");

        let answer = anonymous.send(method, &uri, body.clone());
        if tag == "public" {
            assert_ne!(answer.status, 401, "{what} is public");
        } else {
            assert_eq!(answer.status, 401, "{what} without credentials");
            assert_error_shape(&what, &answer.body);
        }

        let answer = plain.send(method, &uri, body.clone());
        match tag.as_str() {
            "rooms" | "conferences" | "admin" => {
                assert_eq!(
                    answer.status, 403,
                    "{what} as a plain user: {:?}",
                    answer.body
                );
                assert_error_shape(&what, &answer.body);
            }
            _ => assert!(
                ![401, 403].contains(&answer.status),
                "{what} as a plain user"
            ),
        }

        let answer = stranger.send(method, &uri, body.clone());
        match tag.as_str() {
            "admin" => assert_eq!(answer.status, 403, "{what} as an organiser"),
            "rooms" if path.contains("{number}") => {
                assert_eq!(
                    answer.status, 404,
                    "{what} on someone else's room: {:?}",
                    answer.body
                )
            }
            _ => assert!(
                ![401, 403].contains(&answer.status),
                "{what} as an organiser"
            ),
        }

        if tag == "rooms" && path.contains("{number}") && !path.contains("/shares/") {
            let answer = owner.send(method, &uri, body.clone());
            assert!(
                ![401, 403, 404].contains(&answer.status)
                    || path.contains("{call}")
                    || path.contains("{who}")
                    || path.contains("{token}"),
                "{what} on the organiser's own room: {} {:?}",
                answer.status,
                answer.body
            );
        }

        // Administrators may do everything; on a room that does not exist, so that
        // nothing is deleted here.
        let answer = admin.send(method, &fill(path, "777"), body);
        assert!(
            ![401, 403].contains(&answer.status),
            "{what} as an administrator"
        );
        if answer.status >= 400 {
            assert_error_shape(&what, &answer.body);
        }
    }
}

#[test]
fn login_sets_a_strict_cookie_and_changes_need_the_csrf_token() {
    let server = server();
    let base = server.http_base();
    let anonymous = Client::new(&base, Auth::None);
    let wrong = anonymous.post(
        "/api/v1/session",
        json!({"login": "201", "password": "wrong password"}),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"]["code"], "bad_credentials");
    let malformed = anonymous.post("/api/v1/session", json!({"login": "201"}));
    assert_eq!(malformed.status, 422);
    assert_eq!(malformed.body["error"]["field"], "login");

    let answer = anonymous.post(
        "/api/v1/session",
        json!({"login": "Anna@Example.org", "password": PASSWORD}),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let cookie = answer.set_cookie.unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert_eq!(answer.body["user"]["number"], "201");
    assert_eq!(answer.body["user"]["organiser"], true);

    let anna = Client::login(&base, "201", PASSWORD);
    assert_eq!(
        anna.get("/api/v1/rooms").body[0]["number"],
        "201",
        "own room first"
    );
    let Auth::Session { cookie, csrf } = anna.auth.clone() else {
        unreachable!()
    };
    let forged = Client::new(
        &base,
        Auth::Session {
            cookie: cookie.clone(),
            csrf: "not the token".into(),
        },
    );
    let refused = forged.send("PUT", "/api/v1/rooms/201/pin", Some(json!({"pin": "5555"})));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"]["code"], "csrf");
    assert_eq!(
        forged.get("/api/v1/rooms/201").status,
        200,
        "reading needs no CSRF token"
    );
    let set = anna.send("PUT", "/api/v1/rooms/201/pin", Some(json!({"pin": "5555"})));
    assert_eq!(set.status, 204, "{:?}", set.body);
    assert_eq!(anna.get("/api/v1/session").body["csrf"], csrf);

    let out = anna.send("DELETE", "/api/v1/session", None);
    assert_eq!(out.status, 204);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(anna.get("/api/v1/rooms").status, 401, "the session is gone");
}

#[test]
fn failed_logins_are_throttled_per_account_even_for_the_right_password() {
    let server = server();
    let anonymous = Client::new(&server.http_base(), Auth::None);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = anonymous.post(
            "/api/v1/session",
            json!({"login": "202", "password": "guess"}),
        );
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let right = anonymous.post(
        "/api/v1/session",
        json!({"login": "202", "password": PASSWORD}),
    );
    assert_eq!(right.status, 429, "locked out: {:?}", right.body);
    let wait: u64 = right.retry_after.unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");
    assert_eq!(
        Client::login(&server.http_base(), "201", PASSWORD)
            .get("/api/v1/session")
            .status,
        200,
        "another account is not affected"
    );
}

#[test]
fn sharing_and_withdrawing_rights_take_effect_at_once() {
    let server = server();
    let base = server.http_base();
    let admin = client(&server, "100");
    let bert = Client::login(&base, "202", PASSWORD);
    let rooms: Vec<String> = bert
        .get("/api/v1/rooms")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rooms, ["900"]);
    assert_eq!(bert.get("/api/v1/rooms/800").status, 404);

    assert_eq!(
        admin
            .send("PUT", "/api/v1/rooms/800/shares/202", None)
            .status,
        204
    );
    assert_eq!(bert.get("/api/v1/rooms/800/participants").status, 200);
    assert_eq!(
        bert.get("/api/v1/rooms/800").body["shared_with"],
        json!(["202"])
    );
    assert_eq!(
        admin
            .send("DELETE", "/api/v1/rooms/800/shares/202", None)
            .status,
        204
    );
    assert_eq!(bert.get("/api/v1/rooms/800").status, 404);

    // Only the owner (or an administrator) hands a room on.
    let anna = client(&server, "201");
    let shared = anna.send("PUT", "/api/v1/rooms/201/shares/202", None);
    assert_eq!(shared.status, 204);
    let bert_shares = bert.send("PUT", "/api/v1/rooms/201/shares/203", None);
    assert_eq!(bert_shares.status, 403);

    let demoted = admin.send(
        "PATCH",
        "/api/v1/users/202",
        Some(json!({"organiser": false})),
    );
    assert_eq!(demoted.status, 200, "{:?}", demoted.body);
    assert_eq!(demoted.body["organiser"], false);
    let refused = bert.get("/api/v1/rooms");
    assert_eq!(refused.status, 403, "the session sees the new rights");
    assert_eq!(bert.get("/api/v1/session").body["user"]["organiser"], false);
}

#[test]
fn rooms_pins_phone_book_users_and_tokens_with_good_and_bad_input() {
    let server = server();
    let admin = client(&server, "100");
    let created = admin.post(
        "/api/v1/rooms",
        json!({"number": "810", "name": "Board", "pin": "4711", "language": "de", "owner": "201"}),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["owner"], "201");
    assert_eq!(created.body["pin"], "4711");
    for (body, field, status) in [
        (json!({"number": "810"}), "number", 409),
        (json!({"number": "80 0"}), "number", 422),
        (json!({"number": "811", "pin": "12"}), "pin", 422),
        (json!({"number": "811", "language": "fr"}), "language", 422),
        (json!({"number": "811", "pin": "4711"}), "pin", 409),
        (json!({"name": "no number"}), "number", 422),
        (json!({"number": "c12"}), "number", 422),
    ] {
        let answer = admin.post("/api/v1/rooms", body.clone());
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{body}");
    }
    assert_eq!(
        admin
            .post("/api/v1/rooms", json!({"number": "811", "owner": "999"}))
            .status,
        404
    );
    let anna = client(&server, "201");
    let patched = anna.send(
        "PATCH",
        "/api/v1/rooms/810",
        Some(json!({"name": null, "language": "en"})),
    );
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["name"], Value::Null);
    assert_eq!(patched.body["language"], "en");
    let owner_change = anna.send("PATCH", "/api/v1/rooms/810", Some(json!({"owner": "202"})));
    assert_eq!(owner_change.status, 403, "only administrators move rooms");
    assert_eq!(
        anna.send("PUT", "/api/v1/rooms/810/pin", Some(json!({"pin": "abc"})))
            .status,
        422
    );
    assert_eq!(
        anna.send("DELETE", "/api/v1/rooms/810/pin", None).status,
        204
    );
    assert_eq!(anna.get("/api/v1/rooms/810").body["pin"], Value::Null);
    assert_eq!(anna.send("DELETE", "/api/v1/rooms/810", None).status, 403);
    assert_eq!(admin.send("DELETE", "/api/v1/rooms/810", None).status, 204);
    assert_eq!(admin.get("/api/v1/rooms/810").status, 404);

    // Phone book: add, search (autocomplete), import with its report.
    let added = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Müller, Jörg", "number": "+41 44 123 45 67"}),
    );
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(added.body["number"], "+41441234567");
    let bad = admin.post("/api/v1/phonebook", json!({"name": "X", "number": "hello"}));
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (422, Some("numbers"))
    );
    let twice = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Y", "number": "+41441234567"}),
    );
    assert_eq!(twice.status, 409);
    let found = anna.get("/api/v1/phonebook?q=m%C3%BCl");
    assert_eq!(found.status, 200);
    assert_eq!(found.body[0]["name"], "Müller, Jörg");
    assert_eq!(anna.get("/api/v1/phonebook?limit=0").status, 422);
    let csv = "Name,Phone\nErika Muster,+49 30 1234567\nNo Number,\n,+49 30 7654321\n";
    let report = admin.raw(
        "POST",
        "/api/v1/phonebook/import",
        Some(csv.as_bytes().to_vec()),
        "text/csv",
    );
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["added"], 1);
    let lines: Vec<u64> = report.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4], "{:?}", report.body);
    let id = added.body["id"].as_i64().unwrap();
    assert_eq!(
        anna.send("DELETE", &format!("/api/v1/phonebook/{id}"), None)
            .status,
        403
    );
    assert_eq!(
        admin
            .send("DELETE", &format!("/api/v1/phonebook/{id}"), None)
            .status,
        204
    );

    // Users.
    let user = admin.post(
        "/api/v1/users",
        json!({"number": "204", "name": "Dora", "email": "dora@example.org", "password": "long enough", "organiser": true}),
    );
    assert_eq!(user.status, 201, "{:?}", user.body);
    for (body, field, status) in [
        (
            json!({"number": "204", "name": "D", "password": "long enough"}),
            "number",
            409,
        ),
        (
            json!({"number": "205", "name": "D", "password": "short"}),
            "password",
            422,
        ),
        (
            json!({"number": "205", "name": "D", "password": "long enough", "email": "no"}),
            "email",
            422,
        ),
        (
            json!({"number": "2 5", "name": "D", "password": "long enough"}),
            "number",
            422,
        ),
        (
            json!({"number": "205", "name": "D", "password": "long enough", "email": "DORA@example.org"}),
            "email",
            409,
        ),
    ] {
        let answer = admin.post("/api/v1/users", body.clone());
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{body}");
    }
    let dora = Client::login(&server.http_base(), "dora@example.org", "long enough");
    let changed = admin.send(
        "PATCH",
        "/api/v1/users/204",
        Some(json!({"password": "another one"})),
    );
    assert_eq!(changed.status, 200);
    assert_eq!(
        dora.get("/api/v1/session").status,
        401,
        "a new password ends sessions"
    );
    Client::login(&server.http_base(), "204", "another one");
    let me = Client::login(&server.http_base(), "100", PASSWORD);
    assert_eq!(
        me.send("PATCH", "/api/v1/users/100", Some(json!({"admin": false})))
            .status,
        409
    );
    assert_eq!(admin.send("DELETE", "/api/v1/users/204", None).status, 204);
    assert_eq!(admin.send("DELETE", "/api/v1/users/204", None).status, 404);

    // Tokens: created once, listed without the secret, revoked for good.
    let carla = Client::login(&server.http_base(), "203", PASSWORD);
    let made = carla.post("/api/v1/tokens", json!({"name": "report"}));
    assert_eq!(made.status, 201, "{:?}", made.body);
    let secret = made.body["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kfz_"));
    let listed = carla.get("/api/v1/tokens");
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(!listed.body.to_string().contains(&secret));
    let scripted = Client::new(&server.http_base(), Auth::Bearer(secret.clone()));
    assert_eq!(
        scripted.get("/api/v1/session").body["user"]["number"],
        "203"
    );
    assert_eq!(
        carla.post("/api/v1/tokens", json!({"name": ""})).status,
        422
    );
    let id = made.body["id"].as_i64().unwrap();
    assert_eq!(
        anna.send("DELETE", &format!("/api/v1/tokens/{id}"), None)
            .status,
        404,
        "not hers"
    );
    assert_eq!(
        carla
            .send("DELETE", &format!("/api/v1/tokens/{id}"), None)
            .status,
        204
    );
    assert_eq!(scripted.get("/api/v1/session").status, 401);
    let listed = server.cli(&["token", "list"]);
    assert!(listed.contains("test"), "{listed}");
}

#[test]
fn the_cli_acts_as_the_local_administrator_and_nobody_else_gets_in() {
    let server = server();
    assert_eq!(
        server.cli(&["participants", "--room", "800"]),
        "no participants\n"
    );
    let file = server.dir().join("admin-token");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let stale = Client::new(&server.http_base(), Auth::Bearer("kfz_local_guess".into()));
    assert_eq!(stale.get("/api/v1/rooms").status, 401);
    let local = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    assert_eq!(local.get("/api/v1/session").body["user"]["admin"], true);
    // The old unversioned paths are gone; metrics are not on the API port.
    assert_eq!(local.get("/api/rooms").status, 404);
    assert_eq!(
        Client::new(&server.http_base(), Auth::None)
            .get("/metrics")
            .status,
        404
    );
    assert_eq!(
        Client::new(&server.http_base(), Auth::None)
            .get("/healthz")
            .status,
        200
    );
}

#[test]
fn the_openapi_document_passes_a_maintained_validator() {
    let server = Server::start();
    let doc = Client::new(&server.http_base(), Auth::None).get("/api/v1/openapi.json");
    let file = server.dir().join("openapi.json");
    std::fs::write(&file, doc.body.to_string()).unwrap();
    // PyPI openapi-spec-validator, installed by scripts/test.
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "openapi-spec-validator: {text}");
    assert!(text.contains("OK"), "{text}");
}

#[test]
fn controls_music_history_and_events_check_their_input() {
    let server = server();
    let anna = client(&server, "201");
    for (path, body, field) in [
        ("/api/v1/rooms/201/lock", json!({"locked": "yes"}), "locked"),
        ("/api/v1/rooms/201/mute", json!({"except": 3}), "muted"),
        (
            "/api/v1/rooms/201/invitations",
            json!({"number": "555"}),
            "numbers",
        ),
        ("/api/v1/calls/1/mute", json!({}), "muted"),
    ] {
        let answer = anna.post(path, body.clone());
        // The call of the last one does not exist: 404 comes before the body is read.
        if path.starts_with("/api/v1/calls/") {
            assert_eq!(answer.status, 404, "{path}");
            continue;
        }
        assert_eq!(answer.status, 422, "{path} {body}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{path}");
    }
    // Well-formed, but no conference is running.
    let lock = anna.post("/api/v1/rooms/201/lock", json!({"locked": true}));
    assert_eq!(
        (lock.status, lock.body["error"]["code"].as_str()),
        (409, Some("no_conference"))
    );
    let muted = anna.post("/api/v1/rooms/201/mute", json!({"muted": true}));
    assert_eq!(muted.status, 200, "{:?}", muted.body);
    assert_eq!(muted.body, json!({"calls": []}));
    assert_eq!(
        anna.get("/api/v1/rooms/201").body["muted"],
        true,
        "kept with the room"
    );

    assert_eq!(anna.get("/api/v1/rooms/201/history?limit=0").status, 422);
    assert_eq!(anna.get("/api/v1/rooms/201/history?before=x").status, 422);
    assert_eq!(
        anna.get("/api/v1/rooms/201/history?limit=5").body,
        json!([])
    );
    assert_eq!(anna.get("/api/v1/events?since=x").status, 422);
    let stream = anna.get("/api/v1/events?room=201");
    assert_eq!(stream.status, 200);
    assert_eq!(
        anna.get("/api/v1/events?room=800").status,
        404,
        "not her room"
    );
    assert_eq!(anna.get("/api/v1/rooms/201/blocks").body, json!([]));
    assert_eq!(anna.get("/api/v1/rooms/201/links").body, json!([]));
    assert_eq!(
        anna.send("DELETE", "/api/v1/rooms/201/blocks/nobody", None)
            .status,
        404
    );

    // On-hold music: a real WAV is kept, anything else refused.
    let mut wav = std::io::Cursor::new(Vec::new());
    {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(&mut wav, spec).unwrap();
        for n in 0..8000 {
            let sample = (f64::from(n) * 440.0 * std::f64::consts::TAU / 8000.0).sin();
            writer.write_sample((sample * 8000.0) as i16).unwrap();
        }
        writer.finalize().unwrap();
    }
    let garbage = anna.raw(
        "PUT",
        "/api/v1/rooms/201/music",
        Some(b"not a wav".to_vec()),
        "audio/wav",
    );
    assert_eq!(
        (garbage.status, garbage.body["error"]["field"].as_str()),
        (422, Some("body"))
    );
    let stored = anna.raw(
        "PUT",
        "/api/v1/rooms/201/music",
        Some(wav.into_inner()),
        "audio/wav",
    );
    assert_eq!(stored.status, 204, "{:?}", stored.body);
    assert_eq!(anna.get("/api/v1/rooms/201").body["has_music"], true);
    assert!(server.dir().join("music/room-201.wav").is_file());
    assert_eq!(
        anna.send("DELETE", "/api/v1/rooms/201/music", None).status,
        204
    );
    assert_eq!(anna.get("/api/v1/rooms/201").body["has_music"], false);
}

#[test]
fn the_account_keeps_its_zone_and_language_and_changes_its_password() {
    let server = server();
    let base = server.http_base();
    let anna = Client::login(&base, "201", PASSWORD);
    let other_browser = Client::login(&base, "201", PASSWORD);
    let fresh = anna.get("/api/v1/account");
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["number"], "201");
    assert_eq!(fresh.body["time_zone"], Value::Null);
    assert_eq!(fresh.body["language"], Value::Null);
    let server_zone = fresh.body["default_time_zone"].as_str().unwrap().to_owned();
    assert_eq!(
        anna.get("/api/v1/conferences/defaults").body["time_zone"],
        server_zone.as_str(),
        "without a choice the form starts in the server's zone"
    );

    for (body, field) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"language": "fr"}), "language"),
        (json!({"zone": "Europe/Berlin"}), "time_zone"),
    ] {
        let refused = anna.send("PUT", "/api/v1/account", Some(body.clone()));
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        assert_eq!(refused.body["error"]["field"], field, "{body}");
    }
    let saved = anna.send(
        "PUT",
        "/api/v1/account",
        Some(json!({"time_zone": "America/New_York", "language": "de"})),
    );
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["time_zone"], "America/New_York");
    let read = other_browser.get("/api/v1/account");
    assert_eq!(read.body["time_zone"], "America/New_York");
    assert_eq!(read.body["language"], "de");
    assert_eq!(
        anna.get("/api/v1/conferences/defaults").body["time_zone"],
        "America/New_York"
    );
    assert_eq!(
        client(&server, "100").get("/api/v1/account").body["time_zone"],
        Value::Null,
        "settings are per user"
    );

    let change = |current: &str, new: &str| {
        anna.send(
            "PUT",
            "/api/v1/account/password",
            Some(json!({"current_password": current, "new_password": new})),
        )
    };
    let wrong = change("not it", "a new secret 2");
    assert_eq!(wrong.status, 422, "{:?}", wrong.body);
    assert_eq!(wrong.body["error"]["field"], "current_password");
    let short = change(PASSWORD, "short");
    assert_eq!(short.status, 422);
    assert_eq!(short.body["error"]["field"], "new_password");
    assert_eq!(change(PASSWORD, "a new secret 2").status, 204);
    assert_eq!(
        anna.get("/api/v1/account").status,
        200,
        "the session that changed it stays"
    );
    assert_eq!(
        other_browser.get("/api/v1/account").status,
        401,
        "other sessions end"
    );
    let anonymous = Client::new(&base, Auth::None);
    let old = anonymous.post(
        "/api/v1/session",
        json!({"login": "201", "password": PASSWORD}),
    );
    assert_eq!(old.status, 401);
    Client::login(&base, "201", "a new secret 2");

    let local = Client::new(&base, Auth::Bearer(server.admin_token()));
    assert_eq!(local.get("/api/v1/account").status, 403);
}

#[test]
fn invitations_per_user_per_hour_are_limited() {
    let server = Server::start_with(
        &ServerOptions::default()
            .room("201")
            .room("202")
            .config("[limits]\ninvitations_per_user_per_hour = 3"),
    );
    for number in ["201", "202"] {
        server.cli(&[
            "user",
            "add",
            "--number",
            number,
            "--name",
            number,
            "--password",
            PASSWORD,
            "--organiser",
        ]);
    }
    let anna = client(&server, "201");
    let invite = |api: &Client, room: &str, numbers: &[&str]| {
        api.post(
            &format!("/api/v1/rooms/{room}/invitations"),
            json!({ "numbers": numbers }),
        )
    };
    let first = invite(&anna, "201", &["301", "302"]);
    assert_ne!(first.status, 429, "{:?}", first.body);
    let over = invite(&anna, "201", &["303", "304"]);
    assert_eq!(over.status, 429, "{:?}", over.body);
    assert_eq!(over.body["error"]["code"], "quota");
    let wait: u64 = over.retry_after.unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    let one_more = invite(&anna, "201", &["303"]);
    assert_ne!(one_more.status, 429, "all or nothing: one still fits");
    assert_eq!(invite(&anna, "201", &["304"]).status, 429);
    let bert = client(&server, "202");
    assert_ne!(
        invite(&bert, "202", &["305"]).status,
        429,
        "another user has their own quota"
    );
}

#[test]
fn the_audit_log_records_logins_changes_and_who_made_them() {
    let server = server();
    let anonymous = Client::new(&server.http_base(), Auth::None);
    let failed = anonymous.post(
        "/api/v1/session",
        json!({"login": "100", "password": "not the password"}),
    );
    assert_eq!(failed.status, 401);
    let ada = Client::login(&server.http_base(), "100", PASSWORD);
    let changed = ada.send(
        "PATCH",
        "/api/v1/users/203",
        Some(json!({"name": "Carla Plain-Meier"})),
    );
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    let refused = ada.send("PATCH", "/api/v1/users/999", Some(json!({"name": "x"})));
    assert_eq!(refused.status, 404);
    assert_eq!(
        client(&server, "203").get("/api/v1/audit").status,
        403,
        "administrators only"
    );

    let log = ada.get("/api/v1/audit").body;
    let entries = log.as_array().unwrap();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action);
    let failed = find("login.failed").expect("failed login recorded");
    assert_eq!(failed["actor"], "100");
    assert_eq!(failed["source"], "127.0.0.1");
    assert!(find("login").is_some_and(|e| e["actor"] == "100"));
    let change = find("PATCH /api/v1/users/{number}").expect("the change recorded");
    assert_eq!(change["actor"], "100");
    assert_eq!(change["subject"], "/api/v1/users/203");
    assert!(
        !entries.iter().any(|e| e["subject"] == "/api/v1/users/999"),
        "a refused request changed nothing and is not recorded"
    );
    // The share made by the local administrator's token while setting up.
    assert!(entries.iter().any(|e| e["actor"] == "local administrator"
        || e["action"] == "PUT /api/v1/rooms/{number}/shares/{user}"));
    let logins = ada.get("/api/v1/audit?action=login").body;
    assert!(
        logins
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("login")),
        "{logins}"
    );
    let older = ada
        .get(&format!(
            "/api/v1/audit?before={}&limit=1",
            entries[0]["id"]
        ))
        .body;
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["id"], entries[1]["id"]);
    // Nothing secret in it.
    assert!(!log.to_string().contains(PASSWORD));
}
