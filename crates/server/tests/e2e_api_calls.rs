//! The API with real phones: an organiser invites several numbers at once (each gets a
//! personal link), the participant list names them and follows the event stream, hang up
//! and block, re-dial; an invitee's link page and "Call me" (refused once blocked or
//! revoked); "Dial in" rings the user's registered phone, or — none registered — calls
//! their internal number through the trunk.

mod support;

use std::time::Duration;

use serde_json::json;
use support::api::{Auth, Client, add_users};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(10);
/// No spaces: baresip takes it into its account line.
const PASSWORD: &str = "correct-horse-1";

/// The server with a trunk to `phone` (every number dialled reaches it: baresip answers
/// only its own user, so the number travels in a URI parameter) and organiser 201.
fn server_calling(phone: &Phone, name: &str) -> Server {
    let config = format!(
        "[trunk]\nuri = \"sip:{name}@127.0.0.1:{};dialled={{number}}\"\nring_timeout_secs = 20\n\
         [dialin]\nexternal_number = \"+41 44 123 45 67\"\n",
        phone.sip_port
    );
    let server = Server::start_with(
        &ServerOptions::default()
            .room_with_pin("800", "4711")
            .room("201")
            .config(&config),
    );
    add_users(
        &server,
        PASSWORD,
        &[("201", "Anna Müller", &["--organiser"])],
    );
    server
}

/// Waits until the room lists `number` in `state`; returns that entry.
fn wait_state(api: &Client, number: &str, state: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let found = poll_until(SETUP, || {
        last = api.get("/api/v1/rooms/800/participants").body;
        last.as_array()?
            .iter()
            .rev()
            .find(|p| p["number"] == number && p["state"] == state)
            .cloned()
    });
    found.unwrap_or_else(|| panic!("{number} never {state}; last: {last}"))
}

#[test]
fn invitations_links_and_call_me_with_a_real_phone() {
    let mut phone = Phone::start(PhoneConfig::new("inv", 1190.0).auto_answer());
    let server = server_calling(&phone, "inv");
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    let added = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Jörg Invitee", "number": "+41 44 555 12 12"}),
    );
    assert_eq!(added.status, 201, "{:?}", added.body);
    let shared = admin.send("PUT", "/api/v1/rooms/800/shares/201", None);
    assert_eq!(shared.status, 204);
    let anna = Client::login(&server.http_base(), "201", PASSWORD);

    let bad = anna.post(
        "/api/v1/rooms/800/invitations",
        json!({"numbers": ["ok", "no spaces"]}),
    );
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (422, Some("numbers"))
    );
    assert_eq!(
        anna.post("/api/v1/rooms/800/invitations", json!({"numbers": []}))
            .status,
        422
    );

    let answer = anna.post(
        "/api/v1/rooms/800/invitations",
        json!({"numbers": ["+41445551212"]}),
    );
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let invitation = &answer.body["invitations"][0];
    assert_eq!(invitation["state"], "calling");
    let link = invitation["link"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/j/", server.http_base())),
        "{link}"
    );
    phone.wait_established(SETUP);
    let entry = wait_state(&anna, "+41445551212", "connected");
    assert_eq!(entry["name"], "Jörg Invitee", "named from the phone book");
    assert_eq!(entry["link"], link);
    assert_eq!(entry["invited"], true);

    // The link page, without logging in.
    let token = link.rsplit('/').next().unwrap().to_owned();
    let guest = Client::new(&server.http_base(), Auth::None);
    let page = guest.get(&format!("/api/v1/links/{token}"));
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert_eq!(page.body["pin"], "4711");
    assert_eq!(page.body["dial_in_number"], "+41 44 123 45 67");
    assert_eq!(page.body["number"], "+41445551212");
    assert_eq!(guest.get("/api/v1/links/not-a-token").status, 404);

    // Hang up and block: the link stops working.
    let call = entry["call"].as_u64().unwrap();
    let hung = anna.post(
        &format!("/api/v1/rooms/800/calls/{call}/hangup"),
        json!({"block": true}),
    );
    assert_eq!(hung.status, 204, "{:?}", hung.body);
    phone.wait_closed(SETUP);
    wait_state(&anna, "+41445551212", "left");
    assert_eq!(guest.get(&format!("/api/v1/links/{token}")).status, 403);
    let refused = guest.post(
        &format!("/api/v1/links/{token}/call"),
        json!({"number": "555"}),
    );
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let blocked = anna.get("/api/v1/rooms/800/blocks");
    assert_eq!(blocked.body[0]["who"], "+41445551212");
    let unblocked = anna.send("DELETE", "/api/v1/rooms/800/blocks/%2B41445551212", None);
    assert_eq!(unblocked.status, 204, "{:?}", unblocked.body);

    // Re-dial the finished invitation: a new call, the phone answers again.
    let redial = anna.post(&format!("/api/v1/rooms/800/calls/{call}/redial"), json!({}));
    assert_eq!(redial.status, 202, "{:?}", redial.body);
    assert_ne!(redial.body["call"].as_u64().unwrap(), call);
    phone.wait_established(SETUP);
    let again = wait_state(&anna, "+41445551212", "connected");
    let again = again["call"].as_u64().unwrap();
    let busy = anna.post(
        &format!("/api/v1/rooms/800/calls/{again}/redial"),
        json!({}),
    );
    assert_eq!(busy.status, 409, "still connected");
    assert_eq!(
        anna.post(
            &format!("/api/v1/rooms/800/calls/{again}/hangup"),
            json!({})
        )
        .status,
        204
    );
    phone.wait_closed(SETUP);

    // "Call me" from the link page brings the phone in; the limit is 3 per link.
    let called = guest.post(
        &format!("/api/v1/links/{token}/call"),
        json!({"number": "777"}),
    );
    assert_eq!(called.status, 202, "{:?}", called.body);
    phone.wait_established(SETUP);
    wait_state(&anna, "777", "connected");
    for _ in 0..2 {
        guest.post(
            &format!("/api/v1/links/{token}/call"),
            json!({"number": "x y"}),
        );
    }
    let limited = guest.post(
        &format!("/api/v1/links/{token}/call"),
        json!({"number": "778"}),
    );
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert!(limited.retry_after.is_some());

    // Revoked: the page says the link is no longer valid.
    let revoked = anna.send("DELETE", &format!("/api/v1/rooms/800/links/{token}"), None);
    assert_eq!(revoked.status, 204);
    assert_eq!(guest.get(&format!("/api/v1/links/{token}")).status, 404);
    assert_eq!(anna.post("/api/v1/rooms/800/end", json!({})).status, 204);
    phone.wait_closed(SETUP);
    phone.quit();
}

