//! Writing the audit log: who did what, from where. A failed write is logged and never
//! fails what was audited (the change itself is already stored).

use konferenz_store::{NewAuditEntry, Store};

use crate::api::Principal;

/// The actor name of a principal: the user's number, or the local administrator.
pub fn actor(principal: &Principal) -> &str {
    principal.number.as_deref().unwrap_or("local administrator")
}

/// Adds an entry now; `source` is the request's address.
pub async fn record(
    store: &Store,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    source: Option<std::net::IpAddr>,
) {
    let at = crate::location::unix(std::time::SystemTime::now());
    let source = source.map(|a| a.to_string());
    let entry = NewAuditEntry {
        actor,
        action,
        subject,
        detail,
        source: source.as_deref(),
    };
    if let Err(error) = store.audit(at, &entry).await {
        tracing::warn!(%error, action, "cannot write the audit log");
    }
}

/// As [`record`], without waiting (for the SIP task, which must not wait on the database).
pub fn spawn_record(
    store: &Store,
    actor: &'static str,
    action: &'static str,
    subject: String,
    detail: String,
) {
    let store = store.clone();
    tokio::spawn(async move {
        record(&store, actor, action, &subject, &detail, None).await;
    });
}

/// Removes entries older than `days` at start and then daily, until shutdown.
pub async fn prune_daily(
    store: Store,
    days: u32,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    if days == 0 {
        return;
    }
    loop {
        let now = crate::location::unix(std::time::SystemTime::now());
        match store.prune_audit_log(now - i64::from(days) * 86_400).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, days, "audit log pruned"),
            Err(error) => tracing::warn!(%error, "cannot prune the audit log"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(86_400)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
