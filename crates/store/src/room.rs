//! Rooms: the conference numbers people dial, with an optional display name.

use konferenz_conference::RoomNumber;
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
}

impl Room {
    fn from_row(row: &SqliteRow) -> Result<Room, StoreError> {
        let number: String = row.try_get("number")?;
        let number = RoomNumber::parse(&number)
            .map_err(|source| StoreError::BadStoredNumber { number, source })?;
        Ok(Room {
            number,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl Store {
    /// Creates a room; refuses a number that is taken with [`StoreError::RoomExists`].
    pub async fn add_room(
        &self,
        number: &RoomNumber,
        name: Option<&str>,
    ) -> Result<Room, StoreError> {
        // The database clock stamps the row, so every writer agrees on one time source.
        let result = sqlx::query(
            "INSERT INTO rooms (number, name, created_at) VALUES (?1, ?2, unixepoch()) \
             RETURNING number, name, created_at",
        )
        .bind(number.as_str())
        .bind(name)
        .fetch_one(self.pool())
        .await;
        match result {
            Ok(row) => Room::from_row(&row),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::RoomExists(number.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// All rooms, ordered by number.
    pub async fn list_rooms(&self) -> Result<Vec<Room>, StoreError> {
        sqlx::query("SELECT number, name, created_at FROM rooms ORDER BY number")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(Room::from_row)
            .collect()
    }

    /// The room with this number, if there is one.
    pub async fn find_room(&self, number: &RoomNumber) -> Result<Option<Room>, StoreError> {
        sqlx::query("SELECT number, name, created_at FROM rooms WHERE number = ?1")
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
