//! Accounts, logins and credentials on the real server: the login's cookie and the CSRF
//! token for changes, failed logins throttled per account, a user's own settings and
//! password change, and the local administrator's token (the CLI's way in; nobody else's).

mod support;

use serde_json::{Value, json};
use support::api::{Auth, Client, PASSWORD, client, roles_server as server};

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
