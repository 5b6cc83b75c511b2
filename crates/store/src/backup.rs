//! Backups and restores: a consistent copy while the server runs (`VACUUM INTO`), the checks
//! a file must pass before it may replace the database, and the replacement itself.
//!
//! A backup is written beside its target under a temporary name, synced and renamed, so a
//! crash never leaves half a backup under the name asked for. A restore copies the file
//! beside the database, checks the copy (`PRAGMA integrity_check`, a `_sqlx_migrations`
//! table whose every migration this binary has, byte for byte), keeps the current database
//! as `<db>.before-restore-<unix time>` (a hard link, after folding its WAL in), and renames
//! the copy over the database: at every moment the database name holds either the old or the
//! new file. Migrations newer than the backup run at the next start. The caller makes sure
//! no server uses the database meanwhile (the server crate holds a lock file while serving).

use std::path::{Path, PathBuf};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use crate::{SQLITE_MIGRATIONS, Store, StoreError};

/// SQLite's primary result codes we tell apart (`extended code & 0xff`).
const SQLITE_PERM: i64 = 3;
const SQLITE_READONLY: i64 = 8;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_NOTADB: i64 = 26;

/// What a database file holds, as a backup or restore reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSummary {
    /// The newest migration applied (e.g. `20250115000000`).
    pub schema: i64,
    /// Size of the file in bytes.
    pub bytes: u64,
    pub rooms: i64,
    pub users: i64,
    /// Scheduled conferences (None: the schema predates them).
    pub conferences: Option<i64>,
    /// Mails waiting in the outbox (None: the schema predates it).
    pub queued_mails: Option<i64>,
}

/// The outcome of [`restore_database`].
#[derive(Clone, Debug)]
pub struct Restored {
    /// The database file now holding the backup.
    pub database: PathBuf,
    /// Where the database that was replaced is kept (None: there was none).
    pub kept: Option<PathBuf>,
    /// The restored contents.
    pub summary: DatabaseSummary,
    /// Migrations of this binary the backup lacks; they run at the next start.
    pub pending_migrations: usize,
}

/// The file a `sqlite://` URL names; None for an in-memory database.
pub fn database_path(url: &str) -> Result<Option<PathBuf>, StoreError> {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(|source| StoreError::BadUrl {
        url: url.to_owned(),
        source,
    })?;
    let filename = options.get_filename();
    Ok((!crate::is_in_memory(filename)).then(|| filename.to_owned()))
}

/// This binary's newest migration.
fn newest_known() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or_default()
}

/// Turns a SQLite error about the file at `path` into what it means for whoever runs us.
pub(crate) fn classify(path: &Path, error: sqlx::Error) -> StoreError {
    let code = match &error {
        sqlx::Error::Database(e) => e.code().and_then(|c| c.parse::<i64>().ok()),
        _ => None,
    };
    let reason = match &error {
        sqlx::Error::Database(e) => e.message().to_owned(),
        other => other.to_string(),
    };
    let path = path.to_owned();
    match code.map(|c| c & 0xff) {
        Some(SQLITE_NOTADB) => StoreError::NotADatabase { path, reason },
        Some(SQLITE_CORRUPT) => StoreError::Damaged {
            path,
            report: reason,
        },
        Some(SQLITE_CANTOPEN | SQLITE_READONLY | SQLITE_PERM) => {
            StoreError::CannotOpen { path, reason }
        }
        _ => StoreError::Database(error),
    }
}

/// Like [`classify`] for the errors of running the migrations.
pub(crate) fn classify_migrate(path: &Path, error: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError;
    match error {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            match classify(path, e) {
                StoreError::Database(e) => StoreError::Migrate(MigrateError::Execute(e)),
                known => known,
            }
        }
        MigrateError::VersionMissing(version) if version > newest_known() => {
            StoreError::NewerSchema {
                path: path.to_owned(),
                version,
                known: newest_known(),
            }
        }
        other => StoreError::Migrate(other),
    }
}

