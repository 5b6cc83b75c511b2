//! Start-up errors say what to do, with the real binary: a data folder that cannot be
//! created (a file in the way; no permission), a database file that is not a database, a
//! port another program holds, and a second `serve` on the same database.

mod support;

use std::net::{TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Server, free_port_range, free_tcp_port, free_udp_port};
use tempfile::TempDir;

/// `konferenz --config CONFIG ARGS…` with an environment free of KONFERENZ_* and RUST_LOG.
fn konferenz(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_konferenz"));
    for (key, _) in std::env::vars() {
        if key.starts_with("KONFERENZ_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command.arg("--config").arg(config).args(args);
    command
}

/// A config in `dir` with the database at `db` and free ports for everything.
fn write_config(dir: &Path, db: &Path, sip: u16, http: u16) -> PathBuf {
    let rtp = free_port_range(100, 2);
    let path = dir.join("konferenz.toml");
    std::fs::write(
        &path,
        format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[rtp]\nports = \"{rtp}-{}\"\n\
             [http]\nlisten = \"127.0.0.1:{http}\"\n\
             [metrics]\nlisten = \"127.0.0.1:{}\"\n\
             [database]\nurl = \"sqlite://{}\"\n",
            rtp + 99,
            free_tcp_port(),
            db.display()
        ),
    )
    .unwrap();
    path
}

/// Insists on exit code 1 and returns stderr.
fn failed(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {}\nstderr {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

#[test]
fn a_data_folder_behind_a_file_cannot_be_created() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("blocker"), "a file, not a folder").unwrap();
    let data = dir.path().join("blocker/data");
    let config = write_config(
        dir.path(),
        &data.join("konferenz.db"),
        free_udp_port(),
        free_tcp_port(),
    );
    let expected = format!(
        "konferenz: cannot create data folder {}: a part of the path is a file, not a folder \
         (create it and give the server's user write access, or set database.url)\n",
        data.display()
    );
    for args in [&["serve"][..], &["room", "list"], &["restore", "x.db"]] {
        let stderr = failed(konferenz(&config, args).output().unwrap());
        assert!(stderr.ends_with(&expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_data_folder_without_permission_cannot_be_created() {
    let dir = TempDir::new().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let data = locked.join("data");
    let config = write_config(
        dir.path(),
        &data.join("konferenz.db"),
        free_udp_port(),
        free_tcp_port(),
    );
    let mut command = konferenz(&config, &["serve"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Root may write anywhere: run as nobody, who may read the config but not write in
        // `locked` (root's, 0755).
        mode(dir.path(), 0o755);
        mode(&config, 0o644);
        command.uid(65534).gid(65534);
    } else {
        mode(&locked, 0o555);
    }
    let out = match command.output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: nobody may not run the binary here ({e})");
            return;
        }
    };
    mode(&locked, 0o755);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) {
        eprintln!("skipped: nobody cannot read the config here: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "konferenz: cannot create data folder {}: permission denied (create it and give the \
             server's user write access, or set database.url)\n",
            data.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_database_file_that_is_not_a_database_is_named_with_the_way_out() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("konferenz.db");
    std::fs::write(&db, "these are someone's notes\n".repeat(300)).unwrap();
    let config = write_config(dir.path(), &db, free_udp_port(), free_tcp_port());
    for args in [&["serve"][..], &["room", "list"]] {
        let stderr = failed(konferenz(&config, args).output().unwrap());
        assert!(
            stderr.ends_with(&format!(
                "konferenz: {} is not a SQLite database: it is damaged or another file (restore \
                 a backup with `konferenz restore FILE`, or move the file away to start with an \
                 empty database)\n",
                db.display()
            )),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&db).unwrap(),
        "these are someone's notes\n".repeat(300),
        "the file is left as it was"
    );
}

#[test]
fn a_taken_port_is_named_with_its_config_key() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("konferenz.db");
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sip_port = sip.local_addr().unwrap().port();
    let config = write_config(dir.path(), &db, sip_port, free_tcp_port());
    let stderr = failed(konferenz(&config, &["serve"]).output().unwrap());
    assert!(
        stderr.ends_with(&format!(
            "konferenz: sip.listen: cannot bind UDP 127.0.0.1:{sip_port}: the address is already \
             in use (another program, perhaps another konferenz, listens there: stop it, or \
             choose a free port in sip.listen)\n"
        )),
        "{stderr}"
    );

    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = http.local_addr().unwrap().port();
    let config = write_config(dir.path(), &db, free_udp_port(), http_port);
    let stderr = failed(konferenz(&config, &["serve"]).output().unwrap());
    assert!(
        stderr.contains(&format!(
            "konferenz: http.listen: cannot bind HTTP 127.0.0.1:{http_port}: the address is \
             already in use ("
        )) && stderr.contains("choose a free port in http.listen"),
        "{stderr}"
    );
}

#[test]
fn a_second_server_on_the_same_database_is_refused() {
    let server = Server::start();
    let stderr = failed(server.cli_output(&["serve"]));
    assert!(
        stderr.contains("another konferenz serve (pid ")
            && stderr.contains(&format!(
                "is using the database {}: stop it first",
                server.database().display()
            )),
        "{stderr}"
    );
    // The first one still answers.
    assert!(support::server::sip_options_answered(
        server.sip_port,
        std::time::Duration::from_secs(2)
    ));
}
