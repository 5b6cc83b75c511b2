//! The block list: who may not enter a room again (hung up with "block"), until when.

use sqlx::Row;

use crate::{Store, StoreError};

/// One stored block.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RoomBlock {
    pub room: String,
    /// The invited number or the caller ID.
    pub who: String,
    /// `invited` (we dialled it) or `caller-id` (best effort).
    pub kind: String,
    /// Unix seconds when it ends; None for good.
    pub until: Option<i64>,
}

impl Store {
    /// Adds (or renews) a block.
    pub async fn put_room_block(&self, block: &RoomBlock) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO room_blocks (room, who, kind, until, created) \
             VALUES (?1, ?2, ?3, ?4, unixepoch()) \
             ON CONFLICT (room, who) DO UPDATE SET kind = ?3, until = ?4",
        )
        .bind(&block.room)
        .bind(&block.who)
        .bind(&block.kind)
        .bind(block.until)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a block; false if there was none.
    pub async fn remove_room_block(&self, room: &str, who: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM room_blocks WHERE room = ?1 AND who = ?2")
            .bind(room)
            .bind(who)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The blocks still in force at `now` (Unix seconds); expired ones are deleted.
    pub async fn room_blocks(&self, now: i64) -> Result<Vec<RoomBlock>, StoreError> {
        sqlx::query("DELETE FROM room_blocks WHERE until IS NOT NULL AND until <= ?1")
            .bind(now)
            .execute(self.pool())
            .await?;
        let rows = sqlx::query("SELECT room, who, kind, until FROM room_blocks ORDER BY room, who")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RoomBlock {
                    room: row.try_get("room")?,
                    who: row.try_get("who")?,
                    kind: row.try_get("kind")?,
                    until: row.try_get("until")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(who: &str, until: Option<i64>) -> RoomBlock {
        RoomBlock {
            room: "800".into(),
            who: who.into(),
            kind: "caller-id".into(),
            until,
        }
    }

    #[tokio::test]
    async fn blocks_are_kept_renewed_expired_and_removed() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.put_room_block(&block("201", None)).await.unwrap();
        store
            .put_room_block(&block("202", Some(100)))
            .await
            .unwrap();
        store
            .put_room_block(&block("202", Some(200)))
            .await
            .unwrap();
        assert_eq!(
            store.room_blocks(150).await.unwrap(),
            [block("201", None), block("202", Some(200))]
        );
        assert_eq!(store.room_blocks(200).await.unwrap(), [block("201", None)]);
        assert!(store.remove_room_block("800", "201").await.unwrap());
        assert!(!store.remove_room_block("800", "201").await.unwrap());
        assert!(store.room_blocks(0).await.unwrap().is_empty());
    }
}
