//! The schema is brought up to date from nothing, from the previous release, and from
//! before user accounts (the registrar's users and bindings kept, without a web password).
//!
//! There are no release tags; the previous release is taken to be commit 7acd001, the last
//! schema before scheduled conferences (migrations up to 20250110000000_web_access.sql).
//! `fixtures/schema-7acd001.sql` is that database with rows in every table, made by
//! `fixtures/make-schema-fixture.sh` from the migrations as they were at that commit.

use std::collections::BTreeMap;
use std::path::Path;

use konferenz_store::Store;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;
use tempfile::TempDir;

/// Every table of the current schema.
const TABLES: &[&str] = &[
    "_sqlx_migrations",
    "api_tokens",
    "audit_log",
    "conference_invitees",
    "invitee_links",
    "mail_outbox",
    "participant_events",
    "phonebook_entries",
    "phonebook_numbers",
    "room_blocks",
    "room_shares",
    "rooms",
    "rooms_version",
    "schedule_defaults",
    "schedule_preferences",
    "scheduled_conferences",
    "sip_bindings",
    "sip_users",
    "sqlite_sequence",
    "user_settings",
    "web_sessions",
];

/// The triggers that keep `rooms_version` and room owners right.
const TRIGGERS: &[&str] = &[
    "rooms_version_delete",
    "rooms_version_insert",
    "rooms_version_update",
    "scheduled_version_delete",
    "scheduled_version_insert",
    "scheduled_version_update",
    "sip_users_own_room",
];

/// The migrations in `migrations/sqlite`, by version.
fn migration_versions() -> Vec<i64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.split('_').next().unwrap().parse().unwrap()
        })
        .collect();
    versions.sort();
    versions
}

async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    SqlitePool::connect_with(options).await.unwrap()
}

async fn names(pool: &SqlitePool, kind: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = ?1 AND name NOT LIKE 'sqlite_autoindex%' \
         ORDER BY name",
    )
    .bind(kind)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn applied(pool: &SqlitePool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Every row of every table but `_sqlx_migrations`, each as its columns' SQL literals.
async fn contents(pool: &SqlitePool) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for table in names(pool, "table").await {
        if table == "_sqlx_migrations" {
            continue;
        }
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
            .bind(&table)
            .fetch_all(pool)
            .await
            .unwrap();
        let row = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\" ORDER BY rowid"))
                .fetch_all(pool)
                .await
                .unwrap();
        all.insert(table, rows);
    }
    all
}

#[tokio::test]
async fn an_empty_database_gets_every_table_and_migration() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("new.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.close().await;
    let pool = raw_pool(&path).await;
    assert_eq!(names(&pool, "table").await, TABLES);
    assert_eq!(names(&pool, "trigger").await, TRIGGERS);
    assert_eq!(applied(&pool).await, migration_versions());
    let version: i64 = sqlx::query_scalar("SELECT version FROM rooms_version")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(version, 0);
}

#[tokio::test]
async fn the_previous_releases_database_is_migrated_keeping_every_row() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("old.db");
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-7acd001.sql"),
    )
    .unwrap();
    let pool = raw_pool(&path).await;
    sqlx::raw_sql(&fixture).execute(&pool).await.unwrap();
    let old_versions = applied(&pool).await;
    assert_eq!(old_versions.last(), Some(&20_250_110_000_000));
    let before = contents(&pool).await;
    for table in [
        "rooms",
        "sip_users",
        "sip_bindings",
        "room_shares",
        "phonebook_entries",
        "phonebook_numbers",
        "participant_events",
        "room_blocks",
        "web_sessions",
        "api_tokens",
        "invitee_links",
    ] {
        assert!(!before[table].is_empty(), "the fixture has rows in {table}");
    }
    pool.close().await;

    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("the current binary opens and migrates the previous release's database");

    // Through the store, as the server reads them.
    let rooms = store.list_rooms().await.unwrap();
    let listed: Vec<(String, Option<String>, bool, Option<String>)> = rooms
        .iter()
        .map(|r| {
            (
                r.number.to_string(),
                r.name.clone(),
                r.muted,
                r.owner.clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "201".into(),
                Some("Anna's room".into()),
                false,
                Some("201".into())
            ),
            ("800".into(), Some("Weekly sync".into()), true, None),
            ("801".into(), None, false, None),
        ]
    );
    let weekly = &rooms[1];
    assert!(weekly.pin.is_some());
    assert_eq!(rooms[2].music.as_deref(), Some("/srv/music/hold.wav"));
    let users = store.list_sip_users().await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].email.as_deref(), Some("anna@example.org"));
    assert!(users[0].admin && users[0].organiser && users[0].web_password.is_some());
    assert_eq!(store.live_sip_bindings(0).await.unwrap().len(), 2);
    let book = store.list_phonebook().await.unwrap();
    assert_eq!(book.len(), 2);
    assert_eq!(book[0].contact.name(), "Carla Rossi");
    assert_eq!(book[0].contact.numbers().len(), 2);
    assert_eq!(store.room_shares().await.unwrap().len(), 1);
    assert_eq!(store.room_blocks(0).await.unwrap().len(), 2);
    assert_eq!(store.recent_participant_events(10).await.unwrap().len(), 5);
    assert_eq!(store.last_participant_call().await.unwrap(), 2);
    let session = store
        .find_session(
            &[
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                0xcc, 0xdd, 0xee, 0xff,
            ],
            0,
        )
        .await
        .unwrap()
        .expect("the browser session survives");
    assert_eq!(session.user, "201");
    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 1);
    assert!(
        store
            .find_invitee_link("Zx8kq2Lw9Pm4Rt6Y")
            .await
            .unwrap()
            .is_some()
    );
    // The new tables are there and empty; scheduling works on the migrated file.
    assert!(store.scheduled_conferences(None).await.is_ok());
    store.close().await;

    // Row for row, every table of the old schema holds what it held.
    let pool = raw_pool(&path).await;
    assert_eq!(applied(&pool).await, migration_versions());
    assert_eq!(names(&pool, "table").await, TABLES);
    let after = contents(&pool).await;
    for (table, rows) in &before {
        assert_eq!(&after[table], rows, "rows of {table}");
    }
    for table in after.keys().filter(|t| !before.contains_key(*t)) {
        assert!(after[table].is_empty(), "new table {table} starts empty");
    }
}

