//! Who may do what, as stored: rooms shared with users, browser sessions, API tokens and
//! invitees' personal links. Session ids and tokens arrive here already hashed (the
//! server hashes them); a link's token is stored as it is, like a room's PIN.

use sqlx::Row;

use crate::{Store, StoreError};

/// A browser session (found by the hash of its cookie).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSession {
    pub user: String,
    /// The token every state-changing request of this session must carry.
    pub csrf: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// An API token as listed (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request made with it.
    pub last_used_at: Option<i64>,
}

/// An invitee's personal link to a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteeLink {
    pub token: String,
    pub room: String,
    /// The invited number.
    pub number: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

fn token_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user: row.try_get("user")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn link_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<InviteeLink, StoreError> {
    Ok(InviteeLink {
        token: row.try_get("token")?,
        room: row.try_get("room")?,
        number: row.try_get("number")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Maps a foreign-key failure on (room, user) to the missing one.
fn missing(e: sqlx::Error, room: &str, user: &str) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::NoSuchUser(format!("{user} (or no room {room})"))
        }
        e => e.into(),
    }
}

impl Store {
    /// Every (room, user) share.
    pub async fn room_shares(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT room, user FROM room_shares ORDER BY room, user")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("room")?, r.try_get("user")?)))
            .collect()
    }

    /// Lets `user` manage `room` (idempotent).
    pub async fn share_room(&self, room: &str, user: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT OR IGNORE INTO room_shares (room, user) VALUES (?1, ?2)")
            .bind(room)
            .bind(user)
            .execute(self.pool())
            .await
            .map_err(|e| missing(e, room, user))?;
        Ok(())
    }

