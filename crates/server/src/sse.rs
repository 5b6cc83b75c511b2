//! The event stream of a subscription as server-sent events: a `reset` first when the
//! client resumed from further back than the bus keeps (or fell behind while connected),
//! then the backlog, then live events, filtered to the rooms the client may follow — which
//! its [`Access`] checks again whenever access may have changed; once it is gone, the
//! stream says `access-ended` and ends.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event as SseEvent;
use futures_util::Stream;
use konferenz_conference::{Event, RoomNumber};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::bus::Subscription;

/// One event as SSE: `id` = sequence number, `event` = type, `data` = the event as JSON.
pub fn sse_event(event: &Event) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(event).unwrap_or_default();
    Ok(SseEvent::default()
        .id(event.seq.to_string())
        .event(event.kind.name())
        .data(data))
}

/// What a stream may follow now.
pub enum Verdict {
    /// These rooms (`None`: every room).
    Rooms(Option<Vec<RoomNumber>>),
    /// Nothing any more: the stream ends.
    Gone,
    /// Could not tell (the database failed): keep what it had, check again later.
    Unsure,
}

/// Checks a stream's access again (its credentials, then its rooms).
pub type Check = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Verdict> + Send>> + Send + Sync>;

/// When and how a stream's access is checked again.
pub struct Access {
    /// Changes to anyone's access: check at once (subscribed before the first check).
    pub changes: watch::Receiver<u64>,
    /// Check at least this often.
    pub every: Duration,
    pub check: Check,
}

struct Cursor {
    shutdown: watch::Receiver<bool>,
    pending: VecDeque<Arc<Event>>,
    reset: bool,
    ended: bool,
    sub: Subscription,
    rooms: Option<Vec<RoomNumber>>,
    access: Option<(Access, Interval)>,
}

fn reset() -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().event("reset").data("{}"))
}

fn access_ended() -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().event("access-ended").data("{}"))
}

/// Resolves when the stream's access is due to be checked (never without an [`Access`]).
async fn check_due(access: &mut Option<(Access, Interval)>) {
    let Some((access, interval)) = access else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interval.tick() => {}
        changed = access.changes.changed() => {
            if changed.is_err() {
                // Nobody announces changes any more (shutdown): the interval still checks.
                interval.tick().await;
            }
        }
    }
}

/// Checks the stream's access again and follows what it may now; false once it is gone.
async fn still_allowed(c: &mut Cursor) -> bool {
    let Some((access, _)) = &c.access else {
        return true;
    };
    match (access.check)().await {
        Verdict::Rooms(rooms) => {
            c.rooms = rooms;
            true
        }
        Verdict::Unsure => true,
        Verdict::Gone => false,
    }
}

/// The SSE stream of `sub`, only these rooms' events if given; it ends at shutdown, and
/// when `access` finds the client's access gone.
pub fn stream(
    sub: Subscription,
    rooms: Option<Vec<RoomNumber>>,
    shutdown: watch::Receiver<bool>,
    access: Option<Access>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let access = access.map(|access| {
        let mut interval = tokio::time::interval_at(Instant::now() + access.every, access.every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        (access, interval)
    });
    let cursor = Cursor {
        shutdown,
        pending: sub.backlog.iter().cloned().collect(),
        reset: sub.gap,
        ended: false,
        sub,
        rooms,
        access,
    };
    futures_util::stream::unfold(cursor, |mut c| async move {
        if c.ended {
            return None;
        }
        if std::mem::take(&mut c.reset) {
            return Some((reset(), c));
        }
        loop {
            let event = match c.pending.pop_front() {
                Some(event) => event,
                None => {
                    let received = tokio::select! {
                        received = c.sub.live.recv() => Some(received),
                        _ = c.shutdown.wait_for(|stop| *stop) => return None,
                        () = check_due(&mut c.access) => None,
                    };
                    let Some(received) = received else {
                        if !still_allowed(&mut c).await {
                            c.ended = true;
                            return Some((access_ended(), c));
                        }
                        continue;
                    };
                    match received {
                        Ok(event) => event,
                        Err(RecvError::Lagged(_)) => return Some((reset(), c)),
                        Err(RecvError::Closed) => return None,
                    }
                }
            };
            if c.rooms.as_ref().is_none_or(|r| r.contains(&event.room)) {
                return Some((sse_event(&event), c));
            }
        }
    })
}
