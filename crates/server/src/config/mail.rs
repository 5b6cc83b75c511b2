//! `[mail]` (the SMTP server invitations go through, and who they come from) and
//! `[schedule]` (PIN length, grace after the end, and the administrator's default texts of
//! the scheduling form in English and German).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[mail]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS),
    /// `smtps://host:port` (TLS from the start). Empty: mails stay queued.
    pub smtp_url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, optionally with a display name: `konferenz <noreply@example.org>`.
    pub from: String,
    /// The first wait after a temporary failure; it doubles per attempt, up to an hour.
    pub retry_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            username: None,
            password: None,
            from: "konferenz <konferenz@localhost>".to_owned(),
            retry_secs: 30,
        }
    }
}

/// `[schedule]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Digits of the PINs drawn for scheduled conferences (4–12).
    pub pin_length: usize,
    /// The PIN keeps working this many minutes after the end.
    pub grace_minutes: u32,
    /// Default time zone of users who have not chosen one (IANA name).
    pub time_zone: String,
    pub default_title_en: String,
    pub default_title_de: String,
    pub default_location_en: String,
    pub default_location_de: String,
    /// The mail body; `<number>` and `<pin>` are replaced when sending.
    pub default_description_en: String,
    pub default_description_de: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            pin_length: 6,
            grace_minutes: 10,
            time_zone: "Europe/Zurich".to_owned(),
            default_title_en: "Telephone conference".to_owned(),
            default_title_de: "Telefonkonferenz".to_owned(),
            default_location_en: "Telephone conference".to_owned(),
            default_location_de: "Telefonkonferenz".to_owned(),
            default_description_en: "You are invited to a telephone conference.\n\n\
                 Dial <number> and enter the PIN <pin> followed by #."
                .to_owned(),
            default_description_de: "Sie sind zu einer Telefonkonferenz eingeladen.\n\n\
                 Wählen Sie <number> und geben Sie die PIN <pin> gefolgt von # ein."
                .to_owned(),
        }
    }
}

impl MailConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let url = self.smtp_url.trim();
        if !(url.is_empty() || url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(ConfigError::key(
                "mail.smtp_url",
                "must start with smtp:// or smtps://",
            ));
        }
        if !(1..=3600).contains(&self.retry_secs) {
            return Err(ConfigError::key("mail.retry_secs", "must be 1 to 3600"));
        }
        if !self.from.contains('@') {
            return Err(ConfigError::key(
                "mail.from",
                "must be an address like \"konferenz <noreply@example.org>\"",
            ));
        }
        Ok(())
    }
}

impl ScheduleConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(4..=12).contains(&self.pin_length) {
            return Err(ConfigError::key("schedule.pin_length", "must be 4 to 12"));
        }
        if self.grace_minutes > 24 * 60 {
            return Err(ConfigError::key(
                "schedule.grace_minutes",
                "must be at most 1440",
            ));
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(ConfigError::key(
                "schedule.time_zone",
                "must be an IANA time zone such as Europe/Zurich",
            ));
        }
        Ok(())
    }
}
