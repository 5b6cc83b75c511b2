//! The mail outbox: mails queued with the change that caused them (see `schedule.rs`), handed
//! to the sending worker when due, and each outcome recorded — sent, retry later, failed for
//! good with the server's answer.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A mail in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: i64,
    pub conference: Option<i64>,
    pub recipient: String,
    pub sender: String,
    pub message: Vec<u8>,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The SMTP server's last answer (or the connection error).
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const MAIL_COLUMNS: &str = "id, conference, recipient, sender, message, state, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

fn mail_from_row(row: &SqliteRow) -> Result<OutboxMail, StoreError> {
    Ok(OutboxMail {
        id: row.try_get("id")?,
        conference: row.try_get("conference")?,
        recipient: row.try_get("recipient")?,
        sender: row.try_get("sender")?,
        message: row.try_get("message")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

impl Store {
    /// The outbox: one conference's mails, or all (`None`), newest first, at most `limit`.
    pub async fn outbox(
        &self,
        conference: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE ?1 IS NULL OR conference = ?1 \
             ORDER BY id DESC LIMIT ?2"
        ))
        .bind(conference)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// Queued mails due at `now`, oldest first.
    pub async fn due_mails(&self, now: i64, limit: u32) -> Result<Vec<OutboxMail>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE state = 'queued' \
             AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// When the next queued mail is due, if any.
    pub async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM mail_outbox WHERE state = 'queued'",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// The SMTP server took the mail.
    pub async fn mail_sent(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mail_outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1, \
             last_error = NULL WHERE id = ?1",
        )
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A temporary failure: try again at `next_attempt_at`.
    pub async fn mail_retry(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ?2, \
             last_error = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(next_attempt_at)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A permanent failure (5xx): kept with the server's answer, never retried.
    pub async fn mail_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mail_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 \
             WHERE id = ?1",
        )
        .bind(id)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
