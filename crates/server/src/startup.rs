//! What a failed start says to do: the data folder, the database file and the listening
//! ports, each error with its fix ("cannot create data folder X: permission denied (create
//! it and give the server's user write access, or set database.url)").

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::path::Path;

use anyhow::anyhow;
use konferenz_store::StoreError;

/// An OS error in a few plain words.
pub fn reason(error: &io::Error) -> String {
    match error.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::NotADirectory => "a part of the path is a file, not a folder".to_owned(),
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
        ErrorKind::StorageFull => "no space left on the device".to_owned(),
        ErrorKind::AddrInUse => "the address is already in use".to_owned(),
        ErrorKind::AddrNotAvailable => "this machine has no such address".to_owned(),
        _ => error.to_string(),
    }
}

/// The data folder (the database's) could not be created.
pub fn data_folder_error(dir: &Path, error: &io::Error) -> anyhow::Error {
    anyhow!(
        "cannot create data folder {}: {} (create it and give the server's user write access, \
         or set database.url)",
        dir.display(),
        reason(error)
    )
}

/// A file in the data folder could not be written.
pub fn data_file_error(file: &Path, error: &io::Error) -> anyhow::Error {
    let dir = file.parent().unwrap_or(Path::new("."));
    anyhow!(
        "cannot write {}: {} (give the server's user write access to the data folder {}, or \
         set database.url)",
        file.display(),
        reason(error),
        dir.display()
    )
}

/// Opening the database at `url` failed: what happened and what to do.
pub fn database_error(url: &str, error: StoreError) -> anyhow::Error {
    match error {
        StoreError::CreateDir { dir, source } => data_folder_error(&dir, &source),
        StoreError::CannotOpen { path, reason } => {
            let dir = path.parent().unwrap_or(Path::new("."));
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            anyhow!(
                "cannot open database {}: {reason} (the server's user must be able to read and \
                 write the file and its folder {}, where SQLite keeps {name}-wal and \
                 {name}-shm; or set database.url)",
                path.display(),
                dir.display()
            )
        }
        StoreError::NotADatabase { path, .. } => anyhow!(
            "{} is not a SQLite database: it is damaged or another file (restore a backup with \
             `konferenz restore FILE`, or move the file away to start with an empty database)",
            path.display()
        ),
        StoreError::Damaged { path, report } => anyhow!(
            "database {} is damaged ({report}): restore a backup with `konferenz restore FILE`",
            path.display()
        ),
        StoreError::NewerSchema {
            path,
            version,
            known,
        } => anyhow!(
            "database {} was written by a newer konferenz (schema {version}; this one knows up \
             to {known}): run that version or a newer one, or restore a backup made with this \
             one (`konferenz restore FILE`)",
            path.display()
        ),
        other => anyhow::Error::new(other).context(format!("cannot open database {url}")),
    }
}

/// Binding a listening socket failed; `key` is the config key that names the address.
pub fn bind_error(key: &str, what: &str, addr: SocketAddr, error: &io::Error) -> anyhow::Error {
    let fix = match error.kind() {
        ErrorKind::AddrInUse => format!(
            "another program, perhaps another konferenz, listens there: stop it, or choose a \
             free port in {key}"
        ),
        ErrorKind::PermissionDenied => format!(
            "ports below 1024 need root or the capability CAP_NET_BIND_SERVICE (systemd: \
             AmbientCapabilities=CAP_NET_BIND_SERVICE): grant it, or choose a port above 1023 \
             in {key}"
        ),
        ErrorKind::AddrNotAvailable => {
            format!("set {key} to an address of this machine, or to 0.0.0.0 for all of them")
        }
        _ => format!("check {key}"),
    };
    anyhow!(
        "{key}: cannot bind {what} {addr}: {} ({fix})",
        reason(error)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_says_what_to_do() {
        let denied = io::Error::from(ErrorKind::PermissionDenied);
        assert_eq!(
            data_folder_error(Path::new("/x/y"), &denied).to_string(),
            "cannot create data folder /x/y: permission denied (create it and give the server's \
             user write access, or set database.url)"
        );
        let taken = io::Error::from(ErrorKind::AddrInUse);
        let text = bind_error(
            "sip.listen",
            "UDP",
            "127.0.0.1:5060".parse().unwrap(),
            &taken,
        )
        .to_string();
        assert!(
            text.starts_with(
                "sip.listen: cannot bind UDP 127.0.0.1:5060: the address is already in use ("
            ) && text.contains("choose a free port in sip.listen"),
            "{text}"
        );
        let low = bind_error("sip.listen", "UDP", "0.0.0.0:506".parse().unwrap(), &denied);
        assert!(low.to_string().contains("CAP_NET_BIND_SERVICE"), "{low}");
        let newer = database_error(
            "sqlite://k.db",
            StoreError::NewerSchema {
                path: "k.db".into(),
                version: 2,
                known: 1,
            },
        );
        assert!(newer.to_string().contains("newer konferenz"), "{newer}");
    }
}
