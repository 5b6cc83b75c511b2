//! A user's own settings from the window's Account page: the time zone times are shown in
//! (and the scheduling form starts from) and the window's language.

use sqlx::Row;

use crate::{Store, StoreError};

/// What a user chose; `None` where they chose nothing (the server's defaults apply).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSettings {
    /// An IANA time zone name (checked by the server before it is stored).
    pub time_zone: Option<String>,
    /// `en` or `de`.
    pub language: Option<String>,
}

impl Store {
    /// The user's settings (all `None` for a user who never chose any).
    pub async fn user_settings(&self, user: &str) -> Result<UserSettings, StoreError> {
        let row = sqlx::query("SELECT time_zone, language FROM user_settings WHERE user = ?1")
            .bind(user)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(UserSettings::default());
        };
        Ok(UserSettings {
            time_zone: row.try_get("time_zone")?,
            language: row.try_get("language")?,
        })
    }

    /// Replaces the user's settings.
    pub async fn set_user_settings(
        &self,
        user: &str,
        settings: &UserSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_settings (user, time_zone, language) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user) DO UPDATE SET \
             time_zone = excluded.time_zone, language = excluded.language",
        )
        .bind(user)
        .bind(&settings.time_zone)
        .bind(&settings.language)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SipUser;

    #[tokio::test]
    async fn settings_are_kept_per_user_and_go_with_the_user() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let user = SipUser {
            number: "201".into(),
            name: "Anna".into(),
            realm: "konferenz".into(),
            ha1_md5: "x".into(),
            ha1_sha256: "y".into(),
            email: None,
            web_password: None,
            admin: false,
            organiser: true,
        };
        store.put_sip_user(&user, false).await.unwrap();
        assert_eq!(
            store.user_settings("201").await.unwrap(),
            UserSettings::default()
        );
        let chosen = UserSettings {
            time_zone: Some("America/New_York".into()),
            language: Some("de".into()),
        };
        store.set_user_settings("201", &chosen).await.unwrap();
        assert_eq!(store.user_settings("201").await.unwrap(), chosen);
        let bad = UserSettings {
            time_zone: None,
            language: Some("fr".into()),
        };
        assert!(store.set_user_settings("201", &bad).await.is_err());
        assert_eq!(store.user_settings("201").await.unwrap(), chosen);
        store.remove_sip_user("201").await.unwrap();
        assert_eq!(
            store.user_settings("201").await.unwrap(),
            UserSettings::default()
        );
    }
}
