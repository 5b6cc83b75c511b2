//! The live event stream: `GET /api/v1/events?room=800&since=SEQ` as server-sent events,
//! resumable by sequence number (`since` or the browser's `Last-Event-ID`). Without
//! `room`, administrators get every room's events and organisers those of their rooms.
//! An open stream checks its access again when it may have changed (see [`super::access`])
//! and ends with `event: access-ended` once the credentials or the room are no longer good.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use konferenz_conference::RoomNumber;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::{Principal, managed_room, reauthenticate};
use super::error::ErrorBody;
use super::extract::Query;
use super::{ApiError, ApiState};
use crate::sse::Verdict;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this room's events.
    room: Option<String>,
    /// Resume after this sequence number (also taken from `Last-Event-ID`).
    since: Option<u64>,
}

/// Follow what happens: `id` = sequence number, `event` = type (`participant`, `muted`,
/// `talking`, `refused`, `room-locked`, `room-muted`, `conference-ended`), `data` = the
/// event as JSON. A client resuming from further back than the server keeps gets
/// `event: reset` first: reload the participant list, then follow on. When the caller's
/// access ends while the stream is open (logged out, session expired, token revoked,
/// organiser right withdrawn, room unshared or deleted) the stream sends
/// `event: access-ended` and closes; reconnecting then gets 401, 403 or 404.
#[utoipa::path(get, path = "/api/v1/events", tag = "rooms",
    params(EventsQuery),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream",
            body = String),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<ApiState>,
    principal: Principal,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    // Subscribed before the first check: a change of access meanwhile is checked again.
    let changes = state.access.subscribe();
    let rooms = followed_rooms(&state, &principal, query.room.as_deref()).await?;
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let subscription = state.bus.subscribe(query.since.or(last_id));
    let check: crate::sse::Check = {
        let (state, room) = (state.clone(), query.room.clone());
        Arc::new(move || {
            let (state, principal, room) = (state.clone(), principal.clone(), room.clone());
            Box::pin(async move {
                let rooms = match reauthenticate(&state, &principal).await {
                    Ok(now) => followed_rooms(&state, &now, room.as_deref()).await,
                    Err(e) => Err(e),
                };
                match rooms {
                    Ok(rooms) => Verdict::Rooms(rooms),
                    Err(ApiError::Store(_)) => Verdict::Unsure,
                    Err(_) => Verdict::Gone,
                }
            })
        })
    };
    let access = crate::sse::Access {
        changes,
        every: super::access::RECHECK,
        check,
    };
    let stream = crate::sse::stream(subscription, rooms, state.shutdown.clone(), Some(access));
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The rooms `principal` may follow: `room` if they manage it, else every room for
/// administrators (`None`) and their own and shared rooms for organisers.
async fn followed_rooms(
    state: &ApiState,
    principal: &Principal,
    room: Option<&str>,
) -> Result<Option<Vec<RoomNumber>>, ApiError> {
    principal.require_organiser()?;
    Ok(match room {
        Some(n) => Some(vec![managed_room(state, principal, n).await?.number]),
        None if principal.admin => None,
        None => {
            let shares = state.store.room_shares().await?;
            let rooms = state.store.list_rooms().await?;
            Some(
                rooms
                    .into_iter()
                    .filter(|room| principal.may_manage(room, &shares))
                    .map(|room| room.number)
                    .collect(),
            )
        }
    })
}