    /// Takes a share back; false if there was none.
    pub async fn unshare_room(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM room_shares WHERE room = ?1 AND user = ?2")
            .bind(room)
            .bind(user)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores a new session; expired ones are swept at the same time.
    pub async fn create_session(
        &self,
        id_hash: &[u8],
        user: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= ?1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, user, csrf, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id_hash)
        .bind(user)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this id hash, if any.
    pub async fn find_session(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<WebSession>, StoreError> {
        let row = sqlx::query(
            "SELECT user, csrf, expires_at FROM web_sessions WHERE id_hash = ?1 AND expires_at > ?2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(WebSession {
                user: r.try_get("user")?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Moves a session's expiry (sliding idle timeout).
    pub async fn extend_session(&self, id_hash: &[u8], expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE web_sessions SET expires_at = ?2 WHERE id_hash = ?1")
            .bind(id_hash)
            .bind(expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends a session (log out).
    pub async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = ?1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a user (password changed, user removed or demoted).
    pub async fn delete_sessions_of(&self, user: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE user = ?1")
            .bind(user)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends every session of a user but one (the user changed their own password there).
    pub async fn delete_sessions_except(
        &self,
        user: &str,
        keep_id_hash: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM web_sessions WHERE user = ?1 AND id_hash <> ?2")
            .bind(user)
            .bind(keep_id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores a new API token's hash for `user`; [`StoreError::NoSuchUser`] if there is none.
    pub async fn create_api_token(
        &self,
        user: &str,
        name: &str,
        token_hash: &[u8],
    ) -> Result<ApiToken, StoreError> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (user, name, token_hash, created_at) \
             VALUES (?1, ?2, ?3, unixepoch()) \
             RETURNING id, user, name, created_at, last_used_at",
        )
        .bind(user)
        .bind(name)
        .bind(token_hash)
        .fetch_one(self.pool())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::NoSuchUser(user.to_owned())
            }
            e => e.into(),
        })?;
        token_from_row(&row)
    }

    /// The token with this hash, its last use stamped `now` (written at most once a minute,
    /// so that a busy script does not turn every request into a database write).
    pub async fn use_api_token(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user, name, created_at, last_used_at FROM api_tokens WHERE token_hash = ?1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(mut token) = row.as_ref().map(token_from_row).transpose()? else {
            return Ok(None);
        };
        if token.last_used_at.is_none_or(|at| at + 60 <= now) {
            sqlx::query("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
                .bind(token.id)
                .bind(now)
                .execute(self.pool())
                .await?;
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }

    /// Tokens of one user, or of everyone (`None`), oldest first.
    pub async fn list_api_tokens(&self, user: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user, name, created_at, last_used_at FROM api_tokens \
             WHERE ?1 IS NULL OR user = ?1 ORDER BY id",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token (of `user` only, if given); false if there was none.
    pub async fn revoke_api_token(&self, id: i64, user: Option<&str>) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM api_tokens WHERE id = ?1 AND (?2 IS NULL OR user = ?2)")
                .bind(id)
                .bind(user)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The live link of `number` to `room`, created with `token` if there is none.
    pub async fn invitee_link(
        &self,
        room: &str,
        number: &str,
        token: &str,
    ) -> Result<InviteeLink, StoreError> {
        sqlx::query(
            "INSERT INTO invitee_links (token, room, number, created_at) \
             VALUES (?1, ?2, ?3, unixepoch()) ON CONFLICT DO NOTHING",
        )
        .bind(token)
        .bind(room)
        .bind(number)
        .execute(self.pool())
        .await?;
        let row = sqlx::query(
            "SELECT token, room, number, created_at, revoked_at FROM invitee_links \
             WHERE room = ?1 AND number = ?2 AND revoked_at IS NULL",
        )
        .bind(room)
        .bind(number)
        .fetch_one(self.pool())
        .await?;
        link_from_row(&row)
    }

    /// The link with this token (revoked ones too).
    pub async fn find_invitee_link(&self, token: &str) -> Result<Option<InviteeLink>, StoreError> {
        let row = sqlx::query(
            "SELECT token, room, number, created_at, revoked_at FROM invitee_links WHERE token = ?1",
        )
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// The live links of a room.
    pub async fn room_links(&self, room: &str) -> Result<Vec<InviteeLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT token, room, number, created_at, revoked_at FROM invitee_links \
             WHERE room = ?1 AND revoked_at IS NULL ORDER BY created_at, number",
        )
        .bind(room)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// Revokes a room's link; false if there was no live one.
    pub async fn revoke_invitee_link(&self, room: &str, token: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE invitee_links SET revoked_at = unixepoch() \
             WHERE room = ?1 AND token = ?2 AND revoked_at IS NULL",
        )
        .bind(room)
        .bind(token)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRoom, SipUser};
    use konferenz_conference::RoomNumber;

    fn user(number: &str) -> SipUser {
        SipUser {
            number: number.into(),
            name: format!("User {number}"),
            realm: "konferenz".into(),
            ha1_md5: "x".into(),
            ha1_sha256: "y".into(),
            email: None,
            web_password: None,
            admin: false,
            organiser: true,
        }
    }

    #[tokio::test]
    async fn personal_room_belongs_to_its_user_whichever_comes_first() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.put_sip_user(&user("201"), false).await.unwrap();
        let n201 = RoomNumber::parse("201").unwrap();
        let room = store.add_room(&NewRoom::new(&n201)).await.unwrap();
        assert_eq!(room.owner.as_deref(), Some("201"));

        let n202 = RoomNumber::parse("202").unwrap();
        store.add_room(&NewRoom::new(&n202)).await.unwrap();
        store.put_sip_user(&user("202"), false).await.unwrap();
        let room = store.find_room(&n202).await.unwrap().unwrap();
        assert_eq!(room.owner.as_deref(), Some("202"));

        let n800 = RoomNumber::parse("800").unwrap();
        let room = store.add_room(&NewRoom::new(&n800)).await.unwrap();
        assert_eq!(room.owner, None);
        let unknown = store
            .update_room(
                &n800,
                &crate::RoomChanges {
                    owner: Some(Some("999".into())),
                    ..Default::default()
                },
            )
            .await;
        assert!(
            matches!(unknown, Err(StoreError::NoSuchUser(_))),
            "{unknown:?}"
        );
    }

    #[tokio::test]
    async fn shares_sessions_tokens_and_links_round_trip() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.put_sip_user(&user("201"), false).await.unwrap();
        let n800 = RoomNumber::parse("800").unwrap();
        store.add_room(&NewRoom::new(&n800)).await.unwrap();

        store.share_room("800", "201").await.unwrap();
        store.share_room("800", "201").await.unwrap();
        assert_eq!(
            store.room_shares().await.unwrap(),
            vec![("800".into(), "201".into())]
        );
        assert!(store.share_room("800", "999").await.is_err());
        assert!(store.unshare_room("800", "201").await.unwrap());
        assert!(!store.unshare_room("800", "201").await.unwrap());

        store
            .create_session(b"h1", "201", "c1", 100, 200)
            .await
            .unwrap();
        assert_eq!(
            store.find_session(b"h1", 150).await.unwrap().unwrap().csrf,
            "c1"
        );
        assert_eq!(
            store.find_session(b"h1", 200).await.unwrap(),
            None,
            "expired"
        );
        store.extend_session(b"h1", 300).await.unwrap();
        assert!(store.find_session(b"h1", 250).await.unwrap().is_some());
        store.delete_session(b"h1").await.unwrap();
        assert_eq!(store.find_session(b"h1", 150).await.unwrap(), None);

        let token = store.create_api_token("201", "cron", b"t1").await.unwrap();
        assert!(matches!(
            store.create_api_token("999", "x", b"t2").await,
            Err(StoreError::NoSuchUser(_))
        ));
        let used = store.use_api_token(b"t1", 42).await.unwrap().unwrap();
        assert_eq!((used.id, used.last_used_at), (token.id, Some(42)));
        assert_eq!(store.list_api_tokens(Some("201")).await.unwrap().len(), 1);
        assert!(!store.revoke_api_token(token.id, Some("202")).await.unwrap());
        let soon = store.use_api_token(b"t1", 70).await.unwrap().unwrap();
        assert_eq!(soon.last_used_at, Some(42), "stamped at most once a minute");
        let later = store.use_api_token(b"t1", 102).await.unwrap().unwrap();
        assert_eq!(later.last_used_at, Some(102));
        assert!(store.revoke_api_token(token.id, Some("201")).await.unwrap());
        assert_eq!(store.use_api_token(b"t1", 143).await.unwrap(), None);

        let link = store.invitee_link("800", "555", "tok-a").await.unwrap();
        let again = store.invitee_link("800", "555", "tok-b").await.unwrap();
        assert_eq!(link.token, "tok-a");
        assert_eq!(again.token, "tok-a", "one live link per invitee");
        assert!(store.revoke_invitee_link("800", "tok-a").await.unwrap());
        let revoked = store.find_invitee_link("tok-a").await.unwrap().unwrap();
        assert!(revoked.revoked_at.is_some());
        let fresh = store.invitee_link("800", "555", "tok-c").await.unwrap();
        assert_eq!(fresh.token, "tok-c");
        assert_eq!(store.room_links("800").await.unwrap(), vec![fresh]);

        store.remove_sip_user("201").await.unwrap();
        assert!(store.room_shares().await.unwrap().is_empty());
    }
}
