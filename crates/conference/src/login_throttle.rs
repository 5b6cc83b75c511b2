//! `LoginThrottle`: makes password guessing at the web login useless, with the PIN
//! throttle's rules — failures per account counted like failures per caller, failures per
//! source address like failures per room; past the limit, logins are refused (even with
//! the right password) until the lockout ends.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::throttle::{Table, ThrottleConfig};

/// The login throttle shared by all HTTP requests (behind one mutex in the server).
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Table<String>,
    addresses: Table<IpAddr>,
}

impl LoginThrottle {
    /// Accounts get `config.caller`'s limit, source addresses `config.room`'s.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            accounts: Table::new(config.caller, config.max_entries),
            addresses: Table::new(config.room, config.max_entries),
        }
    }

    /// May `login` try a password from `addr` now? `Err(wait)` while either is locked out.
    pub fn admit(&self, now: Instant, login: &str, addr: IpAddr) -> Result<(), Duration> {
        let until = [
            self.accounts.locked_until(now, &key(login)),
            self.addresses.locked_until(now, &addr),
        ]
        .into_iter()
        .flatten()
        .max();
        match until {
            Some(until) => Err(until.saturating_duration_since(now)),
            None => Ok(()),
        }
    }

    /// Counts one wrong password; `Err(wait)` when this failure starts a lockout.
    pub fn failed(&mut self, now: Instant, login: &str, addr: IpAddr) -> Result<(), Duration> {
        let account = self.accounts.fail(now, &key(login));
        let address = self.addresses.fail(now, &addr);
        match account
            .into_iter()
            .chain(address)
            .map(|(_, until)| until)
            .max()
        {
            Some(until) => Err(until.saturating_duration_since(now)),
            None => Ok(()),
        }
    }
}

/// Logins differ only in case for e-mail addresses: count them as one account.
fn key(login: &str) -> String {
    login.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limit;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            caller: Limit {
                failures: 3,
                window: Duration::from_secs(600),
                lockout: Duration::from_secs(900),
            },
            room: Limit {
                failures: 5,
                window: Duration::from_secs(600),
                lockout: Duration::from_secs(600),
            },
            max_entries: 100,
        }
    }

    #[test]
    fn an_account_is_locked_after_its_limit_even_with_the_right_password() {
        let mut throttle = LoginThrottle::new(config());
        let t0 = Instant::now();
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(throttle.failed(t0, "Anna@Example.org", addr), Ok(()));
        assert_eq!(throttle.failed(t0, "anna@example.org", addr), Ok(()));
        let wait = throttle.failed(t0, "anna@example.org ", addr).unwrap_err();
        assert_eq!(wait, Duration::from_secs(900));
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            throttle.admit(later, "anna@example.org", "192.0.2.9".parse().unwrap()),
            Err(Duration::from_secs(840)),
            "another address does not help"
        );
        assert_eq!(throttle.admit(later, "201", addr), Ok(()));
        assert_eq!(
            throttle.admit(t0 + Duration::from_secs(900), "anna@example.org", addr),
            Ok(())
        );
    }

    #[test]
    fn an_address_trying_many_accounts_is_locked() {
        let mut throttle = LoginThrottle::new(config());
        let t0 = Instant::now();
        let addr: IpAddr = "2001:db8::1".parse().unwrap();
        for n in 0..4 {
            assert_eq!(throttle.failed(t0, &format!("20{n}"), addr), Ok(()));
        }
        assert_eq!(
            throttle.failed(t0, "209", addr),
            Err(Duration::from_secs(600))
        );
        assert!(throttle.admit(t0, "300", addr).is_err());
        assert_eq!(
            throttle.admit(t0, "300", "2001:db8::2".parse().unwrap()),
            Ok(())
        );
    }
}
