//! `[dialin]`, `[prompts]` and `[throttle]`: how callers get into rooms — shared dial-in
//! numbers, the PIN menu's timing, prompt language and files, and the guessing throttle.

use std::path::PathBuf;
use std::time::Duration;

use konferenz_conference::{Language, Limit, MenuConfig, RoomNumber, ThrottleConfig};
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[dialin]`: entry numbers and the PIN menu.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DialinConfig {
    /// Numbers with no room of their own (e.g. the external DID): the PIN entered selects the room.
    pub shared_numbers: Vec<String>,
    /// The number people dial from outside (e.g. `+41 44 123 45 67`), shown on personal
    /// links and in invitations; it reaches one of `shared_numbers` through the PBX.
    pub external_number: Option<String>,
    /// Silence after a prompt before it is repeated.
    pub digit_timeout_secs: u64,
    /// How often the PIN prompt is repeated after silence before goodbye.
    pub prompt_repeats: u8,
    /// Wrong PINs per call before goodbye.
    pub attempts: u8,
    /// The whole menu, answer to join, may take at most this long.
    pub time_limit_secs: u64,
}

impl Default for DialinConfig {
    fn default() -> Self {
        let menu = MenuConfig::default();
        Self {
            shared_numbers: Vec::new(),
            external_number: None,
            digit_timeout_secs: menu.digit_timeout.as_secs(),
            prompt_repeats: menu.repeats,
            attempts: menu.attempts,
            time_limit_secs: menu.time_limit.as_secs(),
        }
    }
}

/// `[prompts]`: what callers hear.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PromptsConfig {
    /// Default prompt language (`en`, `de`) for rooms that do not name one.
    pub language: String,
    /// Whether callers may switch language with `*` and a digit before the PIN.
    pub language_switch: bool,
    /// A folder of replacement recordings, `<dir>/<lang>/<name>.wav` (any rate, mono or stereo).
    pub directory: Option<PathBuf>,
    /// On-hold music played while someone is alone in a room (a WAV file).
    pub music: Option<PathBuf>,
}

impl Default for PromptsConfig {
    fn default() -> Self {
        Self {
            language: "en".to_owned(),
            language_switch: true,
            directory: None,
            music: None,
        }
    }
}

/// `[throttle]`: PIN-guessing limits (per caller: source address + caller ID; per room).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSettings {
    pub caller_failures: u32,
    pub caller_window_secs: u64,
    pub caller_lockout_secs: u64,
    pub room_failures: u32,
    pub room_window_secs: u64,
    pub room_lockout_secs: u64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        let d = ThrottleConfig::default();
        Self {
            caller_failures: d.caller.failures,
            caller_window_secs: d.caller.window.as_secs(),
            caller_lockout_secs: d.caller.lockout.as_secs(),
            room_failures: d.room.failures,
            room_window_secs: d.room.window.as_secs(),
            room_lockout_secs: d.room.lockout.as_secs(),
        }
    }
}

impl DialinConfig {
    /// The shared numbers, parsed (validated at load).
    pub fn shared(&self) -> Vec<RoomNumber> {
        self.shared_numbers
            .iter()
            .filter_map(|n| RoomNumber::parse(n).ok())
            .collect()
    }

    /// The menu settings for a call whose prompts start in `language`.
    pub fn menu(&self, language: Language, language_switch: bool) -> MenuConfig {
        MenuConfig {
            language,
            language_switch,
            digit_timeout: Duration::from_secs(self.digit_timeout_secs),
            repeats: self.prompt_repeats,
            attempts: self.attempts,
            time_limit: Duration::from_secs(self.time_limit_secs),
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for n in &self.shared_numbers {
            RoomNumber::parse(n)
                .map_err(|e| ConfigError::key("dialin.shared_numbers", format!("{n:?}: {e}")))?;
        }
        if self.digit_timeout_secs == 0 || self.digit_timeout_secs > 120 {
            return Err(ConfigError::key(
                "dialin.digit_timeout_secs",
                "must be 1-120",
            ));
        }
        if self.attempts == 0 {
            return Err(ConfigError::key("dialin.attempts", "must be at least 1"));
        }
        if self.time_limit_secs < 10 {
            return Err(ConfigError::key(
                "dialin.time_limit_secs",
                "must be at least 10",
            ));
        }
        Ok(())
    }
}

impl PromptsConfig {
    /// The default language (validated at load).
    pub fn default_language(&self) -> Language {
        Language::parse(&self.language).unwrap_or(Language::English)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        Language::parse(&self.language)
            .map(|_| ())
            .map_err(|e| ConfigError::key("prompts.language", e.to_string()))
    }
}

impl ThrottleSettings {
    /// As the throttle machine wants it.
    pub fn to_config(&self) -> ThrottleConfig {
        let limit = |failures, window, lockout| Limit {
            failures,
            window: Duration::from_secs(window),
            lockout: Duration::from_secs(lockout),
        };
        ThrottleConfig {
            caller: limit(
                self.caller_failures,
                self.caller_window_secs,
                self.caller_lockout_secs,
            ),
            room: limit(
                self.room_failures,
                self.room_window_secs,
                self.room_lockout_secs,
            ),
            ..ThrottleConfig::default()
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("throttle.caller_failures", self.caller_failures),
            ("throttle.room_failures", self.room_failures),
        ] {
            if value == 0 {
                return Err(ConfigError::key(key, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// `[phonebook]`: how numbers without a country code are read.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhonebookConfig {
    /// ISO country (DE, CH, AT …) of numbers written without a country code.
    pub default_region: String,
}

impl Default for PhonebookConfig {
    fn default() -> Self {
        Self {
            default_region: "DE".to_owned(),
        }
    }
}

impl PhonebookConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        konferenz_conference::phonebook::parse_region(&self.default_region)
            .map(|_| ())
            .map_err(|e| ConfigError::key("phonebook.default_region", e.to_string()))
    }
}
