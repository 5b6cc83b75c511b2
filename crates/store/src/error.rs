//! `StoreError`: everything that can go wrong between the server and its database.

use std::path::PathBuf;

use konferenz_conference::{RoomNumber, RoomNumberError};

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend this build does not support.
    #[error("unsupported database URL {0:?}; use sqlite://PATH or sqlite::memory:")]
    UnsupportedUrl(String),
    /// The URL has the right scheme but sqlx cannot parse it.
    #[error("invalid database URL {url:?}: {source}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What sqlx objected to.
        source: sqlx::Error,
    },
    /// The directory for the database file could not be created.
    #[error("cannot create database directory {}: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a SQLite database at all (another file, or its header is damaged).
    #[error("{} is not a SQLite database ({reason})", path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// SQLite cannot open, read or write the database file (permissions, a read-only
    /// folder, a missing folder).
    #[error("cannot open database {}: {reason}", path.display())]
    CannotOpen {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// `PRAGMA integrity_check` found damage, or SQLite reported a corrupt page.
    #[error("{} is damaged: {report}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The first lines of the integrity report.
        report: String,
    },
    /// A SQLite database, but not one konferenz wrote (or one it cannot take).
    #[error("{} is not a konferenz database: {reason}", path.display())]
    NotKonferenz {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The database has migrations this binary does not know: a newer konferenz wrote it.
    #[error(
        "{} was written by a newer konferenz (schema {version}; this one knows up to {known})",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The unknown migration.
        version: i64,
        /// This binary's newest migration.
        known: i64,
    },
    /// A backup would overwrite an existing file.
    #[error("{} already exists", .0.display())]
    BackupExists(PathBuf),
    /// A file operation of a backup or restore failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was being done ("write", "copy", "rename" …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database failure (I/O, locking, a broken file).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A room with this number already exists.
    #[error("room {0} already exists")]
    RoomExists(RoomNumber),
    /// A registrar user with this number already exists.
    #[error("user {0} already exists")]
    UserExists(String),
    /// No registrar user has this number.
    #[error("no user {0}")]
    NoSuchUser(String),
    /// Another user already logs in with this e-mail address.
    #[error("another user already has the e-mail address {0}")]
    EmailInUse(String),
    /// Another room already has this PIN (PINs valid at the same time are unique).
    #[error("another room already has this PIN; choose a different one")]
    PinInUse,
    /// A stored PIN is not valid (the row was written by something else). The PIN is not shown.
    #[error("the stored PIN of room {0} is invalid")]
    BadStoredPin(RoomNumber),
    /// No (live) scheduled conference has this id.
    #[error("no scheduled conference {0}")]
    NoSuchConference(i64),
    /// No room has this number.
    #[error("no room {0}")]
    NoSuchRoom(RoomNumber),
    /// A stored room number is not valid (the row was written by something else).
    #[error("stored room number {number:?} is invalid: {source}")]
    BadStoredNumber {
        /// The text in the database.
        number: String,
        /// Why it is not a room number.
        source: RoomNumberError,
    },
}