/// The migration that made the registrar's users accounts (e-mail, web password, flags).
const USER_ACCOUNTS: i64 = 20_250_109_000_000;

/// A database as konferenz left it before accounts existed: only the migrations before
/// [`USER_ACCOUNTS`] applied (by sqlx, from a folder holding just those files, so they
/// are recorded as the current binary expects), with a registrar user and a binding.
#[tokio::test]
async fn registrar_users_from_before_accounts_keep_their_hashes_and_get_no_web_password() {
    let dir = TempDir::new().unwrap();
    let older = dir.path().join("migrations");
    std::fs::create_dir(&older).unwrap();
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&all).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if version < USER_ACCOUNTS {
            std::fs::copy(entry.path(), older.join(&name)).unwrap();
        }
    }
    let path = dir.path().join("before-accounts.db");
    let pool = raw_pool(&path).await;
    sqlx::migrate::Migrator::new(older.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let old_versions = applied(&pool).await;
    assert_eq!(old_versions.last(), Some(&20_250_108_000_000));
    let columns = |pool: SqlitePool| async move {
        sqlx::query_scalar::<_, String>("SELECT name FROM pragma_table_info('sip_users')")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    assert_eq!(
        columns(pool.clone()).await,
        [
            "number",
            "name",
            "realm",
            "ha1_md5",
            "ha1_sha256",
            "created_at"
        ],
        "the schema of the registrar before accounts"
    );
    sqlx::raw_sql(
        "PRAGMA foreign_keys = ON;
         INSERT INTO rooms (number, name, created_at) VALUES ('201', 'Anna''s room', 1764990004);
         INSERT INTO sip_users (number, name, realm, ha1_md5, ha1_sha256, created_at)
             VALUES ('201', 'Anna Müller', 'konferenz', '0123456789abcdef0123456789abcdef',
                     '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
                     1764990002);
         INSERT INTO sip_bindings (number, contact, source, transport, expires_at)
             VALUES ('201', 'sip:201@192.0.2.7:5062', '192.0.2.7:5062', 'udp', 4102444800);",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("the current binary migrates a database from before accounts");
    let users = store.list_sip_users().await.unwrap();
    assert_eq!(users.len(), 1);
    let anna = &users[0];
    assert_eq!(
        (
            anna.number.as_str(),
            anna.name.as_str(),
            anna.realm.as_str()
        ),
        ("201", "Anna Müller", "konferenz")
    );
    assert_eq!(
        (anna.ha1_md5.as_str(), anna.ha1_sha256.as_str()),
        (
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        "the phone's digest hashes are kept: it registers as before"
    );
    assert_eq!(anna.email, None);
    assert!(!anna.admin && !anna.organiser, "no roles until given");
    assert_eq!(
        anna.web_password, None,
        "no web password: the HA1 hashes cannot become one"
    );
    let by_login = store.find_user_by_login("201").await.unwrap().unwrap();
    assert_eq!(
        by_login.web_password, None,
        "the login has nothing to accept"
    );
    let bindings = store.live_sip_bindings(0).await.unwrap();
    let kept: Vec<(&str, &str, &str, &str, i64)> = bindings
        .iter()
        .map(|b| {
            (
                b.number.as_str(),
                b.contact.as_str(),
                b.source.as_str(),
                b.transport.as_str(),
                b.expires_at,
            )
        })
        .collect();
    assert_eq!(
        kept,
        [(
            "201",
            "sip:201@192.0.2.7:5062",
            "192.0.2.7:5062",
            "udp",
            4102444800
        )]
    );
    let rooms = store.list_rooms().await.unwrap();
    assert_eq!(
        rooms[0].owner.as_deref(),
        Some("201"),
        "the room with her number became hers"
    );
    store.close().await;

    let pool = raw_pool(&path).await;
    assert_eq!(applied(&pool).await, migration_versions());
    let stored: (Option<String>, Option<String>, i64, i64) = sqlx::query_as(
        "SELECT email, web_password, admin, organiser FROM sip_users WHERE number = '201'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, (None, None, 0, 0));
}
