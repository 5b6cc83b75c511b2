//! The location service of the built-in registrar: which contact each registered
//! internal number has, where its REGISTER came from and until when. Shared between the
//! SIP task (which writes it) and the invitation API (which calls registered phones
//! directly); persisted by the SIP task so a restart keeps the phones reachable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use konferenz_sip::Transport;
use konferenz_store::SipBinding;

/// One phone's registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub contact: String,
    /// Where the REGISTER came from: calls go there (phones behind NAT are reachable).
    pub source: SocketAddr,
    pub transport: Transport,
    pub expires_at: SystemTime,
}

impl Binding {
    /// Seconds left at `now` (0 once expired).
    pub fn seconds_left(&self, now: SystemTime) -> u32 {
        self.expires_at
            .duration_since(now)
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
    }

    /// As the store keeps it.
    pub fn to_stored(&self, number: &str) -> SipBinding {
        SipBinding {
            number: number.to_owned(),
            contact: self.contact.clone(),
            source: self.source.to_string(),
            transport: match self.transport {
                Transport::Udp => "udp",
                Transport::Tcp => "tcp",
                Transport::Tls => "tls",
            }
            .to_owned(),
            expires_at: unix(self.expires_at),
        }
    }

    /// From the store; None for a row this version cannot read.
    pub fn from_stored(stored: &SipBinding) -> Option<Self> {
        Some(Self {
            contact: stored.contact.clone(),
            source: stored.source.parse().ok()?,
            transport: match stored.transport.as_str() {
                "tcp" => Transport::Tcp,
                "tls" => Transport::Tls,
                _ => Transport::Udp,
            },
            expires_at: UNIX_EPOCH + Duration::from_secs(u64::try_from(stored.expires_at).ok()?),
        })
    }
}

/// Unix seconds of a time.
pub fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// All bindings by internal number. Not on the audio path; a mutex is fine.
#[derive(Clone, Default)]
pub struct Location {
    inner: Arc<Mutex<HashMap<String, Vec<Binding>>>>,
}

impl Location {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Binding>>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where to call `number` at `now`: the live binding that lasts longest (the one
    /// refreshed last, for phones that register for the same time each round).
    pub fn lookup(&self, number: &str, now: SystemTime) -> Option<Binding> {
        self.lock()
            .get(number)?
            .iter()
            .filter(|b| b.expires_at > now)
            .max_by_key(|b| b.expires_at)
            .cloned()
    }

    /// Applies a REGISTER: each `(contact, seconds)` is added, refreshed or (0) removed;
    /// `remove_all` drops every binding first. Returns the live bindings afterwards.
    pub fn update(
        &self,
        number: &str,
        changes: &[(String, u32)],
        remove_all: bool,
        from: (SocketAddr, Transport),
        now: SystemTime,
    ) -> Vec<Binding> {
        let mut all = self.lock();
        let list = all.entry(number.to_owned()).or_default();
        if remove_all {
            list.clear();
        }
        list.retain(|b| b.expires_at > now);
        for (contact, seconds) in changes {
            list.retain(|b| &b.contact != contact);
            if *seconds > 0 {
                list.push(Binding {
                    contact: contact.clone(),
                    source: from.0,
                    transport: from.1,
                    expires_at: now + Duration::from_secs(u64::from(*seconds)),
                });
            }
        }
        let current = list.clone();
        if current.is_empty() {
            all.remove(number);
        }
        current
    }

    /// The live bindings of `number`.
    pub fn bindings(&self, number: &str, now: SystemTime) -> Vec<Binding> {
        self.lock()
            .get(number)
            .map(|l| l.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default()
    }

    /// Loads bindings kept from before a restart.
    pub fn load(&self, stored: &[SipBinding]) {
        let mut all = self.lock();
        for s in stored {
            if let Some(b) = Binding::from_stored(s) {
                all.entry(s.number.clone()).or_default().push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_added_refreshed_removed_and_expire() {
        let l = Location::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let from = ("127.0.0.1:5070".parse().unwrap(), Transport::Udp);
        let a = ("sip:201@127.0.0.1:5070".to_owned(), 600);
        let b = ("sip:201@127.0.0.1:5072".to_owned(), 60);
        assert_eq!(
            l.update("201", &[a.clone(), b.clone()], false, from, t0)
                .len(),
            2
        );
        assert_eq!(
            l.lookup("201", t0).unwrap().contact,
            a.0,
            "longest-lived first"
        );
        assert_eq!(l.bindings("201", t0 + Duration::from_secs(61)).len(), 1);
        let removed = (a.0.clone(), 0);
        assert_eq!(l.update("201", &[removed], false, from, t0).len(), 1);
        assert_eq!(l.lookup("201", t0).unwrap().contact, b.0);
        assert!(l.update("201", &[], true, from, t0).is_empty());
        assert!(l.lookup("201", t0).is_none());

        l.update("202", std::slice::from_ref(&a), false, from, t0);
        let stored = l.bindings("202", t0)[0].to_stored("202");
        let again = Location::default();
        again.load(&[stored]);
        assert_eq!(again.lookup("202", t0), l.lookup("202", t0));
        assert!(again.lookup("202", t0 + Duration::from_secs(600)).is_none());
    }
}
