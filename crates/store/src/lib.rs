//! konferenz-store: the only crate that speaks SQL.
//!
//! [`Store`] wraps a connection pool; SQLite is the default backend. The schema is
//! embedded ([`sqlx::migrate!`]) and brought up to date by [`Store::open`], so a fresh
//! file and an old one both end up with the current tables.

mod access;
mod audit;
mod backup;
mod block;
mod error;
mod outbox;
mod participant_log;
mod phonebook;
mod room;
mod schedule;
mod sip_user;
mod user_settings;

pub use access::{ApiToken, InviteeLink, WebSession};
pub use audit::{AuditEntry, NewAuditEntry};
pub use backup::{DatabaseSummary, Restored, check_database, database_path, restore_database};
pub use block::RoomBlock;
pub use error::StoreError;
pub use outbox::OutboxMail;
pub use participant_log::{CallHistory, HistoryChange, ParticipantEvent};
pub use phonebook::{ImportOutcome, PhonebookEntry, PhonebookError, PhonebookMatch};
pub use room::{NewRoom, Room, RoomChanges};
pub use schedule::{Invitee, NewMail, SchedulePreferences, ScheduleTexts, ScheduledConference};
pub use sip_user::{SipBinding, SipUser, UserChanges};
pub use user_settings::UserSettings;

use std::path::Path;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The SQLite schema, compiled into the binary.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// `PRAGMA synchronous` of every connection. FULL: in WAL mode each commit syncs the WAL
/// before it returns, so whatever the server has answered for (a room, a scheduled
/// conference and its queued mails) survives `kill -9`, an OS crash and a power loss on a
/// disk that honours flushes. NORMAL would sync only at checkpoints and could lose the last
/// commits on power loss; our writes are few or batched, so the fsync per commit is cheap.
const SYNCHRONOUS: SqliteSynchronous = SqliteSynchronous::Full;

/// A handle to the database; cheap to clone (all clones share one pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and runs the migrations.
    ///
    /// `url` is `sqlite://path/to/file.db` (parent directories are created) or
    /// `sqlite::memory:`. Other schemes are refused with [`StoreError::UnsupportedUrl`].
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::BadUrl {
                url: url.to_owned(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SYNCHRONOUS)
            .foreign_keys(true);

        let in_memory = is_in_memory(options.get_filename());
        let mut pool_options = SqlitePoolOptions::new();
        if in_memory {
            // An in-memory database lives only as long as one connection to it is open.
            pool_options = pool_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            create_parent_dir(options.get_filename())?;
        }

        let path = options.get_filename().to_owned();
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(|e| backup::classify(&path, e))?;
        SQLITE_MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| backup::classify_migrate(&path, e))?;
        tracing::debug!(in_memory, "database opened and migrated");
        Ok(Store { pool })
    }

    /// The underlying pool, for code in this crate.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// True for the names sqlx gives in-memory databases (`:memory:` or a `file:` URI).
fn is_in_memory(filename: &Path) -> bool {
    filename
        .to_str()
        .is_some_and(|f| f == ":memory:" || f.starts_with("file:"))
}

/// Creates the directory that will hold the database file.
///
/// Blocking I/O, but it happens once at start-up before anything else runs.
fn create_parent_dir(filename: &Path) -> Result<(), StoreError> {
    match filename.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}
