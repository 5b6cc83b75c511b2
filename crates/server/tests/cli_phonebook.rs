//! Black-box tests of `konferenz phonebook ...`: the real binary, a temp config file and a
//! temp SQLite database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A temp directory with `konferenz.toml` pointing at `data/konferenz.db` inside it.
struct Setup {
    dir: TempDir,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = TempDir::new().unwrap();
        let config = dir.path().join("konferenz.toml");
        let db = dir.path().join("data/konferenz.db");
        std::fs::write(
            &config,
            format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
        )
        .unwrap();
        Setup { dir, config }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_konferenz"));
        for (key, _) in std::env::vars() {
            if key.starts_with("KONFERENZ_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .arg("--config")
            .arg(&self.config)
            .arg("phonebook")
            .args(args);
        command.output().unwrap()
    }

    /// Runs and insists on success, returning stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs, insists on exit code `code`, returning stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conference/tests/fixtures/phonebook")
        .join(name);
    path.display().to_string()
}

#[test]
fn contacts_are_added_shown_listed_and_removed() {
    let setup = Setup::new();
    assert_eq!(setup.ok(&["list"]), "the phone book is empty\n");
    assert_eq!(setup.ok(&["list", "--json"]).trim(), "[]");

    let added = setup.ok(&[
        "add",
        "--name",
        "Müller, Anna",
        "--company",
        "ACME",
        "--number",
        "work=+41441234567",
        "--number",
        "mobile=0791234567",
        "--region",
        "CH",
    ]);
    assert_eq!(added, "entry 1 added: Müller, Anna\n");
    setup.ok(&["add", "--name", "Bert", "--number", "030 1234567"]);

    assert_eq!(
        setup.ok(&["show", "1"]),
        "id:      1\nname:    Müller, Anna\ncompany: ACME\nwork:    +41441234567\nmobile:  +41791234567\n"
    );
    let table = setup.ok(&["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("ID"), "{table}");
    assert!(
        lines[1].starts_with("2 ") && lines[1].contains("other +49301234567"),
        "default region DE: {table}"
    );
    assert!(
        lines[2].contains("Müller, Anna") && lines[2].contains("ACME"),
        "{table}"
    );

    let json: serde_json::Value = serde_json::from_str(&setup.ok(&["list", "--json"])).unwrap();
    assert_eq!(json[1]["name"], "Müller, Anna");
    assert_eq!(json[1]["numbers"][1]["label"], "mobile");
    assert_eq!(json[1]["numbers"][1]["number"], "+41791234567");
    assert_eq!(json[0]["company"], serde_json::Value::Null);

    assert_eq!(
        setup.ok(&[
            "update",
            "1",
            "--no-company",
            "--number",
            "home=+41 44 999 88 77"
        ]),
        "entry 1 updated\n"
    );
    assert_eq!(
        setup.ok(&["show", "1"]),
        "id:      1\nname:    Müller, Anna\nhome:    +41449998877\n"
    );

    assert_eq!(setup.ok(&["remove", "1"]), "entry 1 removed\n");
    assert_eq!(setup.ok(&["rm", "2"]), "entry 2 removed\n");
    assert_eq!(setup.ok(&["list"]), "the phone book is empty\n");
}

#[test]
fn search_finds_by_prefix_accent_and_number() {
    let setup = Setup::new();
    setup.ok(&[
        "add",
        "--name",
        "Müller, Anna",
        "--number",
        "work=+41441234567",
    ]);
    setup.ok(&[
        "add",
        "--name",
        "Anna Schmid",
        "--number",
        "mobile=+41797654321",
    ]);

    let hits = setup.ok(&["search", "mül"]);
    assert_eq!(hits.lines().count(), 2, "{hits}");
    assert!(hits.contains("Müller, Anna"), "{hits}");

    let hits = setup.ok(&["search", "anna"]);
    assert_eq!(hits.lines().count(), 3, "both Annas: {hits}");

    let hits = setup.ok(&["search", "+41 79"]);
    assert!(
        hits.contains("Anna Schmid") && !hits.contains("Müller"),
        "{hits}"
    );

    assert_eq!(setup.ok(&["search", "zzz"]), "no entry matches \"zzz\"\n");
}

#[test]
fn import_reports_counts_and_rejected_lines() {
    let setup = Setup::new();
    let out = setup.ok(&["import", &fixture("outlook_de.csv")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "imported 4 entries, merged 0, rejected 5",
        "{out}"
    );
    assert_eq!(
        lines[1],
        "rejected line 5: Mustermann, Max: 17 fields but the header has 15"
    );
    assert_eq!(lines.len(), 6, "{out}");

    // Anna and Peter are in the vCard as well: Anna by name, nobody by number.
    let out = setup.ok(&["import", &fixture("google_4.0.vcf"), "--region", "CH"]);
    assert!(
        out.starts_with("imported 2 entries, merged 1, rejected 4\n"),
        "{out}"
    );
    assert!(
        out.contains("rejected line 9: card has no END:VCARD"),
        "{out}"
    );

    let anna = setup.ok(&["search", "Müller Anna"]);
    assert!(
        anna.contains("+41449876543") && anna.contains("+41791234567"),
        "{anna}"
    );

    // Importing again adds nothing.
    let again = setup.ok(&["import", &fixture("google_4.0.vcf"), "--region", "CH"]);
    assert!(
        again.starts_with("imported 0 entries, merged 3, rejected 4\n"),
        "{again}"
    );
}

#[test]
fn format_is_sniffed_when_the_extension_says_nothing() {
    let setup = Setup::new();
    let path = setup.file(
        "contacts.txt",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eva\r\nTEL;TYPE=CELL:0171 2345678\r\nEND:VCARD\r\n",
    );
    assert_eq!(
        setup.ok(&["import", &path]),
        "imported 1 entries, merged 0, rejected 0\n"
    );
    assert!(setup.ok(&["list"]).contains("mobile +491712345678"));
}

#[test]
fn bad_input_fails_with_a_reason() {
    let setup = Setup::new();
    let err = setup.fails(1, &["add", "--name", "X", "--number", "work=12"]);
    assert!(
        err.contains("--number work=12") && err.contains("not a valid phone number"),
        "{err}"
    );
    let err = setup.fails(1, &["add", "--name", "X", "--number", "abc"]);
    assert!(err.contains("\"abc\" is not a phone number"), "{err}");
    let err = setup.fails(
        1,
        &[
            "add",
            "--name",
            "X",
            "--number",
            "030 1234567",
            "--region",
            "XX",
        ],
    );
    assert!(err.contains("unknown country \"XX\""), "{err}");
    let err = setup.fails(1, &["add", "--name", " ", "--number", "030 1234567"]);
    assert!(err.contains("the name is empty"), "{err}");

    setup.ok(&["add", "--name", "Anna", "--number", "030 1234567"]);
    let err = setup.fails(1, &["add", "--name", "Bert", "--number", "+49 30 1234567"]);
    assert_eq!(
        err,
        "konferenz: entry 1 already has the number +49301234567\n"
    );

    assert_eq!(
        setup.fails(1, &["show", "9"]),
        "konferenz: no phone-book entry 9\n"
    );
    assert_eq!(
        setup.fails(1, &["remove", "9"]),
        "konferenz: no phone-book entry 9\n"
    );
    let err = setup.fails(1, &["import", "/nonexistent/contacts.vcf"]);
    assert!(
        err.contains("cannot read /nonexistent/contacts.vcf"),
        "{err}"
    );
    let path = setup.file("notes.csv", b"Title;Notes\nx;y\n");
    let err = setup.fails(1, &["import", &path]);
    assert!(err.contains("no name column"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let setup = Setup::new();
    setup.fails(2, &["add", "--name", "X"]);
    setup.fails(2, &["add", "--name", "X", "--number", "fax=030 1234567"]);
    setup.fails(2, &["show", "abc"]);
    setup.fails(2, &["frobnicate"]);
}

#[test]
fn invite_by_name_lists_several_matches_instead_of_guessing() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = dir.path().join("k.toml");
    // Nothing listens on this HTTP port: a resolved invitation fails to reach the server.
    let text = format!(
        "[database]\nurl = \"sqlite://{}/k.db\"\n[http]\nlisten = \"127.0.0.1:9\"\n",
        dir.path().display()
    );
    std::fs::write(&config, text).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_konferenz"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let ok = |args: &[&str]| assert!(run(args).status.success(), "{args:?}");
    ok(&[
        "phonebook",
        "add",
        "--name",
        "Müller, Anna",
        "--number",
        "work=+41441234567",
    ]);
    ok(&[
        "phonebook",
        "add",
        "--name",
        "Mühle, Max",
        "--number",
        "mobile=+41791234567",
    ]);
    let several = run(&["invite", "--room", "800", "mü"]);
    let err = String::from_utf8_lossy(&several.stderr);
    assert_eq!(several.status.code(), Some(1));
    assert!(
        err.contains("2 numbers match")
            && err.contains("Müller, Anna")
            && err.contains("Mühle, Max"),
        "{err}"
    );
    let one = run(&["invite", "--room", "800", "anna"]);
    let err = String::from_utf8_lossy(&one.stderr);
    assert!(
        err.contains("is the server running"),
        "one match resolves to its number: {err}"
    );
    let none = run(&["invite", "--room", "800", "Hans Meier"]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("no phone book entry matches"));
}
