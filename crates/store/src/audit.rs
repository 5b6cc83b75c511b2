//! The audit log: who did what, when and from where — kept in the database, read by
//! administrators. Entries are only added, never changed; the oldest go when the log holds
//! more than a configured number of days.

use sqlx::Row;

use crate::{Store, StoreError};

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// A user's number, `local administrator` or `system`.
    pub actor: String,
    /// What was done, e.g. `login`, `user.add`, `call.block`.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    pub detail: String,
    /// The request's address, if there was one.
    pub source: Option<String>,
}

/// An entry to add.
#[derive(Clone, Debug, Default)]
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    pub source: Option<&'a str>,
}

impl Store {
    /// Adds an entry at `at` (Unix seconds).
    pub async fn audit(&self, at: i64, entry: &NewAuditEntry<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, subject, detail, source) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(at)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.subject)
        .bind(entry.detail)
        .bind(entry.source)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest `limit` entries older than `before` (an id; `None`: from the newest),
    /// newest first; `action` filters by prefix (`user.` finds every user change).
    pub async fn audit_log(
        &self,
        before: Option<i64>,
        action: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail, source FROM audit_log \
             WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR action LIKE ?2 || '%') \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(before)
        .bind(action)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    subject: row.try_get("subject")?,
                    detail: row.try_get("detail")?,
                    source: row.try_get("source")?,
                })
            })
            .collect()
    }

    /// Removes entries older than `cutoff` (Unix seconds); returns how many.
    pub async fn prune_audit_log(&self, cutoff: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < ?1")
            .bind(cutoff)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_come_back_newest_first_filtered_and_paged() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        for (at, action, subject) in [
            (100, "login", "201"),
            (110, "user.add", "202"),
            (120, "call.block", "800/7"),
            (130, "user.set", "202"),
        ] {
            let entry = NewAuditEntry {
                actor: "201",
                action,
                subject,
                detail: "",
                source: Some("192.0.2.1"),
            };
            store.audit(at, &entry).await.unwrap();
        }
        let all = store.audit_log(None, None, 10).await.unwrap();
        let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.set", "call.block", "user.add", "login"]);
        let users = store.audit_log(None, Some("user."), 10).await.unwrap();
        assert_eq!(users.len(), 2);
        let page = store.audit_log(Some(all[1].id), None, 2).await.unwrap();
        let actions: Vec<&str> = page.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.add", "login"]);
        assert_eq!(store.prune_audit_log(115).await.unwrap(), 2);
        assert_eq!(store.audit_log(None, None, 10).await.unwrap().len(), 2);
    }
}