impl Store {
    /// Folds the WAL into the database file and closes every connection, so the file alone
    /// holds everything (the pool may finish closing its connections in the background).
    pub async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(self.pool())
            .await
        {
            tracing::warn!(error = %e, "cannot checkpoint the database");
        }
        self.pool().close().await;
    }

    /// Writes a consistent copy of the database to `target` (`VACUUM INTO`: one read
    /// transaction, so writes of a running server neither block nor tear it), synced to
    /// disk, and checks the copy. An existing `target` is replaced only with `replace`.
    pub async fn backup_to(
        &self,
        target: &Path,
        replace: bool,
    ) -> Result<DatabaseSummary, StoreError> {
        if !replace && target.exists() {
            return Err(StoreError::BackupExists(target.to_owned()));
        }
        let name = target.file_name().ok_or_else(|| StoreError::Io {
            what: "write",
            path: target.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        remove_if_present(&tmp)?;
        let tmp_text = tmp.to_str().ok_or_else(|| StoreError::Io {
            what: "write",
            path: tmp.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not UTF-8"),
        })?;
        let written = sqlx::query("VACUUM INTO ?1")
            .bind(tmp_text)
            .execute(self.pool())
            .await;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(match classify(target, e) {
                StoreError::CannotOpen { reason, .. } => StoreError::Io {
                    what: "write",
                    path: target.to_owned(),
                    source: std::io::Error::other(reason),
                },
                other => other,
            });
        }
        let checked = async {
            sync_file(&tmp)?;
            inspect(&tmp, target).await
        }
        .await;
        let summary = match checked {
            Ok(summary) => summary,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        rename(&tmp, target)?;
        sync_parent(target);
        Ok(summary)
    }
}

/// Checks that `path` is a sound konferenz database this binary can take (same or older
/// schema) and counts what it holds. Only reads, and may run beside a server using the file.
pub async fn check_database(path: &Path) -> Result<DatabaseSummary, StoreError> {
    inspect(path, path).await
}

/// Any SQLite error while checking a file means the file cannot be taken.
fn unusable(shown: &Path, error: sqlx::Error) -> StoreError {
    match classify(shown, error) {
        StoreError::Database(e) => StoreError::Damaged {
            path: shown.to_owned(),
            report: e.to_string(),
        },
        other => other,
    }
}

/// [`check_database`] of `path`, naming `shown` in errors (the file the user gave).
async fn inspect(path: &Path, shown: &Path) -> Result<DatabaseSummary, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Io {
            what: "read",
            path: shown.to_owned(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false);
    // One connection, not a pool: its close() returns only once SQLite has closed the file.
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| unusable(shown, e))?;
    let summary = summarize(&mut conn, shown).await;
    let _ = conn.close().await;
    let mut summary = summary?;
    summary.bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(summary)
}

async fn summarize(
    conn: &mut SqliteConnection,
    shown: &Path,
) -> Result<DatabaseSummary, StoreError> {
    let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| unusable(shown, e))?;
    if report != ["ok"] {
        let mut text = report
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if report.len() > 3 {
            text.push_str(&format!(" (and {} more)", report.len() - 3));
        }
        return Err(StoreError::Damaged {
            path: shown.to_owned(),
            report: format!("integrity_check: {text}"),
        });
    }
    if !has_table(conn, "_sqlx_migrations", shown).await? {
        return Err(StoreError::NotKonferenz {
            path: shown.to_owned(),
            reason: "it has no _sqlx_migrations table".to_owned(),
        });
    }
    let rows = sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| unusable(shown, e))?;
    let mut schema = 0;
    for row in &rows {
        let version: i64 = row.try_get("version")?;
        let success: bool = row.try_get("success")?;
        let checksum: Vec<u8> = row.try_get("checksum")?;
        let not_ours = |reason: String| StoreError::NotKonferenz {
            path: shown.to_owned(),
            reason,
        };
        match SQLITE_MIGRATIONS.iter().find(|m| m.version == version) {
            None if version > newest_known() => {
                return Err(StoreError::NewerSchema {
                    path: shown.to_owned(),
                    version,
                    known: newest_known(),
                });
            }
            None => return Err(not_ours(format!("migration {version} is unknown here"))),
            Some(m) if *m.checksum != *checksum => {
                return Err(not_ours(format!(
                    "migration {version} differs from this build's"
                )));
            }
            Some(_) if !success => {
                return Err(not_ours(format!("migration {version} did not finish")));
            }
            Some(_) => schema = schema.max(version),
        }
    }
    if schema == 0 {
        return Err(StoreError::NotKonferenz {
            path: shown.to_owned(),
            reason: "no migration was ever applied to it".to_owned(),
        });
    }
    Ok(DatabaseSummary {
        schema,
        bytes: 0,
        rooms: count(conn, "rooms", "", shown).await?.unwrap_or(0),
        users: count(conn, "sip_users", "", shown).await?.unwrap_or(0),
        conferences: count(conn, "scheduled_conferences", "", shown).await?,
        queued_mails: count(conn, "mail_outbox", "WHERE state = 'queued'", shown).await?,
    })
}

