//! The browser-join endpoints on the real server: `POST/DELETE /api/v1/rooms/{n}/browser`
//! and `/api/v1/links/{token}/browser` — each role (no credentials, a plain user, an
//! organiser), bad bodies named by field, a real WebRTC offer (made by str0m as a browser
//! would) answered ICE-lite on the configured port, the participant listed under the
//! user's number, reconnect and leave by owner only.

mod support;

use std::time::Instant;

use serde_json::json;
use str0m::media::{Direction, MediaKind};
use support::api::{Auth, Client, token};
use support::{Server, ServerOptions};

/// An audio offer as a browser makes it (str0m as the offering side).
fn offer() -> String {
    let mut rtc = str0m::Rtc::builder().build(Instant::now());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let (offer, _pending) = change.apply().expect("an offer");
    offer.to_sdp_string()
}

fn connected(api: &Client, call: u64) -> Option<String> {
    let r = api.get("/api/v1/rooms/800/participants");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body.as_array()?.iter().find_map(|p| {
        (p["call"].as_u64() == Some(call) && p["state"] == "connected")
            .then(|| p["number"].as_str().unwrap_or_default().to_owned())
    })
}

#[test]
fn browser_join_checks_roles_and_input_and_answers_a_real_offer() {
    let server = Server::start_with(&ServerOptions::default().room("800"));
    for (number, flags) in [
        ("201", vec!["--organiser"]),
        ("202", vec![]),
        ("203", vec!["--organiser"]),
    ] {
        let mut args = vec![
            "user",
            "add",
            "--number",
            number,
            "--name",
            number,
            "--password",
            "pw-123456",
        ];
        args.extend(flags);
        server.cli(&args);
    }
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    assert_eq!(
        admin
            .send("PUT", "/api/v1/rooms/800/shares/201", None)
            .status,
        204
    );
    let anna = Client::new(&server.http_base(), Auth::Bearer(token(&server, "201")));
    let plain = Client::new(&server.http_base(), Auth::Bearer(token(&server, "202")));
    let other = Client::new(&server.http_base(), Auth::Bearer(token(&server, "203")));
    let nobody = Client::new(&server.http_base(), Auth::None);
    let sdp = offer();

    // Roles.
    let r = nobody.post("/api/v1/rooms/800/browser", json!({"sdp": sdp}));
    assert_eq!(r.status, 401, "{:?}", r.body);
    let r = plain.post("/api/v1/rooms/800/browser", json!({"sdp": sdp}));
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = other.post("/api/v1/rooms/800/browser", json!({"sdp": sdp}));
    assert!(
        matches!(r.status, 403 | 404),
        "not 203's room: {:?}",
        r.body
    );
    let r = anna.post("/api/v1/rooms/999/browser", json!({"sdp": sdp}));
    assert_eq!(r.status, 404, "{:?}", r.body);

    // Bad input: named by field, nothing joins.
    for body in [
        json!({}),
        json!({"sdp": 5}),
        json!({"sdp": "hello"}),
        json!({"sdp": "v=0\r\nbroken"}),
    ] {
        let r = anna.post("/api/v1/rooms/800/browser", body.clone());
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
        assert_eq!(r.body["error"]["field"], "sdp", "{body}: {:?}", r.body);
    }
    let r = anna.post("/api/v1/rooms/800/browser", json!({"sdp": sdp, "call": 77}));
    assert_eq!(
        r.status, 404,
        "a reconnect of a call that does not exist: {:?}",
        r.body
    );

    // A real offer: an ICE-lite answer with our one candidate; listed as 201.
    let r = anna.post("/api/v1/rooms/800/browser", json!({"sdp": sdp}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    let call = r.body["call"].as_u64().expect("call id");
    let answer = r.body["sdp"].as_str().expect("answer").to_owned();
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(answer.contains("opus/48000/2"), "{answer}");
    assert!(answer.contains("typ host"), "{answer}");
    assert!(!answer.contains("PCMU"), "browsers get Opus only: {answer}");
    assert_eq!(connected(&admin, call).as_deref(), Some("201"));

    // Reconnect: only its owner, same call.
    let r = other.post(
        "/api/v1/rooms/800/browser",
        json!({"sdp": offer(), "call": call}),
    );
    assert!(matches!(r.status, 403 | 404), "{:?}", r.body);
    let r = anna.post(
        "/api/v1/rooms/800/browser",
        json!({"sdp": offer(), "call": call}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["call"].as_u64(), Some(call));
    assert_eq!(connected(&admin, call).as_deref(), Some("201"));

    // Leave: only its owner.
    let path = format!("/api/v1/rooms/800/browser/{call}");
    assert_eq!(nobody.send("DELETE", &path, None).status, 401);
    assert_eq!(
        anna.send("DELETE", "/api/v1/rooms/800/browser/12345", None)
            .status,
        404
    );
    let r = anna.send("DELETE", &path, None);
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(connected(&admin, call), None);
    let r = anna.post(
        "/api/v1/rooms/800/browser",
        json!({"sdp": offer(), "call": call}),
    );
    assert_eq!(
        r.status, 404,
        "a call that left cannot reconnect: {:?}",
        r.body
    );

    // A moderator mutes the browser participant, then hangs it up and blocks its user:
    // it is a participant like any other.
    let r = anna.post("/api/v1/rooms/800/browser", json!({"sdp": offer()}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    let call = r.body["call"].as_u64().expect("call id");
    // Muting waits for the room to have it past the welcome (409 `not_in_room` until then).
    let mut r = admin.post(
        &format!("/api/v1/rooms/800/calls/{call}/mute"),
        json!({"muted": true}),
    );
    for _ in 0..100 {
        if r.status != 409 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        r = admin.post(
            &format!("/api/v1/rooms/800/calls/{call}/mute"),
            json!({"muted": true}),
        );
    }
    assert_eq!(r.status, 204, "{:?}", r.body);
    let muted = admin.get("/api/v1/rooms/800/participants");
    assert!(
        muted
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["call"].as_u64() == Some(call) && p["muted"] == true),
        "{:?}",
        muted.body
    );
    let r = admin.post(
        &format!("/api/v1/calls/{call}/hangup"),
        json!({"block": true}),
    );
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(connected(&admin, call), None);
    let r = anna.post("/api/v1/rooms/800/browser", json!({"sdp": offer()}));
    assert_eq!(
        r.status, 403,
        "a blocked user cannot join again: {:?}",
        r.body
    );
    // …and it is in the room's history like any call.
    let found = (0..50).any(|_| {
        let history = admin.get("/api/v1/rooms/800/history");
        assert_eq!(history.status, 200, "{:?}", history.body);
        let text = history.body.to_string();
        if text.contains(&format!("\"call\":{call}")) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        false
    });
    assert!(found, "the browser call is in the history");

    // Personal links: unknown tokens are 404, bad bodies 422 once the link is known.
    let r = nobody.post("/api/v1/links/not-a-token/browser", json!({"sdp": sdp}));
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = nobody.send("DELETE", "/api/v1/links/not-a-token/browser/1", None);
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert!(
        !server.log_tail(400).contains("a=fingerprint"),
        "SDP is not logged"
    );
}
