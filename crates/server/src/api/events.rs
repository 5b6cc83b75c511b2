//! The live event stream: `GET /api/v1/events?room=800&since=SEQ` as server-sent events,
//! resumable by sequence number (`since` or the browser's `Last-Event-ID`). Without
//! `room`, administrators get every room's events and organisers those of their rooms.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::{Principal, managed_room};
use super::error::ErrorBody;
use super::{ApiError, ApiState};

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
/// `event: reset` first: reload the participant list, then follow on.
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
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid("since", e.body_text()))?;
    principal.require_organiser()?;
    let rooms = match &query.room {
        Some(n) => Some(vec![managed_room(&state, &principal, n).await?.number]),
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
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let subscription = state.bus.subscribe(query.since.or(last_id));
    let stream = crate::sse::stream(subscription, rooms, state.shutdown.clone());
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