/// Rows of `table` matching `filter`; None if the table does not exist.
async fn count(
    conn: &mut SqliteConnection,
    table: &str,
    filter: &str,
    shown: &Path,
) -> Result<Option<i64>, StoreError> {
    if !has_table(conn, table, shown).await? {
        return Ok(None);
    }
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} {filter}"))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| unusable(shown, e))?;
    Ok(Some(n))
}

async fn has_table(
    conn: &mut SqliteConnection,
    table: &str,
    shown: &Path,
) -> Result<bool, StoreError> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| unusable(shown, e))?;
    Ok(n > 0)
}

/// Replaces the database file `database` with a copy of `backup` once the copy has passed
/// [`check_database`]; the replaced database is kept as `<database>.before-restore-<now>`.
/// Nothing is changed when the backup is refused. No process may use `database` meanwhile.
pub async fn restore_database(
    database: &Path,
    backup: &Path,
    now: i64,
) -> Result<Restored, StoreError> {
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            dir: dir.to_owned(),
            source,
        })?;
    }
    let tmp = with_suffix(database, ".restoring");
    for stale in sqlite_files(&tmp) {
        remove_if_present(&stale)?;
    }
    std::fs::copy(backup, &tmp).map_err(|source| StoreError::Io {
        what: "read",
        path: backup.to_owned(),
        source,
    })?;
    let checked = async {
        let summary = inspect(&tmp, backup).await?;
        sync_file(&tmp)?;
        Ok::<_, StoreError>(summary)
    }
    .await;
    let summary = match checked {
        Ok(summary) => summary,
        Err(e) => {
            for stale in sqlite_files(&tmp) {
                let _ = std::fs::remove_file(stale);
            }
            return Err(e);
        }
    };

    let kept = if database.exists() {
        let kept = with_suffix(database, &format!(".before-restore-{now}"));
        fold_wal(database).await;
        if std::fs::hard_link(database, &kept).is_err() {
            std::fs::copy(database, &kept).map_err(|source| StoreError::Io {
                what: "copy",
                path: database.to_owned(),
                source,
            })?;
        }
        // A WAL that could not be folded in (a damaged database) goes with the kept copy; a
        // WAL left beside the new file would be replayed into it.
        let [_, wal, shm] = sqlite_files(database);
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            rename(&wal, &with_suffix(&kept, "-wal"))?;
        }
        remove_if_present(&wal)?;
        remove_if_present(&shm)?;
        Some(kept)
    } else {
        None
    };
    rename(&tmp, database)?;
    sync_parent(database);
    let pending_migrations = SQLITE_MIGRATIONS
        .iter()
        .filter(|m| m.version > summary.schema)
        .count();
    Ok(Restored {
        database: database.to_owned(),
        kept,
        summary,
        pending_migrations,
    })
}

/// Writes the WAL of the (unused) database at `path` into the main file and truncates it,
/// so the main file alone is the whole database. Best effort: a damaged file stays as it is.
async fn fold_wal(path: &Path) {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false);
    let Ok(mut conn) = SqliteConnection::connect_with(&options).await else {
        return;
    };
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
    {
        tracing::warn!(error = %e, "cannot checkpoint the database before replacing it");
    }
    let _ = conn.close().await;
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The database file and SQLite's companions of it.
fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    [
        path.to_owned(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ]
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
            what: "remove",
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), StoreError> {
    std::fs::rename(from, to).map_err(|source| StoreError::Io {
        what: "rename",
        path: from.to_owned(),
        source,
    })
}

fn sync_file(path: &Path) -> Result<(), StoreError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| StoreError::Io {
            what: "sync",
            path: path.to_owned(),
            source,
        })
}

/// Syncs the folder holding `path`, so a rename in it survives a power loss (best effort:
/// not every file system allows opening a folder).
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_sync_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/k.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(
            (mode.as_str(), sync),
            ("wal", 2),
            "WAL with synchronous=FULL"
        );
    }

    #[test]
    fn urls_name_their_files() {
        assert_eq!(
            database_path("sqlite://data/k.db").unwrap(),
            Some(PathBuf::from("data/k.db"))
        );
        assert_eq!(database_path("sqlite::memory:").unwrap(), None);
        assert!(database_path("postgres://x").is_err());
    }

    #[test]
    fn companions_are_named_like_sqlite_names_them() {
        let [db, wal, shm] = sqlite_files(Path::new("/d/k.db"));
        assert_eq!(
            (db, wal, shm),
            (
                PathBuf::from("/d/k.db"),
                PathBuf::from("/d/k.db-wal"),
                PathBuf::from("/d/k.db-shm")
            )
        );
    }
}
