//! Participant timelines outlive a restart: a caller's states are in the database, so
//! after the server restarts the room's participant list still shows the call (ended as
//! "left" by the shutdown's BYE) with its events, and new calls get new ids.

mod support;

use std::time::Duration;

use support::{Phone, PhoneConfig, Server, poll_until};

const SETUP: Duration = Duration::from_secs(10);

fn participants_json(server: &Server) -> serde_json::Value {
    let out = server.get("/api/v1/rooms/800/participants");
    serde_json::from_str(&out).expect("participants JSON")
}

#[test]
fn timelines_are_kept_across_a_restart() {
    let mut server = Server::start();
    let mut phone = Phone::start(PhoneConfig::new("anna", 790.0));
    phone.dial(&server.uri("800"));
    phone.wait_established(SETUP);
    let first = poll_until(SETUP, || {
        let list = participants_json(&server);
        list.as_array()?
            .iter()
            .find(|p| p["state"] == "connected")
            .and_then(|p| p["call"].as_u64())
    })
    .expect("the caller is listed as connected");

    server.restart();
    phone.wait_closed(SETUP);
    let list = participants_json(&server);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["call"].as_u64() == Some(first))
        .unwrap_or_else(|| panic!("call {first} is gone after the restart: {list}"));
    assert_eq!(entry["state"], "left", "{entry}");
    let states: Vec<&str> = entry["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["state"].as_str())
        .collect();
    assert_eq!(states, ["connected", "left"], "{entry}");

    phone.dial(&server.uri("800"));
    phone.wait_established(SETUP);
    let second = poll_until(SETUP, || {
        participants_json(&server)
            .as_array()?
            .iter()
            .find(|p| p["state"] == "connected")
            .and_then(|p| p["call"].as_u64())
    })
    .expect("the new call is listed");
    assert!(
        second > first,
        "call ids continue after a restart: {first} then {second}"
    );
    phone.quit();
}
