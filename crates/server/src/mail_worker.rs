//! The outbox worker: sends due mails from the outbox through `mail.smtp_url` (lettre's
//! SMTP client) and records each outcome — sent; a temporary failure (connection refused,
//! 4xx) retried with backoff (30 s doubling to 1 h); a permanent one (5xx) kept with the
//! server's answer and shown next to the invitee. Delivery is at least once: a mail is marked
//! sent only after the server accepted it, so a crash in between sends it again after the
//! restart (with the same Message-ID, which mail clients use to drop the duplicate).

use std::sync::Arc;
use std::time::Duration;

use konferenz_store::{OutboxMail, Store};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{Notify, watch};

use crate::config::MailConfig;

/// Mails sent per pass.
const BATCH: u32 = 50;
/// The longest wait between two looks at the outbox (also catches rows other processes
/// queued, such as `konferenz schedule add`).
const IDLE: Duration = Duration::from_secs(5);

/// The wait before attempt `attempts + 2` after a temporary failure: `first`, doubling,
/// at most an hour.
pub fn backoff(first: u64, attempts: i64) -> Duration {
    let secs = first.saturating_mul(1 << attempts.clamp(0, 12));
    Duration::from_secs(secs.min(3600))
}

fn transport(config: &MailConfig) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.trim())?
        .timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Runs until `shutdown`; `wake` is notified when mails were queued.
pub async fn run(
    store: Store,
    config: MailConfig,
    mails_per_hour: usize,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    // `limits.mails_per_hour`: beyond it mails wait in the outbox (nothing is lost).
    let mut quota = konferenz_conference::Quota::new(mails_per_hour, Duration::from_secs(3600));
    if config.smtp_url.trim().is_empty() {
        tracing::warn!("mail.smtp_url is not set: invitation mails stay queued in the outbox");
        let _ = shutdown.wait_for(|stop| *stop).await;
        return;
    }
    let transport = match transport(&config) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "mail.smtp_url: cannot use it; mails stay queued");
            let _ = shutdown.wait_for(|stop| *stop).await;
            return;
        }
    };
    loop {
        let now = crate::location::unix(std::time::SystemTime::now());
        match store.due_mails(now, BATCH).await {
            Ok(due) => {
                for mail in due {
                    if *shutdown.borrow() {
                        return;
                    }
                    while let Err(wait) = quota.take(std::time::Instant::now(), &(), 1) {
                        tracing::warn!(
                            wait_secs = wait.as_secs(),
                            "limits.mails_per_hour reached; the outbox waits"
                        );
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = shutdown.wait_for(|stop| *stop) => return,
                        }
                    }
                    send(&store, &transport, config.retry_secs, mail).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the outbox"),
        }
        let wait = match store.next_mail_due().await {
            Ok(Some(at)) => {
                let now = crate::location::unix(std::time::SystemTime::now());
                Duration::from_secs(u64::try_from(at - now).unwrap_or(0)).min(IDLE)
            }
            _ => IDLE,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

async fn send(
    store: &Store,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    retry_secs: u64,
    mail: OutboxMail,
) {
    let envelope = match (mail.sender.parse(), mail.recipient.parse()) {
        (Ok(from), Ok(to)) => Envelope::new(Some(from), vec![to]).ok(),
        _ => None,
    };
    let Some(envelope) = envelope else {
        // Addresses are checked before a mail is queued; one that does not parse is permanent.
        if let Err(e) = store
            .mail_failed(mail.id, "invalid sender or recipient address")
            .await
        {
            tracing::error!(mail = mail.id, error = %e, "recording a mail's outcome");
        }
        return;
    };
    let result = transport.send_raw(&envelope, &mail.message).await;
    let now = crate::location::unix(std::time::SystemTime::now());
    let recorded = match result {
        Ok(_) => {
            tracing::info!(mail = mail.id, attempts = mail.attempts + 1, "mail sent");
            store.mail_sent(mail.id, now).await
        }
        Err(e) if e.is_permanent() => {
            tracing::warn!(mail = mail.id, error = %e, "mail refused for good");
            store.mail_failed(mail.id, &e.to_string()).await
        }
        Err(e) => {
            let wait = backoff(retry_secs, mail.attempts);
            tracing::info!(mail = mail.id, error = %e, retry_in_secs = wait.as_secs(), "mail not sent yet");
            store
                .mail_retry(mail.id, now + wait.as_secs() as i64, &e.to_string())
                .await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(mail = mail.id, error = %e, "recording a mail's outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let waits: Vec<u64> = (0..9).map(|a| backoff(30, a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(1, 0).as_secs(), 1);
        assert_eq!(backoff(30, 1000).as_secs(), 3600);
    }
}
