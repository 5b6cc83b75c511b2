//! `konferenz backup FILE` (a consistent copy, also while the server runs), `konferenz
//! restore FILE` (only while no server uses the database), and the lock `serve` holds.
//!
//! The lock: `serve` holds an exclusive `flock(2)` on `<database>.lock` (its pid written
//! inside) for as long as it runs. The kernel drops it when the process ends in any way —
//! SIGTERM, a crash, `kill -9` — so there is never a stale lock to clean up, and it does not
//! depend on SQLite connections, which the pool may close while idle. `restore` takes the
//! same lock without waiting and refuses when it is held; a second `serve` on the same
//! database refuses too.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use konferenz_store::{DatabaseSummary, StoreError};

use crate::config::Config;

/// `konferenz backup FILE`
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file; its folder must exist).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `konferenz restore FILE`
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A file written by `konferenz backup`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// The exclusive lock on a database file's `.lock` companion; released when dropped or when
/// the process ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// Why [`DatabaseLock::acquire`] failed.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; its pid if it wrote one.
    Held(Option<u32>),
    /// The lock file could not be opened or locked.
    Io(PathBuf, std::io::Error),
}

impl DatabaseLock {
    /// `<database>.lock`
    pub fn path(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock without waiting and writes our pid into the file.
    pub fn acquire(database: &Path) -> Result<DatabaseLock, LockError> {
        let path = DatabaseLock::path(database);
        let io = |e| LockError::Io(path.clone(), e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock(2) on a descriptor we own; no memory is passed.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::WouldBlock {
                return Err(io(error));
            }
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held(text.trim().parse().ok()));
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DatabaseLock { _file: file })
    }
}

/// The database file of the configuration; an error for an in-memory database.
fn database_file(config: &Config, what: &str) -> anyhow::Result<PathBuf> {
    match konferenz_store::database_path(&config.database.url)? {
        Some(path) => Ok(path),
        None => bail!(
            "database.url is {}: an in-memory database has no file to {what}",
            config.database.url
        ),
    }
}

/// The lock `konferenz serve` holds while it runs (None for an in-memory database); creates
/// the data folder first.
pub fn serve_lock(config: &Config) -> anyhow::Result<Option<DatabaseLock>> {
    let Some(database) = konferenz_store::database_path(&config.database.url)? else {
        return Ok(None);
    };
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| crate::startup::data_folder_error(dir, &e))?;
    }
    match DatabaseLock::acquire(&database) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Held(pid)) => bail!(
            "another konferenz serve{} is using the database {}: stop it first, or give this \
             one its own database.url",
            pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
            database.display()
        ),
        Err(LockError::Io(path, e)) => Err(crate::startup::data_file_error(&path, &e)),
    }
}

/// "3 rooms, 1 user, 2 scheduled conferences, 4 mails queued"
fn contents(summary: &DatabaseSummary) -> String {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        plural(summary.rooms, "room", "rooms"),
        plural(summary.users, "user", "users"),
    ];
    if let Some(n) = summary.conferences {
        parts.push(plural(n, "scheduled conference", "scheduled conferences"));
    }
    if let Some(n) = summary.queued_mails {
        parts.push(plural(n, "mail queued", "mails queued"));
    }
    format!("schema {}: {}", summary.schema, parts.join(", "))
}

/// Runs `konferenz backup FILE [--force]`.
pub async fn backup(args: BackupArgs, config: &Config) -> anyhow::Result<()> {
    let database = database_file(config, "back up")?;
    if !database.is_file() {
        bail!(
            "there is no database at {} to back up (check database.url)",
            database.display()
        );
    }
    if args.file.exists() {
        if !args.force {
            bail!(
                "{} already exists: choose another name, or add --force to replace it",
                args.file.display()
            );
        }
        if same_file(&args.file, &database) {
            bail!("{} is the database itself", args.file.display());
        }
    }
    let store = crate::cli::open_store(config).await?;
    let summary = store
        .backup_to(&args.file, args.force)
        .await
        .with_context(|| format!("backup to {} failed", args.file.display()))?;
    store.close().await;
    println!(
        "wrote {} ({} bytes), a consistent copy of {} ({})",
        args.file.display(),
        summary.bytes,
        database.display(),
        contents(&summary)
    );
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Runs `konferenz restore FILE`.
pub async fn restore(args: RestoreArgs, config: &Config) -> anyhow::Result<()> {
    let database = database_file(config, "restore into")?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| crate::startup::data_folder_error(dir, &e))?;
    }
    let _lock = match DatabaseLock::acquire(&database) {
        Ok(lock) => lock,
        Err(LockError::Held(pid)) => bail!(
            "a konferenz server{} is using the database {}: stop it first (e.g. systemctl stop \
             konferenz), then restore; nothing was changed",
            pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
            database.display()
        ),
        Err(LockError::Io(path, e)) => return Err(crate::startup::data_file_error(&path, &e)),
    };
    if same_file(&args.file, &database) {
        bail!("{} is the database itself", args.file.display());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let restored = match konferenz_store::restore_database(&database, &args.file, now).await {
        Ok(restored) => restored,
        Err(
            e @ (StoreError::NotADatabase { .. }
            | StoreError::Damaged { .. }
            | StoreError::NotKonferenz { .. }
            | StoreError::NewerSchema { .. }),
        ) => bail!(
            "refused: {e}; the database {} is unchanged",
            database.display()
        ),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot restore {} into {}",
                args.file.display(),
                database.display()
            )));
        }
    };
    println!(
        "restored {} into {} ({})",
        args.file.display(),
        restored.database.display(),
        contents(&restored.summary)
    );
    match &restored.kept {
        Some(kept) => println!("the previous database is kept as {}", kept.display()),
        None => println!("there was no database before"),
    }
    if restored.pending_migrations > 0 {
        println!(
            "{} newer migration(s) will run when the server starts",
            restored.pending_migrations
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_holder_and_is_free_again_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let first = DatabaseLock::acquire(&db).unwrap();
        match DatabaseLock::acquire(&db) {
            Err(LockError::Held(pid)) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected a held lock, got {other:?}"),
        }
        drop(first);
        DatabaseLock::acquire(&db).expect("free after the holder let go");
    }

    #[test]
    fn contents_read_as_a_sentence() {
        let summary = DatabaseSummary {
            schema: 20_250_115_000_000,
            bytes: 1,
            rooms: 1,
            users: 2,
            conferences: Some(1),
            queued_mails: None,
        };
        assert_eq!(
            contents(&summary),
            "schema 20250115000000: 1 room, 2 users, 1 scheduled conference"
        );
    }
}
