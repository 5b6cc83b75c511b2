//! Backups and restores of real SQLite files: `VACUUM INTO` while another task writes, the
//! replacement keeping the old file, and every kind of refused file leaving the database
//! untouched.

use std::path::{Path, PathBuf};

use konferenz_conference::RoomNumber;
use konferenz_store::{NewRoom, SipUser, Store, StoreError, check_database, restore_database};
use tempfile::TempDir;

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn add_room(store: &Store, number: &str) {
    let number = RoomNumber::parse(number).unwrap();
    store.add_room(&NewRoom::new(&number)).await.unwrap();
}

async fn room_numbers(store: &Store) -> Vec<String> {
    let rooms = store.list_rooms().await.unwrap();
    rooms.iter().map(|r| r.number.to_string()).collect()
}

fn user(number: &str) -> SipUser {
    SipUser {
        number: number.into(),
        name: "Anna".into(),
        realm: "konferenz".into(),
        ha1_md5: "m".into(),
        ha1_sha256: "s".into(),
        email: None,
        web_password: None,
        admin: false,
        organiser: false,
    }
}

/// The files of a folder, sorted (to see that nothing was left behind or changed).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A database with rooms 800 and 801 and user 201, closed; its path.
async fn database(dir: &TempDir) -> PathBuf {
    let db = dir.path().join("data/konferenz.db");
    let store = Store::open(&url(&db)).await.unwrap();
    add_room(&store, "800").await;
    add_room(&store, "801").await;
    store.put_sip_user(&user("201"), false).await.unwrap();
    store.close().await;
    db
}

#[tokio::test]
async fn a_backup_taken_during_writes_is_consistent_and_not_overwritten_by_accident() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let store = Store::open(&url(&db)).await.unwrap();
    // A writer adds rooms 1000.. while the backup runs.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 1000..1200 {
                add_room(&store, &n.to_string()).await;
            }
        })
    };
    let target = dir.path().join("backup.db");
    let summary = store.backup_to(&target, false).await.unwrap();
    writer.await.unwrap();
    assert!(summary.rooms >= 2 && summary.users == 1, "{summary:?}");
    assert_eq!(summary.bytes, std::fs::metadata(&target).unwrap().len());
    assert_eq!(summary.queued_mails, Some(0));
    assert!(
        listing(dir.path()).iter().all(|n| !n.contains(".tmp-")),
        "no temporary file left: {:?}",
        listing(dir.path())
    );
    // The copy is a snapshot: exactly the rooms it reports, opened by itself.
    let copy = Store::open(&url(&target)).await.unwrap();
    let rooms = room_numbers(&copy).await;
    assert_eq!(rooms.len() as i64, summary.rooms);
    assert!(rooms.contains(&"800".to_owned()));
    copy.close().await;

    let again = store.backup_to(&target, false).await.unwrap_err();
    assert!(matches!(again, StoreError::BackupExists(_)), "{again}");
    let replaced = store.backup_to(&target, true).await.unwrap();
    assert_eq!(replaced.rooms, 202, "every room once the writer is done");
}

#[tokio::test]
async fn a_restore_replaces_the_database_and_keeps_the_old_one() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let backup = dir.path().join("backup.db");
    let store = Store::open(&url(&db)).await.unwrap();
    store.backup_to(&backup, false).await.unwrap();
    // Changes after the backup.
    store
        .remove_room(&RoomNumber::parse("800").unwrap())
        .await
        .unwrap();
    add_room(&store, "900").await;
    store.close().await;

    let restored = restore_database(&db, &backup, 1_800_000_000).await.unwrap();
    assert_eq!(restored.database, db);
    let kept = restored.kept.clone().expect("the old database is kept");
    assert_eq!(
        kept.file_name().unwrap(),
        "konferenz.db.before-restore-1800000000"
    );
    assert_eq!((restored.summary.rooms, restored.summary.users), (2, 1));
    assert_eq!(restored.pending_migrations, 0);
    assert!(
        !listing(db.parent().unwrap())
            .iter()
            .any(|n| n.contains("restoring")),
        "{:?}",
        listing(db.parent().unwrap())
    );

    let now = Store::open(&url(&db)).await.unwrap();
    assert_eq!(room_numbers(&now).await, ["800", "801"]);
    assert!(now.find_sip_user("201").await.unwrap().is_some());
    now.close().await;
    let old = Store::open(&url(&kept)).await.unwrap();
    assert_eq!(room_numbers(&old).await, ["801", "900"]);
    old.close().await;
}

