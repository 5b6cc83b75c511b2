//! A scheduled conference's PIN with a real phone at the shared number: before the window
//! the caller hears "this conference starts at HH:MM" (the start in Zurich time) and is hung
//! up; inside it the caller joins; at the start the server calls the invitee who asked for
//! "call at start"; one minute before the end the room hears the warning;
//! when the window closes the call gets a BYE; afterwards the PIN says "has ended".
//! The conference is scheduled through the API (1 minute dial-in, 1 minute long, no grace),
//! so this test takes a little over two minutes of real time.

mod support;

use std::time::Duration;

use serde_json::json;
use support::api::{Auth, Client};
use support::pin::{PROMPT_TIME, dial_established, wait_joined};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(10);

/// Sleeps until `t` (wall clock).
fn sleep_until(t: jiff::Timestamp) {
    let left = t - jiff::Timestamp::now();
    if left.is_positive() {
        std::thread::sleep(Duration::from_millis(left.as_millis() as u64));
    }
}

#[test]
fn the_pin_works_only_inside_its_window_and_the_window_closes_the_conference() {
    // The invitee's phone: the SIP user `guest` on its own port, the "number" is the port.
    let mut invitee = Phone::start(PhoneConfig::new("guest", 1190.0).auto_answer());
    let config = "[dialin]\nshared_numbers = [\"8000\"]\nexternal_number = \"+41 44 123 45 67\"\n\
                  [schedule]\ngrace_minutes = 0\n[trunk]\nuri = \"sip:guest@127.0.0.1:{number}\"\n";
    let server = Server::start_with(&ServerOptions::default().config(config));
    server.cli(&[
        "user",
        "add",
        "--number",
        "201",
        "--name",
        "Anna",
        "--email",
        "anna@example.org",
        "--password",
        "long enough",
        "--organiser",
    ]);
    let token = server.cli(&["token", "create", "--user", "201"]);
    let anna = Client::new(&server.http_base(), Auth::Bearer(token.trim().to_owned()));
    // Whole seconds, 75 s ahead: the PIN works from 15 s ahead until 135 s ahead.
    let now = jiff::Timestamp::now();
    let start = jiff::Timestamp::from_second(now.as_second() + 75).unwrap();
    let created = anna.post(
        "/api/v1/conferences",
        json!({
            "title": "Stand-up", "description": "PIN <pin>", "location": "Phone",
            "start": start.to_string(), "time_zone": "Europe/Zurich",
            "duration_minutes": 1, "dial_in_minutes_before": 1,
            "participants": ["bert@example.org", {
                "email": "carla@example.org",
                "phone": invitee.sip_port.to_string(),
                "call_at_start": true,
            }],
        }),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let pin = created.body["pin"].as_str().unwrap().to_owned();
    let zurich = start.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Zurich").unwrap());
    let told = format!(
        "StartsAt {{ hour: {}, minute: {} }}",
        zurich.hour(),
        zurich.minute()
    );

    let mut phone = Phone::start(PhoneConfig::new("early", 790.0));
    // Before the window (the index picks the conference up within 250 ms).
    std::thread::sleep(Duration::from_millis(600));
    dial_established(&mut phone, &server.uri("8000"));
    std::thread::sleep(PROMPT_TIME);
    phone.send_dtmf(&format!("{pin}#"));
    phone.wait_closed(SETUP);
    assert!(
        server.wait_log(&told, SETUP),
        "told the start ({told}):\n{}",
        server.log_tail(30)
    );

    // Inside the window.
    sleep_until(jiff::Timestamp::from_second(start.as_second() - 60 + 1).unwrap());
    dial_established(&mut phone, &server.uri("8000"));
    std::thread::sleep(PROMPT_TIME);
    phone.send_dtmf(&format!("{pin}#"));
    let room = format!("c{}", created.body["id"]);
    wait_joined(&server, Some(&room), 1);
    let status = anna.get(&format!("/api/v1/conferences/{}", created.body["id"]));
    assert_eq!(status.body["status"], "open");

    // At the start the invitee is called in; one minute before the end (= the start here)
    // the room is warned; at the end, BYE.
    sleep_until(start);
    invitee.wait_established(SETUP);
    wait_joined(&server, Some(&room), 2);
    // The organiser sees and controls it in the window like a room of hers.
    let listed = anna.get(&format!("/api/v1/rooms/{room}/participants"));
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let states: Vec<(bool, String)> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["invited"].as_bool().unwrap(),
                p["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(states.contains(&(true, "connected".into())), "{states:?}");
    assert!(states.contains(&(false, "connected".into())), "{states:?}");
    assert_eq!(
        anna.get(&format!("/api/v1/rooms/{room}")).body["name"],
        "Stand-up"
    );
    assert!(
        server.wait_log("EndsInOneMinute", Duration::from_secs(5)),
        "{}",
        server.log_tail(30)
    );
    sleep_until(jiff::Timestamp::from_second(start.as_second() + 60).unwrap());
    let closed = phone.wait_closed(Duration::from_secs(5));
    eprintln!("at the end: {closed}");
    invitee.wait_closed(Duration::from_secs(5));

    // After the window.
    let ended = poll_until(Duration::from_secs(3), || {
        (anna
            .get(&format!("/api/v1/conferences/{}", created.body["id"]))
            .body["status"]
            == "over")
            .then_some(())
    });
    assert!(ended.is_some());
    dial_established(&mut phone, &server.uri("8000"));
    std::thread::sleep(PROMPT_TIME);
    phone.send_dtmf(&format!("{pin}#"));
    phone.wait_closed(SETUP);
    assert!(
        server.wait_log("Refused(Ended)", SETUP),
        "{}",
        server.log_tail(30)
    );
    phone.quit();
    invitee.quit();
}
