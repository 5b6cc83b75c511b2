//! The invitation API: `POST /api/rooms/{number}/invitations` calls a number into a room,
//! `GET /api/rooms/{number}/participants` lists the invited participants with their live
//! states. `konferenz invite` and `konferenz participants` are clients of these.

use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use konferenz_conference::RoomNumber;
use konferenz_sip::Transport;
use konferenz_store::Store;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use crate::config::TrunkConfig;
use crate::participants::{Invitee, Participants};
use crate::sip_task::SipCommand;

/// What the invitation routes need.
#[derive(Clone)]
pub struct InviteApi {
    pub store: Store,
    pub sip: mpsc::UnboundedSender<SipCommand>,
    pub participants: Participants,
    pub trunk: TrunkConfig,
    /// Registered phones of the built-in registrar: called directly.
    pub location: crate::location::Location,
}

/// The routes, with their state.
pub fn routes(api: InviteApi) -> Router {
    Router::new()
        .route("/api/rooms/{number}/invitations", post(invite))
        .route("/api/rooms/{number}/participants", get(participants))
        .route("/api/calls/{call}/hangup", post(hang_up))
        .route("/api/calls/{call}/mute", post(mute))
        .route("/api/rooms/{number}/mute", post(mute_room))
        .with_state(api)
}

#[derive(Deserialize)]
struct InviteBody {
    number: String,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

async fn room(api: &InviteApi, number: &str) -> Result<RoomNumber, Response> {
    let number = RoomNumber::parse(number)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("number: {e}")))?;
    match api.store.find_room(&number).await {
        Ok(Some(_)) => Ok(number),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, format!("no room {number}"))),
        Err(e) => {
            tracing::error!(error = %e, "database error in HTTP handler");
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

async fn invite(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    body: Result<Json<InviteBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let room = match room(&api, &number).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "number: expected a JSON body {\"number\": \"...\"}",
        );
    };
    let callee = body.number.trim().to_owned();
    if callee.is_empty()
        || !callee
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.*#".contains(c))
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "number: use digits, letters and + - _ . * #",
        );
    }
    let (target, next_hop, transport, from_host) = match route(&api, &callee).await {
        Ok(route) => route,
        Err(response) => return response,
    };
    let (reply, answer) = oneshot::channel();
    let command = SipCommand::Invite {
        room: room.clone(),
        number: callee.clone(),
        target,
        next_hop,
        transport,
        from_host,
        reply,
    };
    if api.sip.send(command).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match answer.await {
        Ok(Ok(call)) => (StatusCode::ACCEPTED, Json(serde_json::json!({ "call": call, "room": room.as_str(), "number": callee, "state": "calling" }))).into_response(),
        Ok(Err(message)) => error(StatusCode::SERVICE_UNAVAILABLE, message),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

/// Where a call to `callee` goes: a phone registered here by its binding (sent to where
/// its REGISTER came from), else through the trunk (internal or external template).
async fn route(
    api: &InviteApi,
    callee: &str,
) -> Result<(String, SocketAddr, Transport, Option<String>), Response> {
    // A binding counts only while its user exists (`user remove` runs in another process).
    let binding = api.location.lookup(callee, std::time::SystemTime::now());
    let user_exists = match &binding {
        Some(_) => matches!(api.store.find_sip_user(callee).await, Ok(Some(_))),
        None => false,
    };
    if let Some(binding) = binding.filter(|_| user_exists) {
        tracing::debug!(number = %callee, contact = %binding.contact, "calling a registered phone");
        return Ok((binding.contact, binding.source, binding.transport, None));
    }
    let Some(target) = api.trunk.target(callee) else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not a registered phone and no trunk configured: set trunk.uri",
        ));
    };
    let next_hop = next_hop(&api.trunk, &target)
        .await
        .map_err(|message| error(StatusCode::BAD_GATEWAY, message))?;
    let transport = if api.trunk.transport == "tcp" {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    // From carries the trunk's domain, as a PBX expects of its own users.
    let from_host = konferenz_sip::parse_uri(&target).map(|(host, _)| {
        if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        }
    });
    Ok((target, next_hop, transport, from_host))
}

/// The outbound proxy, else the host and port of the trunk URI (resolved here).
async fn next_hop(trunk: &TrunkConfig, target: &str) -> Result<SocketAddr, String> {
    if let Some(proxy) = trunk.outbound_proxy {
        return Ok(proxy);
    }
    let uri = konferenz_sip::parse_uri(target)
        .ok_or_else(|| format!("trunk.uri gives no SIP URI: {target}"))?;
    let (host, port) = uri;
    tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}"))
}

async fn participants(State(api): State<InviteApi>, Path(number): Path<String>) -> Response {
    match room(&api, &number).await {
        Ok(room) => Json::<Vec<Invitee>>(api.participants.of_room(&room)).into_response(),
        Err(response) => response,
    }
}

async fn command(
    api: &InviteApi,
    make: impl FnOnce(oneshot::Sender<Result<(), String>>) -> SipCommand,
) -> Response {
    let (reply, answer) = oneshot::channel();
    if api.sip.send(make(reply)).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match answer.await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(message)) => error(StatusCode::NOT_FOUND, message),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}

#[derive(Deserialize, Default)]
struct HangUpBody {
    #[serde(default)]
    block: bool,
}

/// `POST /api/calls/{call}/hangup` (optional body `{"block": true}`): BYE (or CANCEL while
/// ringing); with `block` the caller ID / invited number may not call this room again.
async fn hang_up(
    State(api): State<InviteApi>,
    Path(call): Path<u64>,
    body: Option<Json<HangUpBody>>,
) -> Response {
    let block = body.map(|Json(b)| b.block).unwrap_or_default();
    command(&api, |reply| SipCommand::HangUp {
        call: konferenz_sip::CallHandle(call),
        block,
        reply,
    })
    .await
}

#[derive(Deserialize)]
struct MuteBody {
    muted: bool,
}

/// `POST /api/calls/{call}/mute` with `{"muted": true|false}`.
async fn mute(
    State(api): State<InviteApi>,
    Path(call): Path<u64>,
    body: Result<Json<MuteBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "muted: expected a JSON body {\"muted\": true|false}",
        );
    };
    command(&api, |reply| SipCommand::Mute {
        call: konferenz_sip::CallHandle(call),
        muted: body.muted,
        reply,
    })
    .await
}

#[derive(Deserialize)]
struct MuteRoomBody {
    muted: bool,
    /// The host's call, left as it is ("mute all but the host").
    #[serde(default)]
    except: Option<u64>,
}

/// `POST /api/rooms/{number}/mute` with `{"muted": true, "except": CALL}`: mutes (or
/// unmutes) everyone in the room but `except`; answers `{"calls": [...]}`, the calls changed.
async fn mute_room(
    State(api): State<InviteApi>,
    Path(number): Path<String>,
    body: Result<Json<MuteRoomBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let room = match room(&api, &number).await {
        Ok(room) => room,
        Err(response) => return response,
    };
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "muted: expected a JSON body {\"muted\": true|false, \"except\": CALL}",
        );
    };
    let (reply, answer) = oneshot::channel();
    let command = SipCommand::MuteRoom {
        room,
        muted: body.muted,
        except: body.except.map(konferenz_sip::CallHandle),
        reply,
    };
    if api.sip.send(command).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match answer.await {
        Ok(calls) => Json(serde_json::json!({ "calls": calls })).into_response(),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
    }
}
