//! The phone book's changes and the settings page on the real server: `PUT
//! /api/v1/phonebook/{id}` with good and bad input (a refused request leaves the stored
//! entry as it was), and `GET /api/v1/settings` — trunk and dial-in for administrators,
//! without a secret; nobody else reads it.

mod support;

use serde_json::{Value, json};
use support::ServerOptions;
use support::api::{Auth, Client, client, roles_server, roles_server_with};

/// Entry `id` as the phone book lists it (Null if it is not there).
fn entry(api: &Client, id: i64) -> Value {
    let all = api.get("/api/v1/phonebook?limit=200");
    assert_eq!(all.status, 200, "{:?}", all.body);
    all.body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn replacing_a_phone_book_entry_checks_its_input_and_keeps_it_when_refused() {
    let server = roles_server();
    let admin = client(&server, "100");
    let added = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Müller, Jörg", "company": "Example AG", "number": "+41 44 123 45 67"}),
    );
    assert_eq!(added.status, 201, "{:?}", added.body);
    let id = added.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/phonebook/{id}");
    let other = admin.post(
        "/api/v1/phonebook",
        json!({"name": "Rossi, Carla", "number": "+41 79 765 43 21"}),
    );
    assert_eq!(other.status, 201, "{:?}", other.body);
    let other_id = other.body["id"].as_i64().unwrap();
    let other_stored = entry(&admin, other_id);

    // A good update replaces name, company and numbers (normalised, the region's
    // national numbers too: phonebook.default_region is DE).
    let updated = admin.send(
        "PUT",
        &path,
        Some(json!({
            "name": "Müller, Jörg A.",
            "company": null,
            "numbers": [
                {"label": "mobile", "number": "030 1234567"},
                {"label": "work", "number": "+41 44 123 45 67"}
            ]
        })),
    );
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(
        updated.body,
        json!({
            "id": id,
            "name": "Müller, Jörg A.",
            "company": null,
            "number": "+49301234567",
            "numbers": [
                {"label": "mobile", "number": "+49301234567"},
                {"label": "work", "number": "+41441234567"}
            ]
        })
    );
    assert_eq!(entry(&admin, id), updated.body, "stored as answered");
    let found = admin.get("/api/v1/phonebook?q=j%C3%B6rg%20a");
    assert_eq!(
        found.body[0]["id"], id,
        "found by its new name: {:?}",
        found.body
    );

    // Bad input: refused, naming the field; the entry stays as it was.
    let stored = entry(&admin, id);
    for (body, status, code, field) in [
        (
            json!({"name": "X", "number": "hello"}),
            422,
            "invalid",
            "numbers",
        ),
        (
            json!({"name": "X", "numbers": [{"label": "work", "number": "+41 44 123 45 67"}, {"label": "home", "number": "not a number"}]}),
            422,
            "invalid",
            "numbers",
        ),
        (
            json!({"name": "", "number": "+41 44 123 45 67"}),
            422,
            "invalid",
            "name",
        ),
        (json!({"name": "X"}), 422, "invalid", "numbers"),
        (
            json!({"number": "+41 44 123 45 67"}),
            422,
            "invalid",
            "name",
        ),
        // Carla's number belongs to her entry.
        (
            json!({"name": "X", "number": "+41 79 765 43 21"}),
            409,
            "number_in_use",
            "number",
        ),
    ] {
        let answer = admin.send("PUT", &path, Some(body.clone()));
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
        assert_eq!(
            answer.body["error"]["code"], code,
            "{body}: {:?}",
            answer.body
        );
        assert_eq!(
            answer.body["error"]["field"], field,
            "{body}: {:?}",
            answer.body
        );
        assert_eq!(entry(&admin, id), stored, "unchanged after {body}");
    }
    let conflict = admin.send(
        "PUT",
        &path,
        Some(json!({"name": "X", "number": "+41 79 765 43 21"})),
    );
    assert!(
        !conflict.body.to_string().contains("+41797654321"),
        "the conflict does not tell whose number it is: {:?}",
        conflict.body
    );

    // An unknown entry: 404, and nothing is created.
    let unknown = admin.send(
        "PUT",
        "/api/v1/phonebook/999999",
        Some(json!({"name": "Nobody Known", "number": "+41 44 555 12 12"})),
    );
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    assert_eq!(unknown.body["error"]["code"], "not_found");
    assert_eq!(admin.get("/api/v1/phonebook?q=nobody").body, json!([]));

    // Administrators only; organisers read it (autocomplete) but do not change it.
    let anna = client(&server, "201");
    let refused = anna.send(
        "PUT",
        &path,
        Some(json!({"name": "Anna's edit", "number": "+41 44 123 45 67"})),
    );
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(entry(&anna, id), stored);
    assert_eq!(
        entry(&admin, other_id),
        other_stored,
        "the other entry untouched"
    );
}

