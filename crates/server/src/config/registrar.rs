//! `[registrar]`: the built-in registrar — phones of users created with `konferenz user
//! add` register with their internal number and password (digest, hashed at rest).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[registrar]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarConfig {
    /// Answer REGISTER at all (off: 403 to every REGISTER).
    pub enabled: bool,
    /// The digest realm. Passwords are stored hashed for this realm: changing it means
    /// setting every user's password again.
    pub realm: String,
    /// Shortest registration accepted (shorter asks get 423 naming this).
    pub min_expires_secs: u32,
    /// Longest registration granted (longer asks are cut to this).
    pub max_expires_secs: u32,
    /// Digest algorithms offered, in order of preference: `MD5`, `SHA-256`. Some phones
    /// (baresip 1.0 among them) give up on a challenge with an algorithm they lack
    /// instead of skipping it, so the default is MD5 alone.
    pub algorithms: Vec<String>,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            realm: "konferenz".to_owned(),
            min_expires_secs: 60,
            max_expires_secs: 3600,
            algorithms: vec!["MD5".to_owned()],
        }
    }
}

impl RegistrarConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.realm.is_empty()
            || self.realm.contains('"')
            || self.realm.contains(char::is_control)
        {
            return Err(ConfigError::key(
                "registrar.realm",
                "must be non-empty, without quotes or control characters",
            ));
        }
        if self.min_expires_secs == 0 || self.min_expires_secs > self.max_expires_secs {
            return Err(ConfigError::key(
                "registrar.min_expires_secs",
                "must be at least 1 and at most registrar.max_expires_secs",
            ));
        }
        if self.algorithms.is_empty() || self.digest_algorithms().len() != self.algorithms.len() {
            return Err(ConfigError::key(
                "registrar.algorithms",
                "list one or both of \"MD5\" and \"SHA-256\"",
            ));
        }
        Ok(())
    }

    /// The configured algorithms, parsed (unknown names are left out; validation refuses them).
    pub fn digest_algorithms(&self) -> Vec<konferenz_sip::digest::DigestAlgorithm> {
        self.algorithms
            .iter()
            .filter_map(|a| konferenz_sip::digest::DigestAlgorithm::parse(a))
            .collect()
    }

    /// The time granted for an ask of `asked` seconds (None: the phone did not say).
    /// Err(min) when the ask is too brief (a 423 naming the minimum); 0 stays 0 (removal).
    pub fn grant(&self, asked: Option<u32>) -> Result<u32, u32> {
        match asked {
            Some(0) => Ok(0),
            Some(s) if s < self.min_expires_secs => Err(self.min_expires_secs),
            Some(s) => Ok(s.min(self.max_expires_secs)),
            None => Ok(self.max_expires_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_within_the_bounds() {
        let c = RegistrarConfig::default();
        assert_eq!(c.grant(Some(0)), Ok(0));
        assert_eq!(c.grant(Some(30)), Err(60));
        assert_eq!(c.grant(Some(600)), Ok(600));
        assert_eq!(c.grant(Some(86_400)), Ok(3600));
        assert_eq!(c.grant(None), Ok(3600));
    }
}
