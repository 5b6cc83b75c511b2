//! Users: one record per person — internal number, name, e-mail, the SIP digest hashes
//! (HA1 for one realm) their phone registers with, the web password (argon2id), and the
//! `admin` / `organiser` flags — and their phones' bindings (contact, where the REGISTER
//! came from, expiry in Unix seconds).

use sqlx::Row;

use crate::{Store, StoreError};

/// A user as stored; the digest hashes are for `realm` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUser {
    pub number: String,
    pub name: String,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
    /// The address they log in with (and get invitations at); unique, case-insensitive.
    pub email: Option<String>,
    /// The web password as an argon2id PHC string; None: no web login.
    pub web_password: Option<String>,
    /// May manage users and every room.
    pub admin: bool,
    /// May manage conferences (the rooms they own or were given).
    pub organiser: bool,
}

/// Changes to a user's profile; None leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub name: Option<String>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
    pub admin: Option<bool>,
    pub organiser: Option<bool>,
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
        email: row.try_get("email")?,
        web_password: row.try_get("web_password")?,
        admin: row.try_get("admin")?,
        organiser: row.try_get("organiser")?,
    })
}

/// A unique-constraint failure on users: the number or the e-mail address.
fn user_conflict(e: &dyn sqlx::error::DatabaseError, user: &SipUser) -> StoreError {
    if e.message().contains("email") || e.message().contains("sip_users_email") {
        StoreError::EmailInUse(user.email.clone().unwrap_or_default())
    } else {
        StoreError::UserExists(user.number.clone())
    }
}

impl Store {
    /// Adds a user, or with `replace` updates an existing one's name and hashes.
    /// [`StoreError::UserExists`] if the number is taken and `replace` is false.
    pub async fn put_sip_user(&self, user: &SipUser, replace: bool) -> Result<(), StoreError> {
        let sql = if replace {
            "INSERT INTO sip_users (number, name, realm, ha1_md5, ha1_sha256, email, \
             web_password, admin, organiser, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, unixepoch()) ON CONFLICT(number) DO UPDATE SET \
             name = excluded.name, realm = excluded.realm, ha1_md5 = excluded.ha1_md5, \
             ha1_sha256 = excluded.ha1_sha256, email = excluded.email, \
             web_password = excluded.web_password, admin = excluded.admin, \
             organiser = excluded.organiser"
        } else {
            "INSERT INTO sip_users (number, name, realm, ha1_md5, ha1_sha256, email, \
             web_password, admin, organiser, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, unixepoch())"
        };
        let result = sqlx::query(sql)
            .bind(&user.number)
            .bind(&user.name)
            .bind(&user.realm)
            .bind(&user.ha1_md5)
            .bind(&user.ha1_sha256)
            .bind(&user.email)
            .bind(&user.web_password)
            .bind(user.admin)
            .bind(user.organiser)
            .execute(self.pool())
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(user_conflict(e.as_ref(), user))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Changes a user's name, e-mail or flags; [`StoreError::NoSuchUser`] if there is none,
    /// [`StoreError::EmailInUse`] if another user has the address (nothing is changed then).
    pub async fn update_user(
        &self,
        number: &str,
        changes: &UserChanges,
    ) -> Result<SipUser, StoreError> {
        let Some(mut user) = self.find_sip_user(number).await? else {
            return Err(StoreError::NoSuchUser(number.to_owned()));
        };
        if let Some(name) = &changes.name {
            user.name.clone_from(name);
        }
        if let Some(email) = &changes.email {
            user.email.clone_from(email);
        }
        user.admin = changes.admin.unwrap_or(user.admin);
        user.organiser = changes.organiser.unwrap_or(user.organiser);
        self.put_sip_user(&user, true).await?;
        Ok(user)
    }

    /// The user who logs in as `login`: their internal number or e-mail (any case).
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<SipUser>, StoreError> {
        sqlx::query(
            "SELECT * FROM sip_users WHERE number = ?1 OR (email IS NOT NULL AND lower(email) = lower(?1))",
        )
        .bind(login)
        .fetch_optional(self.pool())
        .await?
        .map(|row| user_from_row(&row))
        .transpose()
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
            email: None,
            web_password: None,
            admin: false,
            organiser: false,
        }
    }

    #[tokio::test]
    async fn accounts_log_in_by_number_or_email_and_addresses_are_unique() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let anna = SipUser {
            email: Some("Anna@Example.org".into()),
            web_password: Some("$argon2id$…".into()),
            organiser: true,
            ..user("201")
        };
        store.put_sip_user(&anna, false).await.unwrap();
        assert_eq!(
            store.find_user_by_login("201").await.unwrap(),
            Some(anna.clone())
        );
        assert_eq!(
            store.find_user_by_login("anna@example.ORG").await.unwrap(),
            Some(anna.clone())
        );
        assert_eq!(store.find_user_by_login("202").await.unwrap(), None);
        let bert = SipUser {
            email: Some("anna@example.org".into()),
            ..user("202")
        };
        assert!(matches!(
            store.put_sip_user(&bert, false).await,
            Err(StoreError::EmailInUse(_))
        ));
        assert!(
            store.find_sip_user("202").await.unwrap().is_none(),
            "nothing stored"
        );
        store.put_sip_user(&user("202"), false).await.unwrap();
        let changed = store
            .update_user(
                "202",
                &UserChanges {
                    admin: Some(true),
                    name: Some("Bert".into()),
                    ..UserChanges::default()
                },
            )
            .await
            .unwrap();
        assert!(changed.admin && !changed.organiser && changed.name == "Bert");
        let taken = UserChanges {
            email: Some(Some("ANNA@example.org".into())),
            ..UserChanges::default()
        };
        assert!(matches!(
            store.update_user("202", &taken).await,
            Err(StoreError::EmailInUse(_))
        ));
        assert_eq!(
            store.find_sip_user("202").await.unwrap().unwrap().email,
            None
        );
        assert!(matches!(
            store.update_user("999", &UserChanges::default()).await,
            Err(StoreError::NoSuchUser(_))
        ));
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
