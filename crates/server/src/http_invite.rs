//! The conference control API — clients of the control boundary ([`Control`]) and the
//! event bus ([`Bus`]): invitations, participants (live, and the paged history), hang up,
//! mute one or all, lock, end, and the live event stream (server-sent events). The CLI's
//! `invite`, `participants`, `hangup`, `mute` and `room lock` call these.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use konferenz_conference::{CallId, Command, DialPlan, Dialable, RoomNumber};
use konferenz_store::Store;
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::bus::Bus;
use crate::config::TrunkConfig;
use crate::control::{Answer, Control, Route};
use crate::resolve::SipResolver;

/// What the control routes need.
#[derive(Clone)]
pub struct InviteApi {
    pub store: Store,
    pub control: Control,
    pub bus: Bus,
    pub trunk: TrunkConfig,
    /// Which Request-URI a number is called at through the trunk (built from `trunk`).
    pub dial_plan: std::sync::Arc<DialPlan>,
    /// Finds the next hop of a trunk call (RFC 3263).
    pub resolver: SipResolver,
    /// Registered phones of the built-in registrar: called directly.
    pub location: crate::location::Location,
    /// Ends event streams at shutdown.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The conference's store writes (blocks, room-wide mute): flushed before answering.
    pub persister: crate::persist::Persister,
}

/// The routes, with their state.
pub fn routes(api: InviteApi) -> Router {
    Router::new()
        .route("/api/rooms/{number}/invitations", post(invite))
        .route("/api/rooms/{number}/participants", get(participants))
        .route("/api/rooms/{number}/history", get(history))
        .route("/api/calls/{call}/hangup", post(hang_up))
        .route("/api/calls/{call}/mute", post(mute))
        .route("/api/rooms/{number}/mute", post(mute_room))
        .route("/api/rooms/{number}/lock", post(lock))
        .route("/api/rooms/{number}/end", post(end))
        .route("/api/rooms/{number}/blocks", get(blocks))
        .route(
            "/api/rooms/{number}/blocks/{who}",
            axum::routing::delete(unblock),
        )
        .route("/api/events", get(events))
        .with_state(api)
}

/// A JSON body, or a 422 naming what was expected.
type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn body<T>(body: Body<T>, field: &'static str, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::invalid(field, format!("expected {expected} ({})", e.body_text())))
}

/// A room number from the path that names a stored room.
async fn room(api: &InviteApi, number: &str) -> Result<RoomNumber, ApiError> {
    let number = RoomNumber::parse(number).map_err(|e| ApiError::BadPath {
        field: "number",
        message: e.to_string(),
    })?;
    match api.store.find_room(&number).await? {
        Some(_) => Ok(number),
        None => Err(ApiError::NotFound(format!("no room {number}"))),
    }
}

#[derive(Deserialize)]
struct InviteBody {
    number: String,
}

async fn invite(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    request: Body<InviteBody>,
) -> Result<Response, ApiError> {
    let room = room(&api, &number).await?;
    let request = body(request, "number", "a JSON body {\"number\": \"...\"}")?;
    let callee = Dialable::parse(&request.number).map_err(|e| ApiError::invalid("number", e))?;
    let route = route(&api, &callee).await?;
    let answer = api
        .control
        .send(
            Command::Invite {
                room: room.clone(),
                number: callee.clone(),
            },
            Some(route),
        )
        .await?;
    let Answer::Placed(call) = answer else {
        return Err(ApiError::Unavailable(
            "the invitation was not placed".into(),
        ));
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "call": call, "room": room.as_str(), "number": callee.as_str(), "state": "calling" })),
    )
        .into_response())
}

/// Where a call to `callee` goes: a phone registered here by its binding (sent to where
/// its REGISTER came from), else through the trunk (internal or external template).
async fn route(api: &InviteApi, callee: &Dialable) -> Result<Route, ApiError> {
    // A binding counts only while its user exists (`user remove` runs in another process).
    let binding = api
        .location
        .lookup(callee.as_str(), std::time::SystemTime::now());
    let user_exists = match &binding {
        Some(_) => matches!(api.store.find_sip_user(callee.as_str()).await, Ok(Some(_))),
        None => false,
    };
    if let Some(binding) = binding.filter(|_| user_exists) {
        tracing::debug!(number = %callee, contact = %binding.contact, "calling a registered phone");
        return Ok(Route {
            target: binding.contact,
            next_hop: binding.source,
            transport: binding.transport,
            from_host: None,
        });
    }
    let Some(target) = api.dial_plan.target(callee) else {
        return Err(ApiError::Unavailable(
            "not a registered phone and no trunk configured: set trunk.uri".into(),
        ));
    };
    tracing::debug!(number = %callee, uri = %target.uri, internal = target.internal, "calling through the trunk");
    let target = target.uri;
    // The outbound proxy, else the Request-URI's host by NAPTR/SRV/A (RFC 3263).
    let hop = api
        .resolver
        .next_hop(&target, api.trunk.outbound_proxy, api.trunk.sip_transport())
        .await
        .map_err(|e| ApiError::BadGateway(e.to_string()))?;
    // From carries the trunk's domain, as a PBX expects of its own users.
    let from_host = konferenz_sip::parse_uri(&target).map(|(host, _)| {
        if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        }
    });
    Ok(Route {
        target,
        next_hop: hop.addr,
        transport: hop.transport,
        from_host,
    })
}

/// `GET /api/rooms/{number}/participants`: live participants (callers in the menu
/// included, as `in-menu`) and the recently finished; header `X-Event-Seq` is the event
/// sequence number the list is current to (follow `GET /api/events?since=` from there).
async fn participants(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let room = room(&api, &number).await?;
    let (seq, list) = api.bus.snapshot(&room);
    Ok(([("x-event-seq", seq.to_string())], Json(list)).into_response())
}

