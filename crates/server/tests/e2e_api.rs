//! The API's operations on the real server: every operation in the OpenAPI document
//! answers each role as its tag says (no credentials 401, wrong role 403, someone else's
//! room 404); sharing and demotion take effect at once; rooms, PINs, phone book, users and
//! tokens, controls, music, history and events with good and bad input; the invitation
//! quota; the document passes a validator. Accounts, logins and sessions are in
//! `e2e_api_account.rs`, the audit log in `e2e_api_audit.rs`, error answers in
//! `e2e_api_errors.rs`.

mod support;

use serde_json::{Value, json};
use support::api::{Auth, Client, PASSWORD, client, roles_server as server};
use support::{Server, ServerOptions};

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
