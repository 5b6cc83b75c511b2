//! The audit log on the real server: logins (failed ones too), changes with who made them
//! and from where, refused requests left out, the filter by action and paging back; only
//! administrators read it, and nothing secret is in it.

mod support;

use serde_json::json;
use support::api::{Auth, Client, PASSWORD, client, roles_server as server};

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
