//! `konferenz backup` and `konferenz restore` with the real binary and a running server:
//! a backup taken while `serve` runs holds rooms, users and a scheduled conference; after
//! changes, the restore (refused while the server runs, and refused for a broken or foreign
//! file without touching the database) brings that state back, and the server starts on it.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::json;
use support::api::{Auth, Client};
use support::{Server, ServerOptions};

const PASSWORD: &str = "correct horse 1";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Insists that the command failed with exit code 1 and an error containing every needle.
fn fails_with(out: &Output, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {}\nstderr {stderr}",
        text(&out.stdout)
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
}

fn room_numbers(server: &Server) -> Vec<String> {
    let rooms: serde_json::Value =
        serde_json::from_str(&server.cli(&["room", "list", "--json"])).unwrap();
    rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect()
}

/// The database folder's files other than the lock, with the database's bytes.
fn snapshot(server: &Server) -> (Vec<String>, Vec<u8>) {
    let mut names: Vec<String> = std::fs::read_dir(server.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("konferenz.db"))
        .collect();
    names.sort();
    (names, std::fs::read(server.database()).unwrap())
}

#[test]
fn backup_while_serving_then_restore_with_the_server_stopped() {
    let config = "[dialin]\nshared_numbers = [\"8000\"]\nexternal_number = \"+41 44 123 45 67\"\n";
    let mut server = Server::start_with(
        &ServerOptions::default()
            .room_with_pin("800", "4711")
            .room("801")
            .config(config),
    );
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
        PASSWORD,
        "--organiser",
    ]);
    let token = server.cli(&["token", "create", "--user", "201"]);
    let anna = Client::new(&server.http_base(), Auth::Bearer(token.trim().to_owned()));
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let start = jiff::Timestamp::from_second(start.as_second() / 60 * 60).unwrap();
    let created = anna.post(
        "/api/v1/conferences",
        json!({
            "title": "Budget", "description": "PIN <pin>", "location": "Phone",
            "start": start.to_string(), "time_zone": "Europe/Zurich",
            "duration_minutes": 30, "dial_in_minutes_before": 5,
            "participants": ["bert@example.org"], "language": "en",
        }),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let pin = created.body["pin"].as_str().unwrap().to_owned();

    // The backup, while `serve` runs.
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("konferenz-backup.db");
    let backup_arg = backup.to_str().unwrap();
    let out = server.cli(&["backup", backup_arg]);
    assert!(
        out.starts_with(&format!("wrote {backup_arg} ("))
            && out.contains("2 rooms, 1 user, 1 scheduled conference"),
        "{out}"
    );
    assert!(backup.is_file());
    fails_with(
        &server.cli_output(&["backup", backup_arg]),
        &["already exists", "--force"],
    );
    server.cli(&["backup", "--force", backup_arg]);

    // Changes after the backup.
    server.cli(&["room", "remove", "--number", "801"]);
    server.cli(&["room", "add", "--number", "900"]);
    server.cli(&[
        "user",
        "add",
        "--number",
        "202",
        "--name",
        "Bert",
        "--password",
        "long enough 2",
    ]);
    let cancelled = anna.send("DELETE", &format!("/api/v1/conferences/{id}"), None);
    assert_eq!(cancelled.status, 204);
    assert_eq!(room_numbers(&server), ["800", "900"]);

    // Not while the server runs: nothing changes.
    fails_with(
        &server.cli_output(&["restore", backup_arg]),
        &[
            "is using the database",
            "stop it first",
            "nothing was changed",
        ],
    );
    assert_eq!(room_numbers(&server), ["800", "900"]);

    server.stop();
    let before_stopped = snapshot(&server);

    // A file that is not a database, and a truncated backup: refused, database untouched.
    let garbage = backups.path().join("notes.txt");
    std::fs::write(&garbage, "not a database\n".repeat(400)).unwrap();
    fails_with(
        &server.cli_output(&["restore", garbage.to_str().unwrap()]),
        &["refused:", "is not a SQLite database", "is unchanged"],
    );
    assert_eq!(snapshot(&server), before_stopped);
    let truncated = backups.path().join("truncated.db");
    let bytes = std::fs::read(&backup).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    fails_with(
        &server.cli_output(&["restore", truncated.to_str().unwrap()]),
        &["refused:", "is unchanged"],
    );
    assert_eq!(snapshot(&server), before_stopped);
    fails_with(
        &server.cli_output(&["restore", "/nonexistent/backup.db"]),
        &["/nonexistent/backup.db"],
    );

    // The restore.
    let out = server.cli(&["restore", backup_arg]);
    assert!(
        out.starts_with(&format!("restored {backup_arg} into "))
            && out.contains("2 rooms, 1 user, 1 scheduled conference"),
        "{out}"
    );
    let kept = out
        .lines()
        .find_map(|l| l.strip_prefix("the previous database is kept as "))
        .unwrap_or_else(|| panic!("no kept database named: {out}"));
    assert!(Path::new(kept).is_file(), "{kept}");
    assert!(kept.contains("konferenz.db.before-restore-"), "{kept}");

    // The server starts on the backup's state.
    server.start_again();
    assert_eq!(room_numbers(&server), ["800", "801"]);
    let admin = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    let users = admin.get("/api/v1/users").body;
    let users: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["number"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["201"], "user 202 came after the backup");
    let conference = admin.get(&format!("/api/v1/conferences/{id}"));
    assert_eq!(conference.status, 200, "{:?}", conference.body);
    assert_eq!(conference.body["status"], "upcoming", "not cancelled");
    assert_eq!(conference.body["pin"], pin.as_str());
    assert_eq!(
        conference.body["participants"][0]["email"],
        "bert@example.org"
    );
    // The token made before the backup still works; the room's PIN is still set.
    assert_eq!(anna.get("/api/v1/account").status, 200);
    let list = server.cli(&["room", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("800") && l.contains("yes")),
        "{list}"
    );
}
