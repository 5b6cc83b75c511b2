//! The web login's throttle against the real server: failures count against the account
//! whichever of its logins (number or e-mail) is typed, and against the source address
//! across accounts; a locked-out login is refused even with the right password.

mod support;

use serde_json::json;
use support::api::{Answer, Auth, Client};
use support::{Server, ServerOptions};

const PASSWORD: &str = "correct horse 1";

/// Users 201 (anna@example.org) and 202; logins: 3 failures per account, 5 per address.
fn server() -> Server {
    let server = Server::start_with(&ServerOptions::default().config(
        "[throttle]\ncaller_failures = 3\ncaller_window_secs = 600\ncaller_lockout_secs = 900\n\
         room_failures = 5\nroom_window_secs = 600\nroom_lockout_secs = 600\n",
    ));
    for (number, name, email) in [
        ("201", "Anna Müller", "anna@example.org"),
        ("202", "Bert Brandt", "bert@example.org"),
    ] {
        server.cli(&[
            "user",
            "add",
            "--number",
            number,
            "--name",
            name,
            "--email",
            email,
            "--password",
            PASSWORD,
            "--organiser",
        ]);
    }
    server
}

fn try_login(server: &Server, login: &str, password: &str) -> Answer {
    Client::new(&server.http_base(), Auth::None).post(
        "/api/v1/session",
        json!({ "login": login, "password": password }),
    )
}

#[test]
fn number_and_e_mail_count_against_one_account() {
    let server = server();
    let statuses: Vec<u16> = ["201", "Anna@Example.org", "201"]
        .iter()
        .map(|login| try_login(&server, login, "guess").status)
        .collect();
    assert_eq!(
        statuses,
        [401, 401, 429],
        "the third failure locks the account"
    );
    for login in ["201", "anna@example.org"] {
        let right = try_login(&server, login, PASSWORD);
        assert_eq!(right.status, 429, "{login} locked out: {:?}", right.body);
        let wait: u64 = right.retry_after.expect("Retry-After").parse().unwrap();
        assert!((800..=900).contains(&wait), "{wait}");
    }
    assert_eq!(
        try_login(&server, "bert@example.org", PASSWORD).status,
        200,
        "another account is not affected"
    );
}

#[test]
fn one_address_guessing_across_accounts_is_locked_out() {
    let server = server();
    // Five failures from 127.0.0.1, none reaching an account's limit of three.
    let statuses: Vec<u16> = ["201", "202", "nobody@example.org", "203", "201"]
        .iter()
        .map(|login| try_login(&server, login, "guess").status)
        .collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 429],
        "the fifth locks the address"
    );
    let right = try_login(&server, "bert@example.org", PASSWORD);
    assert_eq!(
        right.status, 429,
        "the address is locked out: {:?}",
        right.body
    );
    let wait: u64 = right.retry_after.expect("Retry-After").parse().unwrap();
    assert!((500..=600).contains(&wait), "{wait}");
}