#[tokio::test]
async fn a_restore_onto_a_missing_database_creates_it() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let fresh = dir.path().join("elsewhere/new.db");
    let restored = restore_database(&fresh, &db, 1).await.unwrap();
    assert!(restored.kept.is_none());
    let store = Store::open(&url(&fresh)).await.unwrap();
    assert_eq!(room_numbers(&store).await, ["800", "801"]);
}

/// Restoring `bad` is refused with an error `expect` accepts, and nothing in the database's
/// folder changes.
async fn refused(bad: &Path, expect: impl Fn(&StoreError) -> bool) -> StoreError {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let folder = db.parent().unwrap();
    // The database's bytes and the other files beside it (SQLite's -wal and -shm of the
    // closed pool may still be going away in the background).
    let state = || {
        let bytes = std::fs::read(&db).unwrap();
        let mut hash = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&bytes, &mut hash);
        let mut others = listing(folder);
        others.retain(|n| !n.ends_with("-wal") && !n.ends_with("-shm"));
        (others, std::hash::Hasher::finish(&hash))
    };
    let before = state();
    let error = restore_database(&db, bad, 1).await.unwrap_err();
    assert!(expect(&error), "unexpected error: {error}");
    assert_eq!(state(), before, "the database is untouched");
    let store = Store::open(&url(&db)).await.unwrap();
    assert_eq!(room_numbers(&store).await, ["800", "801"]);
    error
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("notes.txt");
    std::fs::write(&bad, "not a database\n".repeat(500)).unwrap();
    let error = refused(&bad, |e| matches!(e, StoreError::NotADatabase { .. })).await;
    assert!(error.to_string().contains("notes.txt"), "{error}");
}

#[tokio::test]
async fn a_missing_file_is_refused() {
    let dir = TempDir::new().unwrap();
    refused(&dir.path().join("nothing.db"), |e| {
        matches!(e, StoreError::Io { what: "read", .. })
    })
    .await;
}

/// A SQLite file made with plain sqlx, `sql` run in it; its path.
async fn sqlite_file(dir: &TempDir, name: &str, sql: &str) -> PathBuf {
    let path = dir.path().join(name);
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
    path
}

#[tokio::test]
async fn another_programs_database_is_refused() {
    let dir = TempDir::new().unwrap();
    let foreign = sqlite_file(
        &dir,
        "other.db",
        "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    )
    .await;
    let error = refused(&foreign, |e| matches!(e, StoreError::NotKonferenz { .. })).await;
    assert!(error.to_string().contains("_sqlx_migrations"), "{error}");
}

#[tokio::test]
async fn a_backup_from_a_newer_konferenz_is_refused() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let newer = dir.path().join("newer.db");
    std::fs::copy(&db, &newer).unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&newer);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000000, 'future', 1, x'00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let error = refused(&newer, |e| {
        matches!(
            e,
            StoreError::NewerSchema {
                version: 29_991_231_000_000,
                ..
            }
        )
    })
    .await;
    assert!(error.to_string().contains("newer konferenz"), "{error}");
    // Opening it as the database says the same (instead of a bare sqlx message).
    let opened = Store::open(&url(&newer)).await.unwrap_err();
    assert!(matches!(opened, StoreError::NewerSchema { .. }), "{opened}");
}

#[tokio::test]
async fn a_damaged_backup_is_refused() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let store = Store::open(&url(&db)).await.unwrap();
    for n in 1000..1300 {
        add_room(&store, &n.to_string()).await;
    }
    let damaged = dir.path().join("damaged.db");
    store.backup_to(&damaged, false).await.unwrap();
    store.close().await;
    // Garbage over the second page onwards; the header (page 1) stays a SQLite header.
    let mut bytes = std::fs::read(&damaged).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert!(bytes.len() >= 3 * page, "the file spans several pages");
    for b in &mut bytes[page..3 * page] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let error = refused(&damaged, |e| matches!(e, StoreError::Damaged { .. })).await;
    assert!(error.to_string().contains("damaged"), "{error}");
}

#[tokio::test]
async fn check_database_counts_what_a_file_holds() {
    let dir = TempDir::new().unwrap();
    let db = database(&dir).await;
    let summary = check_database(&db).await.unwrap();
    assert_eq!((summary.rooms, summary.users), (2, 1));
    assert_eq!(summary.conferences, Some(0));
    assert!(summary.schema >= 20_250_115_000_000, "{summary:?}");
}
