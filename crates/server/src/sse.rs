//! The event stream of a subscription as server-sent events: a `reset` first when the
//! client resumed from further back than the bus keeps (or fell behind while connected),
//! then the backlog, then live events, filtered to one room if asked.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::Event as SseEvent;
use futures_util::Stream;
use konferenz_conference::{Event, RoomNumber};
use tokio::sync::broadcast::error::RecvError;

use crate::bus::Subscription;

/// One event as SSE: `id` = sequence number, `event` = type, `data` = the event as JSON.
pub fn sse_event(event: &Event) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(event).unwrap_or_default();
    Ok(SseEvent::default()
        .id(event.seq.to_string())
        .event(event.kind.name())
        .data(data))
}

struct Cursor {
    shutdown: tokio::sync::watch::Receiver<bool>,
    pending: VecDeque<Arc<Event>>,
    reset: bool,
    sub: Subscription,
    rooms: Option<Vec<RoomNumber>>,
}

fn reset() -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().event("reset").data("{}"))
}

/// The SSE stream of `sub`, only these rooms' events if given; it ends at shutdown.
pub fn stream(
    sub: Subscription,
    rooms: Option<Vec<RoomNumber>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let cursor = Cursor {
        shutdown,
        pending: sub.backlog.iter().cloned().collect(),
        reset: sub.gap,
        sub,
        rooms,
    };
    futures_util::stream::unfold(cursor, |mut c| async move {
        if std::mem::take(&mut c.reset) {
            return Some((reset(), c));
        }
        loop {
            let event = match c.pending.pop_front() {
                Some(event) => event,
                None => {
                    let received = tokio::select! {
                        received = c.sub.live.recv() => received,
                        _ = c.shutdown.wait_for(|stop| *stop) => return None,
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