#[derive(Deserialize)]
struct HistoryQuery {
    /// Only calls with a smaller id (the next page).
    before: Option<u64>,
    /// Calls per page (default 50, at most 500).
    limit: Option<u32>,
}

/// `GET /api/rooms/{number}/history?before=CALL&limit=N`: past calls from the database,
/// newest first, a page at a time.
async fn history(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let room = room(&api, &number).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid("before", e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 500"));
    }
    let calls = api
        .store
        .participant_history(room.as_str(), query.before, limit)
        .await?;
    Ok(Json(calls).into_response())
}

#[derive(Deserialize, Default)]
struct HangUpBody {
    #[serde(default)]
    block: bool,
    /// How long the block lasts, in seconds (default: for good).
    #[serde(default)]
    block_secs: Option<u64>,
}

/// `POST /api/calls/{call}/hangup` (optional body `{"block": true, "block_secs": 3600}`):
/// BYE (or CANCEL while ringing); with `block` the caller ID / invited number may not enter
/// this room again.
async fn hang_up(
    State(api): State<InviteApi>,
    Path(call): Path<u64>,
    request: Option<Json<HangUpBody>>,
) -> Result<StatusCode, ApiError> {
    let request = request.map(|Json(b)| b).unwrap_or_default();
    api.control
        .send(
            Command::HangUp {
                call: CallId(call),
                block: request.block,
                block_for: request.block_secs.map(Duration::from_secs),
            },
            None,
        )
        .await?;
    api.persister.flush().await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/rooms/{number}/blocks`: who is barred from the room, until when.
async fn blocks(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let room = room(&api, &number).await?;
    let now = crate::location::unix(std::time::SystemTime::now());
    let blocks: Vec<_> = api
        .store
        .room_blocks(now)
        .await?
        .into_iter()
        .filter(|b| b.room == room.as_str())
        .collect();
    Ok(Json(blocks).into_response())
}

/// `DELETE /api/rooms/{number}/blocks/{who}`: lets `who` into the room again.
async fn unblock(
    State(api): State<InviteApi>,
    Path((number, who)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let room = room(&api, &number).await?;
    api.control
        .send(Command::Unblock { room, who }, None)
        .await?;
    api.persister.flush().await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct MuteBody {
    muted: bool,
}

/// `POST /api/calls/{call}/mute` with `{"muted": true|false}`.
async fn mute(
    State(api): State<InviteApi>,
    Path(call): Path<u64>,
    request: Body<MuteBody>,
) -> Result<StatusCode, ApiError> {
    let request = body(request, "muted", "a JSON body {\"muted\": true|false}")?;
    api.control
        .send(
            Command::Mute {
                call: CallId(call),
                muted: request.muted,
            },
            None,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct MuteRoomBody {
    muted: bool,
    /// The host's call, left as it is ("mute all but the host").
    #[serde(default)]
    except: Option<u64>,
}

/// `POST /api/rooms/{number}/mute` with `{"muted": true, "except": CALL}`: mutes (or
/// unmutes) everyone in the room but `except`, and whoever joins later until unmuted;
/// answers `{"calls": [...]}`, the calls changed now.
async fn mute_room(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    request: Body<MuteRoomBody>,
) -> Result<Response, ApiError> {
    let room = room(&api, &number).await?;
    let request = body(
        request,
        "muted",
        "a JSON body {\"muted\": true|false, \"except\": CALL}",
    )?;
    let answer = api
        .control
        .send(
            Command::MuteAll {
                room,
                muted: request.muted,
                except: request.except.map(CallId),
            },
            None,
        )
        .await?;
    api.persister.flush().await;
    let calls = match answer {
        Answer::Calls(calls) => calls,
        _ => Vec::new(),
    };
    Ok(Json(serde_json::json!({ "calls": calls })).into_response())
}

#[derive(Deserialize)]
struct LockBody {
    locked: bool,
}

/// `POST /api/rooms/{number}/lock` with `{"locked": true|false}`: while locked, new
/// dial-ins hear "this conference is locked" and are hung up; invitations still get in.
async fn lock(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    request: Body<LockBody>,
) -> Result<StatusCode, ApiError> {
    let room = room(&api, &number).await?;
    let request = body(request, "locked", "a JSON body {\"locked\": true|false}")?;
    api.control
        .send(
            Command::Lock {
                room,
                locked: request.locked,
            },
            None,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/rooms/{number}/end`: hangs up everyone in the room.
async fn end(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    let room = room(&api, &number).await?;
    api.control.send(Command::End { room }, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EventsQuery {
    /// Only this room's events.
    room: Option<String>,
    /// Resume after this sequence number (also taken from `Last-Event-ID`).
    since: Option<u64>,
}

/// `GET /api/events?room=800&since=SEQ`: the live event stream as server-sent events
/// (`id` = sequence number, `event` = type, `data` = the event as JSON). A client that
/// resumes from a sequence number no longer kept gets an `event: reset` first (reload the
/// participant list, then follow on).
async fn events(
    State(api): State<InviteApi>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid("since", e.body_text()))?;
    let room = match &query.room {
        Some(n) => Some(room(&api, n).await?),
        None => None,
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let subscription = api.bus.subscribe(query.since.or(last_id));
    let stream = crate::sse::stream(subscription, room, api.shutdown.clone());
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// One event as SSE.
pub fn sse_event(event: &konferenz_conference::Event) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(event).unwrap_or_default();
    Ok(SseEvent::default()
        .id(event.seq.to_string())
        .event(event.kind.name())
        .data(data))
}