#[test]
fn dial_in_rings_the_users_registered_phone() {
    let mut trunk_phone = Phone::start(PhoneConfig::new("trunk", 600.0).auto_answer());
    let server = server_calling(&trunk_phone, "trunk");
    let mut own = Phone::start(
        PhoneConfig::new("201", 900.0)
            .auto_answer()
            .register_at(server.sip_port, PASSWORD),
    );
    let registered = poll_until(SETUP, || {
        server.log_text().contains("phone registered").then_some(())
    });
    assert!(registered.is_some(), "{}", server.log_tail(30));
    let anna = Client::login(&server.http_base(), "201", PASSWORD);
    let rooms = anna.get("/api/v1/rooms");
    assert_eq!(
        rooms.body[0]["number"], "201",
        "her own room, first: {:?}",
        rooms.body
    );
    let answer = anna.post("/api/v1/rooms/201/dial-in", json!({}));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["number"], "201");
    own.wait_established(SETUP);
    let call = answer.body["call"].as_u64().unwrap();
    let entry = poll_until(SETUP, || {
        let list = anna.get("/api/v1/rooms/201/participants").body;
        list.as_array()?
            .iter()
            .find(|p| p["call"] == call && p["state"] == "connected")
            .cloned()
    })
    .expect("connected");
    assert_eq!(entry["name"], "Anna Müller");
    assert!(
        trunk_phone
            .wait_event(&["CALL_INCOMING"], Duration::from_millis(500))
            .is_err(),
        "the registered phone was called, not the trunk"
    );
    assert_eq!(anna.post("/api/v1/rooms/201/end", json!({})).status, 204);
    own.wait_closed(SETUP);
    own.quit();
    trunk_phone.quit();
}

/// "Dial in" for a user whose phone is not registered here: the server calls their
/// internal number through the trunk (`trunk.internal_uri`, as `trunk.internal_numbers`
/// says 201 is internal; the external template leads nowhere); the phone there answers and
/// is in the room under the user's number and name.
#[test]
fn dial_in_without_a_registered_phone_calls_the_users_number_through_the_trunk() {
    let mut pbx_phone = Phone::start(PhoneConfig::new("pbx", 750.0).auto_answer());
    let config = format!(
        "[trunk]\nuri = \"sip:outside@127.0.0.1:9;dialled={{number}}\"\n\
         internal_numbers = \"^2[0-9]{{2}}$\"\n\
         internal_uri = \"sip:pbx@127.0.0.1:{};internal={{number}}\"\n\
         ring_timeout_secs = 20\n",
        pbx_phone.sip_port
    );
    let server = Server::start_with(&ServerOptions::default().room("201").config(&config));
    add_users(
        &server,
        PASSWORD,
        &[("201", "Anna Müller", &["--organiser"])],
    );
    let anna = Client::login(&server.http_base(), "201", PASSWORD);
    assert!(
        !server.log_text().contains("phone registered"),
        "no phone of hers is registered"
    );
    let answer = anna.post("/api/v1/rooms/201/dial-in", json!({}));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["number"], "201");
    let call = answer.body["call"].as_u64().unwrap();
    pbx_phone.wait_established(SETUP);
    let mut last = serde_json::Value::Null;
    let entry = poll_until(SETUP, || {
        last = anna.get("/api/v1/rooms/201/participants").body;
        last.as_array()?
            .iter()
            .find(|p| p["call"] == call && p["state"] == "connected")
            .cloned()
    })
    .unwrap_or_else(|| panic!("call {call} never connected; last: {last}"));
    assert_eq!(entry["number"], "201");
    assert_eq!(entry["name"], "Anna Müller");
    assert_eq!(anna.post("/api/v1/rooms/201/end", json!({})).status, 204);
    pbx_phone.wait_closed(SETUP);
    pbx_phone.quit();
}