const TRUNK_PASSWORD: &str = "Trunk-Secret-e2e-5d81";
const MAIL_PASSWORD: &str = "Mail-Secret-e2e-90aa";

#[test]
fn settings_show_trunk_and_dial_in_to_administrators_without_secrets() {
    let config = format!(
        "[trunk]\nuri = \"sip:{{number}}@pbx.example.org\"\nusername = \"konferenz-trunk\"\n\
         password = \"{TRUNK_PASSWORD}\"\ncaller_id = \"+41441234500\"\nring_timeout_secs = 30\n\
         internal_numbers = \"^2[0-9]{{2}}$\"\n\
         internal_uri = \"sip:{{number}}@pbx.internal.example.org\"\nexternal_prefix = \"0\"\n\
         [dialin]\nexternal_number = \"+41 44 123 45 67\"\nshared_numbers = [\"8000\"]\n\
         [mail]\nsmtp_url = \"smtp://127.0.0.1:1\"\nusername = \"konferenz\"\n\
         password = \"{MAIL_PASSWORD}\"\n"
    );
    let server = roles_server_with(ServerOptions::default().config(&config));
    let admin = client(&server, "100");
    let settings = admin.get("/api/v1/settings");
    assert_eq!(settings.status, 200, "{:?}", settings.body);
    let trunk = &settings.body["trunk"];
    assert_eq!(trunk["uri"], "sip:{number}@pbx.example.org");
    assert_eq!(trunk["username"], "konferenz-trunk");
    assert_eq!(
        trunk["password_set"], true,
        "that there is one, not what it is"
    );
    assert_eq!(trunk["caller_id"], "+41441234500");
    assert_eq!(trunk["ring_timeout_secs"], 30);
    assert_eq!(trunk["internal_numbers"], "^2[0-9]{2}$");
    assert_eq!(
        trunk["internal_uri"],
        "sip:{number}@pbx.internal.example.org"
    );
    assert_eq!(trunk["external_prefix"], "0");
    assert_eq!(trunk["register"], false);
    let dialin = &settings.body["dialin"];
    assert_eq!(dialin["external_number"], "+41 44 123 45 67");
    assert_eq!(dialin["shared_numbers"], json!(["8000"]));
    assert_eq!(settings.body["registrar"]["realm"], "konferenz");
    // No secret anywhere in the answer, under any key.
    let text = settings.body.to_string();
    for secret in [TRUNK_PASSWORD, MAIL_PASSWORD] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    fn keys(value: &Value, out: &mut Vec<String>) {
        if let Some(object) = value.as_object() {
            for (key, inner) in object {
                out.push(key.clone());
                keys(inner, out);
            }
        }
    }
    let mut names = Vec::new();
    keys(&settings.body, &mut names);
    assert!(
        !names
            .iter()
            .any(|k| k == "password" || k.ends_with("_password")),
        "{names:?}"
    );
    // The same for the local administrator and an administrator's browser session.
    let local = Client::new(&server.http_base(), Auth::Bearer(server.admin_token()));
    assert_eq!(local.get("/api/v1/settings").body, settings.body);
    let browser = Client::login(&server.http_base(), "100", support::api::PASSWORD);
    assert_eq!(browser.get("/api/v1/settings").body, settings.body);

    // Nobody else.
    for (who, api) in [
        ("an organiser", client(&server, "201")),
        ("a plain user", client(&server, "203")),
    ] {
        let refused = api.get("/api/v1/settings");
        assert_eq!(refused.status, 403, "{who}: {:?}", refused.body);
        assert_eq!(refused.body["error"]["code"], "forbidden");
        assert!(!refused.body.to_string().contains(TRUNK_PASSWORD));
    }
    let anonymous = Client::new(&server.http_base(), Auth::None).get("/api/v1/settings");
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.body["error"]["code"], "unauthorized");
}
