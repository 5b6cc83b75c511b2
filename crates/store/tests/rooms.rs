//! Black-box tests of the store against real SQLite files in a temp directory.

use konferenz_conference::{Language, Pin, RoomNumber};
use konferenz_store::{NewRoom, Store, StoreError};
use tempfile::TempDir;

fn number(text: &str) -> RoomNumber {
    RoomNumber::parse(text).unwrap()
}

fn plain<'a>(number: &'a RoomNumber, name: Option<&'a str>) -> NewRoom<'a> {
    NewRoom {
        name,
        ..NewRoom::new(number)
    }
}

fn db_url(dir: &TempDir) -> String {
    // A nested path also checks that missing parent directories are created.
    format!("sqlite://{}/data/konferenz.db", dir.path().display())
}

#[tokio::test]
async fn rooms_are_added_listed_found_and_removed() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&db_url(&dir)).await.unwrap();
    assert!(store.list_rooms().await.unwrap().is_empty());

    let weekly = store
        .add_room(&plain(&number("800"), Some("Weekly sync")))
        .await
        .unwrap();
    assert_eq!(weekly.number, number("800"));
    assert_eq!(weekly.name.as_deref(), Some("Weekly sync"));
    assert!(
        weekly.created_at > 1_600_000_000,
        "created_at {}",
        weekly.created_at
    );
    let unnamed = store.add_room(&plain(&number("700"), None)).await.unwrap();
    assert_eq!(unnamed.name, None);

    let rooms = store.list_rooms().await.unwrap();
    assert_eq!(
        rooms,
        vec![unnamed.clone(), weekly.clone()],
        "ordered by number"
    );
    assert_eq!(store.find_room(&number("800")).await.unwrap(), Some(weekly));
    assert_eq!(store.find_room(&number("999")).await.unwrap(), None);

    store.remove_room(&number("800")).await.unwrap();
    assert_eq!(store.find_room(&number("800")).await.unwrap(), None);
    assert_eq!(store.list_rooms().await.unwrap(), vec![unnamed]);
}

#[tokio::test]
async fn duplicate_room_is_refused_and_original_kept() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&db_url(&dir)).await.unwrap();
    let original = store
        .add_room(&plain(&number("800"), Some("Original")))
        .await
        .unwrap();

    let err = store
        .add_room(&plain(&number("800"), Some("Impostor")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::RoomExists(n) if *n == number("800")),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "room 800 already exists");
    assert_eq!(store.list_rooms().await.unwrap(), vec![original]);
}

#[tokio::test]
async fn removing_unknown_room_is_an_error() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&db_url(&dir)).await.unwrap();
    let err = store.remove_room(&number("800")).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::NoSuchRoom(n) if *n == number("800")),
        "{err:?}"
    );
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    let dir = TempDir::new().unwrap();
    let url = db_url(&dir);
    let room = {
        let store = Store::open(&url).await.unwrap();
        store
            .add_room(&plain(&number("800"), Some("Weekly sync")))
            .await
            .unwrap()
    };
    for _ in 0..2 {
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.list_rooms().await.unwrap(), vec![room.clone()]);
    }
}

#[tokio::test]
async fn in_memory_database_works_across_pool_connections() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.add_room(&plain(&number("800"), None)).await.unwrap();
    let clone = store.clone();
    let (a, b) = tokio::join!(store.list_rooms(), clone.list_rooms());
    assert_eq!(a.unwrap().len(), 1);
    assert_eq!(b.unwrap().len(), 1);
}

#[tokio::test]
async fn unsupported_url_scheme_is_refused() {
    let err = Store::open("postgres://localhost/konferenz")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err:?}");
    assert!(
        err.to_string().contains("postgres://localhost/konferenz"),
        "{err}"
    );
}

#[tokio::test]
async fn pins_are_unique_and_select_their_room() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&db_url(&dir)).await.unwrap();
    let pin = Pin::parse("4711").unwrap();
    let n800 = number("800");
    let room = store
        .add_room(&NewRoom {
            pin: Some(&pin),
            language: Some(Language::German),
            ..NewRoom::new(&n800)
        })
        .await
        .unwrap();
    assert_eq!(room.pin.as_ref(), Some(&pin));
    assert_eq!(room.language, Some(Language::German));
    assert_eq!((room.music.as_deref(), room.language_switch), (None, None));
    let n801 = number("801");
    let refused = store
        .add_room(&NewRoom {
            pin: Some(&pin),
            ..NewRoom::new(&n801)
        })
        .await;
    assert!(matches!(refused, Err(StoreError::PinInUse)), "{refused:?}");
    assert!(
        store.find_room(&n801).await.unwrap().is_none(),
        "nothing half-written"
    );
    assert_eq!(
        store.find_room_by_pin(&pin).await.unwrap().unwrap().number,
        n800
    );
    assert!(
        store
            .find_room_by_pin(&Pin::parse("1234").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    store.add_room(&plain(&n801, None)).await.unwrap();
    assert!(matches!(
        store.set_room_pin(&n801, Some(&pin)).await,
        Err(StoreError::PinInUse)
    ));
    store.set_room_pin(&n800, None).await.unwrap();
    store.set_room_pin(&n801, Some(&pin)).await.unwrap();
    assert_eq!(
        store.find_room_by_pin(&pin).await.unwrap().unwrap().number,
        n801
    );
    assert_eq!(store.find_room(&n800).await.unwrap().unwrap().pin, None);
    assert!(matches!(
        store.set_room_pin(&number("999"), None).await,
        Err(StoreError::NoSuchRoom(_))
    ));
}

#[tokio::test]
async fn a_rooms_music_and_language_switch_round_trip() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&db_url(&dir)).await.unwrap();
    let n = number("800");
    let new = NewRoom {
        music: Some("/srv/music/jazz.wav"),
        language_switch: Some(false),
        ..NewRoom::new(&n)
    };
    store.add_room(&new).await.unwrap();
    let room = store.find_room(&n).await.unwrap().unwrap();
    assert_eq!(room.music.as_deref(), Some("/srv/music/jazz.wav"));
    assert_eq!(room.language_switch, Some(false));
}

#[tokio::test]
async fn the_room_wide_mute_is_kept_and_every_change_moves_the_version() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let v0 = store.rooms_version().await.unwrap();
    let number = RoomNumber::parse("800").unwrap();
    let room = store.add_room(&NewRoom::new(&number)).await.unwrap();
    assert!(!room.muted);
    let v1 = store.rooms_version().await.unwrap();
    assert!(v1 > v0, "an added room moves the version");
    store.set_room_muted(&number, true).await.unwrap();
    assert!(store.find_room(&number).await.unwrap().unwrap().muted);
    let v2 = store.rooms_version().await.unwrap();
    assert!(v2 > v1, "a change moves the version");
    store.remove_room(&number).await.unwrap();
    assert!(
        store.rooms_version().await.unwrap() > v2,
        "a removal moves it"
    );
    assert!(matches!(
        store.set_room_muted(&number, true).await,
        Err(StoreError::NoSuchRoom(_))
    ));
}
