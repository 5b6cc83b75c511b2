//! Rooms: the conference numbers people dial, with an optional display name, PIN and
//! prompt language.

use konferenz_conference::{Language, Pin, RoomNumber};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A conference room as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// The number callers dial.
    pub number: RoomNumber,
    /// A human-readable name ("Weekly sync").
    pub name: Option<String>,
    /// When the room was created, in seconds since the Unix epoch.
    pub created_at: i64,
    /// The PIN callers must enter, if any. Unique among rooms.
    pub pin: Option<Pin>,
    /// The language of the room's prompts; None = the configured default.
    pub language: Option<Language>,
    /// The room's own on-hold music (a WAV file on the server); None = the default.
    pub music: Option<String>,
    /// Whether callers may switch the prompt language; None = the configured default.
    pub language_switch: Option<bool>,
    /// The room-wide mute: whoever joins is muted ("mute all").
    pub muted: bool,
    /// The user (number) who owns the room; a user's personal room (the room with their
    /// own number) is theirs unless an administrator gave it to someone else.
    pub owner: Option<String>,
}

/// What it takes to create a room.
#[derive(Clone, Debug)]
pub struct NewRoom<'a> {
    pub number: &'a RoomNumber,
    pub name: Option<&'a str>,
    pub pin: Option<&'a Pin>,
    pub language: Option<Language>,
    pub music: Option<&'a str>,
    pub language_switch: Option<bool>,
    /// None: the user whose number the room has, if there is one.
    pub owner: Option<&'a str>,
}

impl<'a> NewRoom<'a> {
    /// A room with just a number; set the other fields with struct update syntax.
    pub fn new(number: &'a RoomNumber) -> Self {
        Self {
            number,
            name: None,
            pin: None,
            language: None,
            music: None,
            language_switch: None,
            owner: None,
        }
    }
}

/// Changes to a room; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomChanges {
    pub name: Option<Option<String>>,
    pub language: Option<Option<Language>>,
    pub music: Option<Option<String>>,
    pub owner: Option<Option<String>>,
}

const COLUMNS: &str =
    "number, name, created_at, pin, language, music, language_switch, muted, owner";

impl Room {
    fn from_row(row: &SqliteRow) -> Result<Room, StoreError> {
        let number: String = row.try_get("number")?;
        let number = RoomNumber::parse(&number)
            .map_err(|source| StoreError::BadStoredNumber { number, source })?;
        let pin: Option<String> = row.try_get("pin")?;
        let pin = pin
            .map(|p| Pin::parse(&p).map_err(|_| StoreError::BadStoredPin(number.clone())))
            .transpose()?;
        let language: Option<String> = row.try_get("language")?;
        Ok(Room {
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            pin,
            // An unknown stored code falls back to the default rather than losing the room.
            language: language.and_then(|l| Language::parse(&l).ok()),
            music: row.try_get("music")?,
            language_switch: row.try_get("language_switch")?,
            muted: row.try_get("muted")?,
            owner: row.try_get("owner")?,
            number,
        })
    }
}

