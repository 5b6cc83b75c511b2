//! Transaction counters for metrics: how many requests were answered, and how, by method
//! and final status. Plain counters owned by the endpoint; the server copies them out.

use std::collections::BTreeMap;

use sipx_sip::TuEvent;

/// Which end of a transaction we were.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransactionSide {
    /// A request we received and answered (server transaction).
    Received,
    /// A request we sent; the status is the final response we got (client transaction).
    /// A timeout counts as 408 and a transport error as 503 (RFC 3261 §8.1.3.1).
    Sent,
}

impl TransactionSide {
    /// `"in"` or `"out"`, for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "in",
            Self::Sent => "out",
        }
    }
}

/// Final outcomes of SIP transactions, by side, method and status code. Provisional
/// responses and retransmissions are not counted; each transaction counts once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionStats {
    counts: BTreeMap<(TransactionSide, &'static str, u16), u64>,
    total: u64,
}

impl TransactionStats {
    /// Every `(side, method, status, count)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (TransactionSide, &'static str, u16, u64)> + '_ {
        self.counts
            .iter()
            .map(|(&(side, method, status), &n)| (side, method, status, n))
    }

    /// The count for one `(side, method, status)`; `method` as on the wire (`"INVITE"`).
    pub fn get(&self, side: TransactionSide, method: &str, status: u16) -> u64 {
        self.counts
            .get(&(side, method_label(method.as_bytes()), status))
            .copied()
            .unwrap_or(0)
    }

    /// All transactions counted; changes whenever any count does (a cheap change check).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Counts one final outcome; `method` is the wire token (unknown ones count as `OTHER`).
    pub(crate) fn count(&mut self, side: TransactionSide, method: &[u8], status: u16) {
        *self
            .counts
            .entry((side, method_label(method), status))
            .or_default() += 1;
        self.total += 1;
    }
}

impl TransactionStats {
    /// Counts what a client transaction reports to us, if it is a final outcome. A 2xx to
    /// an INVITE is left to the caller: forks and retransmissions deliver it more than once.
    pub(crate) fn count_client(&mut self, key: &sipx_sip::TransactionKey, event: &TuEvent) {
        let method = key_method(key);
        let status = match event {
            TuEvent::Response(r) if r.status.is_final() => {
                let code = r.status.code();
                if method == b"INVITE" && (200..300).contains(&code) {
                    return;
                }
                code
            }
            TuEvent::Timeout => 408,
            TuEvent::TransportError => 503,
            _ => return,
        };
        self.count(TransactionSide::Sent, method, status);
    }
}

/// A fixed label per method, so a peer cannot grow the label set with invented methods.
fn method_label(method: &[u8]) -> &'static str {
    const KNOWN: [&str; 14] = [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "INFO",
        "PRACK",
        "UPDATE",
        "SUBSCRIBE",
        "NOTIFY",
        "REFER",
        "MESSAGE",
        "PUBLISH",
    ];
    KNOWN
        .into_iter()
        .find(|m| m.as_bytes() == method)
        .unwrap_or("OTHER")
}

/// The method of a transaction key (ACK is folded into INVITE by the key).
pub(crate) fn key_method(key: &sipx_sip::TransactionKey) -> &[u8] {
    match key {
        sipx_sip::TransactionKey::Rfc3261 { method, .. }
        | sipx_sip::TransactionKey::Legacy { method, .. } => method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_side_method_and_status_with_unknown_methods_folded() {
        let mut stats = TransactionStats::default();
        stats.count(TransactionSide::Received, b"INVITE", 200);
        stats.count(TransactionSide::Received, b"INVITE", 200);
        stats.count(TransactionSide::Sent, b"BYE", 408);
        stats.count(TransactionSide::Received, b"FOO", 405);
        stats.count(TransactionSide::Received, b"BAR", 405);
        assert_eq!(stats.get(TransactionSide::Received, "INVITE", 200), 2);
        assert_eq!(stats.get(TransactionSide::Sent, "BYE", 408), 1);
        assert_eq!(stats.get(TransactionSide::Received, "OTHER", 405), 2);
        assert_eq!(stats.get(TransactionSide::Sent, "INVITE", 200), 0);
        assert_eq!(stats.total(), 5);
        assert_eq!(stats.iter().count(), 3);
    }
}
