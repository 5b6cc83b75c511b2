//! Registrar users (internal number, name, digest HA1 hashes for one realm) and their
//! bindings (contact, where the REGISTER came from, expiry in Unix seconds).

use sqlx::Row;

use crate::{Store, StoreError};

/// A registrar user as stored; the hashes are for `realm` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUser {
    pub number: String,
    pub name: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

/// A phone's registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipBinding {
    pub number: String,
    pub contact: String,
    /// `ip:port` the REGISTER came from.
    pub source: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Unix seconds.
    pub expires_at: i64,
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<SipUser, StoreError> {
    Ok(SipUser {
        number: row.try_get("number")?,
        name: row.try_get("name")?,
        realm: row.try_get("realm")?,
        ha1_md5: row.try_get("ha1_md5")?,
        ha1_sha256: row.try_get("ha1_sha256")?,
    })
}

impl Store {
    /// Adds a user, or with `replace` updates an existing one's name and hashes.
    /// [`StoreError::UserExists`] if the number is taken and `replace` is false.
    pub async fn put_sip_user(&self, user: &SipUser, replace: bool) -> Result<(), StoreError> {
        let sql = if replace {
            "INSERT INTO sip_users (number, name, realm, ha1_md5, ha1_sha256, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, unixepoch()) ON CONFLICT(number) DO UPDATE SET \
             name = excluded.name, realm = excluded.realm, ha1_md5 = excluded.ha1_md5, \
             ha1_sha256 = excluded.ha1_sha256"
        } else {
            "INSERT INTO sip_users (number, name, realm, ha1_md5, ha1_sha256, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())"
        };
        let result = sqlx::query(sql)
            .bind(&user.number)
            .bind(&user.name)
            .bind(&user.realm)
            .bind(&user.ha1_md5)
            .bind(&user.ha1_sha256)
            .execute(self.pool())
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::UserExists(user.number.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn find_sip_user(&self, number: &str) -> Result<Option<SipUser>, StoreError> {
        sqlx::query("SELECT * FROM sip_users WHERE number = ?1")
            .bind(number)
            .fetch_optional(self.pool())
            .await?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    pub async fn list_sip_users(&self) -> Result<Vec<SipUser>, StoreError> {
        sqlx::query("SELECT * FROM sip_users ORDER BY number")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// Removes a user and its bindings; [`StoreError::NoSuchUser`] if there is none.
    pub async fn remove_sip_user(&self, number: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM sip_users WHERE number = ?1")
            .bind(number)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchUser(number.to_owned()));
        }
        Ok(())
    }

    /// Replaces a user's bindings with `bindings` (empty: unregistered).
    pub async fn set_sip_bindings(
        &self,
        number: &str,
        bindings: &[SipBinding],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM sip_bindings WHERE number = ?1")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        for b in bindings {
            sqlx::query(
                "INSERT INTO sip_bindings (number, contact, source, transport, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(number)
            .bind(&b.contact)
            .bind(&b.source)
            .bind(&b.transport)
            .bind(b.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every binding not expired at `now` (Unix seconds), for loading at start.
    pub async fn live_sip_bindings(&self, now: i64) -> Result<Vec<SipBinding>, StoreError> {
        let rows = sqlx::query("SELECT * FROM sip_bindings WHERE expires_at > ?1 ORDER BY number")
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SipBinding {
                    number: row.try_get("number")?,
                    contact: row.try_get("contact")?,
                    source: row.try_get("source")?,
                    transport: row.try_get("transport")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(number: &str) -> SipUser {
        SipUser {
            number: number.into(),
            name: "Anna".into(),
            realm: "konferenz".into(),
            ha1_md5: "m".into(),
            ha1_sha256: "s".into(),
        }
    }

    #[tokio::test]
    async fn users_and_bindings_round_trip() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.put_sip_user(&user("201"), false).await.unwrap();
        assert!(matches!(
            store.put_sip_user(&user("201"), false).await,
            Err(StoreError::UserExists(_))
        ));
        let mut changed = user("201");
        changed.ha1_md5 = "m2".into();
        store.put_sip_user(&changed, true).await.unwrap();
        assert_eq!(store.find_sip_user("201").await.unwrap(), Some(changed));

        let binding = SipBinding {
            number: "201".into(),
            contact: "sip:201@127.0.0.1:5070".into(),
            source: "127.0.0.1:5070".into(),
            transport: "udp".into(),
            expires_at: 2000,
        };
        store
            .set_sip_bindings("201", std::slice::from_ref(&binding))
            .await
            .unwrap();
        assert_eq!(store.live_sip_bindings(1000).await.unwrap(), vec![binding]);
        assert!(store.live_sip_bindings(2000).await.unwrap().is_empty());

        store.remove_sip_user("201").await.unwrap();
        assert!(
            store.live_sip_bindings(0).await.unwrap().is_empty(),
            "bindings cascade"
        );
        assert!(matches!(
            store.remove_sip_user("201").await,
            Err(StoreError::NoSuchUser(_))
        ));
    }
}