impl Store {
    /// Creates a room; refuses a number that is taken with [`StoreError::RoomExists`] and a
    /// PIN another room has with [`StoreError::PinInUse`] (the other room stays as it was).
    pub async fn add_room(&self, new: &NewRoom<'_>) -> Result<Room, StoreError> {
        // The database clock stamps the row, so every writer agrees on one time source.
        let result = sqlx::query(&format!(
            "INSERT INTO rooms (number, name, created_at, pin, language, music, language_switch, owner) \
             VALUES (?1, ?2, unixepoch(), ?3, ?4, ?5, ?6, \
             COALESCE(?7, (SELECT number FROM sip_users WHERE number = ?1))) RETURNING {COLUMNS}"
        ))
        .bind(new.number.as_str())
        .bind(new.name)
        .bind(new.pin.map(Pin::reveal))
        .bind(new.language.map(Language::code))
        .bind(new.music)
        .bind(new.language_switch)
        .bind(new.owner)
        .fetch_one(self.pool())
        .await;
        match result {
            Ok(row) => Room::from_row(&row),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                if e.message().contains("rooms.pin") {
                    Err(StoreError::PinInUse)
                } else {
                    Err(StoreError::RoomExists(new.number.clone()))
                }
            }
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
                StoreError::NoSuchUser(new.owner.unwrap_or_default().to_owned()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Changes a room's name, language, on-hold music or owner (each `Some` is set, `Some(None)`
    /// clears it); [`StoreError::NoSuchRoom`], or [`StoreError::NoSuchUser`] for an unknown owner.
    pub async fn update_room(
        &self,
        number: &RoomNumber,
        changes: &RoomChanges,
    ) -> Result<Room, StoreError> {
        let result = sqlx::query(&format!(
            "UPDATE rooms SET \
             name = CASE WHEN ?2 THEN ?3 ELSE name END, \
             language = CASE WHEN ?4 THEN ?5 ELSE language END, \
             music = CASE WHEN ?6 THEN ?7 ELSE music END, \
             owner = CASE WHEN ?8 THEN ?9 ELSE owner END \
             WHERE number = ?1 RETURNING {COLUMNS}"
        ))
        .bind(number.as_str())
        .bind(changes.name.is_some())
        .bind(changes.name.clone().flatten())
        .bind(changes.language.is_some())
        .bind(changes.language.flatten().map(Language::code))
        .bind(changes.music.is_some())
        .bind(changes.music.clone().flatten())
        .bind(changes.owner.is_some())
        .bind(changes.owner.clone().flatten())
        .fetch_optional(self.pool())
        .await;
        match result {
            Ok(Some(row)) => Room::from_row(&row),
            Ok(None) => Err(StoreError::NoSuchRoom(number.clone())),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
                StoreError::NoSuchUser(changes.owner.clone().flatten().unwrap_or_default()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets or clears a room's PIN; [`StoreError::PinInUse`] if another room has it.
    pub async fn set_room_pin(
        &self,
        number: &RoomNumber,
        pin: Option<&Pin>,
    ) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE rooms SET pin = ?2 WHERE number = ?1")
            .bind(number.as_str())
            .bind(pin.map(Pin::reveal))
            .execute(self.pool())
            .await;
        match result {
            Ok(done) if done.rows_affected() == 0 => Err(StoreError::NoSuchRoom(number.clone())),
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::PinInUse),
            Err(e) => Err(e.into()),
        }
    }

    /// Switches the room-wide mute; [`StoreError::NoSuchRoom`] if the number is unknown.
    pub async fn set_room_muted(&self, number: &RoomNumber, muted: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE rooms SET muted = ?2 WHERE number = ?1")
            .bind(number.as_str())
            .bind(muted)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchRoom(number.clone()));
        }
        Ok(())
    }

    /// A number that changes whenever a room is added, changed or removed (by any process).
    pub async fn rooms_version(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT version FROM rooms_version WHERE id = 1")
                .fetch_one(self.pool())
                .await?
                .try_get("version")?,
        )
    }

    /// The room whose PIN this is (for a shared dial-in number).
    pub async fn find_room_by_pin(&self, pin: &Pin) -> Result<Option<Room>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM rooms WHERE pin = ?1"))
            .bind(pin.reveal())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(Room::from_row)
            .transpose()
    }

    /// All rooms, ordered by number.
    pub async fn list_rooms(&self) -> Result<Vec<Room>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM rooms ORDER BY number"))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(Room::from_row)
            .collect()
    }

    /// The room with this number, if there is one.
    pub async fn find_room(&self, number: &RoomNumber) -> Result<Option<Room>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM rooms WHERE number = ?1"))
            .bind(number.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(Room::from_row)
            .transpose()
    }

    /// Deletes a room; [`StoreError::NoSuchRoom`] if the number is unknown.
    pub async fn remove_room(&self, number: &RoomNumber) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM rooms WHERE number = ?1")
            .bind(number.as_str())
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchRoom(number.clone()));
        }
        Ok(())
    }
}
