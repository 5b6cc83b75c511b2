//! What is done to calls and rooms in a running conference — clients of the control
//! boundary: hang up [and block], mute, re-dial (by room and call, or by call id alone as the
//! CLI does), mute all [but], lock, end, and the block list.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konferenz_conference::{CallId, Command, Dialable, RosterEntry};
use konferenz_store::{Room, RoomBlock};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::conference::{Body, PlacedCall, RoomPath, body, place, take_invitations};
use super::error::ErrorBody;
use super::extract::{Path, RawBody};
use super::{ApiError, ApiState};
use crate::control::Answer;

#[derive(Deserialize, IntoParams)]
pub struct CallPath {
    /// The room's number.
    number: String,
    /// The call's id (from the participant list or the event stream).
    call: u64,
}

/// The room's roster entry of `call`, or 404 (calls of other rooms are not found here).
async fn call_in_room(
    state: &ApiState,
    principal: &Principal,
    number: &str,
    call: u64,
) -> Result<(Room, RosterEntry), ApiError> {
    let room = managed_room(state, principal, number).await?;
    let (_, list) = state.bus.snapshot(&room.number);
    let entry = list
        .into_iter()
        .find(|e| e.call == call)
        .ok_or_else(|| ApiError::NotFound(format!("no call {call} in room {}", room.number)))?;
    Ok((room, entry))
}

/// Hang up options.
#[derive(Deserialize, Default, ToSchema)]
pub struct HangUpBody {
    /// Also keep this caller ID / invited number out of the room.
    #[serde(default)]
    block: bool,
    /// How long the block lasts, in seconds (default: for good).
    #[serde(default)]
    block_secs: Option<u64>,
}

/// Hang up a call (BYE, or CANCEL while an invitation rings), optionally blocking it.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/calls/{call}/hangup", tag = "rooms",
    params(CallPath), request_body(content = Option<HangUpBody>),
    responses(
        (status = 204, description = "Hung up"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn hang_up(
    State(state): State<ApiState>,
    principal: Principal,
    Path(CallPath { number, call }): Path<CallPath>,
    request: Result<RawBody, ApiError>,
) -> Result<StatusCode, ApiError> {
    let (_, entry) = call_in_room(&state, &principal, &number, call).await?;
    let RawBody(request) = request?;
    // The body is optional: none means a plain hang-up.
    let request: HangUpBody = if request.iter().all(u8::is_ascii_whitespace) {
        HangUpBody::default()
    } else {
        serde_json::from_slice(&request).map_err(|e| {
            ApiError::invalid(
                "block",
                format!(
                    "expected {{\"block\": true, \"block_secs\": 3600}}: {}",
                    super::extract::public(&e.to_string())
                ),
            )
        })?
    };
    state
        .control
        .send(
            Command::HangUp {
                call: CallId(call),
                block: request.block,
                block_for: request.block_secs.map(Duration::from_secs),
            },
            None,
        )
        .await?;
    state.persister.flush().await;
    if request.block {
        let lasts = request
            .block_secs
            .map_or_else(|| "until unblocked".to_owned(), |s| format!("for {s} s"));
        crate::audit::record(
            &state.store,
            crate::audit::actor(&principal),
            "call.block",
            &entry.number,
            &format!("room {number}, {lasts}"),
            principal.source,
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Muted or not.
#[derive(Deserialize, ToSchema)]
pub struct MuteBody {
    muted: bool,
}

/// Mute or unmute one participant.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/calls/{call}/mute", tag = "rooms",
    params(CallPath), request_body = MuteBody,
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 409, description = "Conflicts with what is stored or running", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn mute(
    State(state): State<ApiState>,
    principal: Principal,
    Path(CallPath { number, call }): Path<CallPath>,
    request: Body<MuteBody>,
) -> Result<StatusCode, ApiError> {
    call_in_room(&state, &principal, &number, call).await?;
    let request = body(request, "muted", "{\"muted\": true|false}")?;
    state
        .control
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

/// Call an invitee again (a new call; the old entry stays in the list as it ended).
#[utoipa::path(post, path = "/api/v1/rooms/{number}/calls/{call}/redial", tag = "rooms",
    params(CallPath),
    responses(
        (status = 202, description = "Accepted: the call is being placed", body = PlacedCall),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 409, description = "Not an invitation, or still in progress", body = ErrorBody),
    ))]
pub async fn redial(
    State(state): State<ApiState>,
    principal: Principal,
    Path(CallPath { number, call }): Path<CallPath>,
) -> Result<Response, ApiError> {
    let (room, entry) = call_in_room(&state, &principal, &number, call).await?;
    if !entry.invited {
        return Err(ApiError::Conflict(
            "only invitations can be re-dialled".into(),
        ));
    }
    if matches!(entry.state.as_str(), "calling" | "ringing" | "connected") {
        return Err(ApiError::Conflict(format!(
            "call {call} is still {}",
            entry.state
        )));
    }
    let callee = Dialable::parse(&entry.number).map_err(|e| ApiError::Internal(e.to_string()))?;
    take_invitations(&state, &principal, 1)?;
    let placed = place(&state, &room.number, &callee).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PlacedCall {
            call: placed.0,
            number: entry.number,
        }),
    )
        .into_response())
}

/// Mute all (but one).
#[derive(Deserialize, ToSchema)]
pub struct MuteRoomBody {
    muted: bool,
    /// The host's call, left as it is ("mute all but me").
    #[serde(default)]
    except: Option<u64>,
}

/// The calls a room-wide change touched.
#[derive(Serialize, ToSchema)]
pub struct CallsAnswer {
    calls: Vec<u64>,
}

/// Mute or unmute everyone in the room but `except` (and whoever joins later, until
/// unmuted).
#[utoipa::path(post, path = "/api/v1/rooms/{number}/mute", tag = "rooms",
    params(RoomPath), request_body = MuteRoomBody,
    responses(
        (status = 200, description = "OK", body = CallsAnswer),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn mute_room(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<MuteRoomBody>,
) -> Result<Json<CallsAnswer>, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let request = body(
        request,
        "muted",
        "{\"muted\": true|false, \"except\": CALL}",
    )?;
    let answer = state
        .control
        .send(
            Command::MuteAll {
                room: room.number,
                muted: request.muted,
                except: request.except.map(CallId),
            },
            None,
        )
        .await?;
    state.persister.flush().await;
    let calls = match answer {
        Answer::Calls(calls) => calls.into_iter().map(|c| c.0).collect(),
        _ => Vec::new(),
    };
    Ok(Json(CallsAnswer { calls }))
}

/// Locked or not.
#[derive(Deserialize, ToSchema)]
pub struct LockBody {
    locked: bool,
}

/// Lock or unlock: while locked, new dial-ins hear "this conference is locked" and are
/// hung up; invitations still get in. The lock ends with the conference.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/lock", tag = "rooms",
    params(RoomPath), request_body = LockBody,
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn lock(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<LockBody>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let request = body(request, "locked", "{\"locked\": true|false}")?;
    state
        .control
        .send(
            Command::Lock {
                room: room.number,
                locked: request.locked,
            },
            None,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End the conference: everyone in the room is hung up.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/end", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn end(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    state
        .control
        .send(Command::End { room: room.number }, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One entry of a room's block list.
#[derive(Serialize, ToSchema)]
pub struct BlockJson {
    room: String,
    /// The blocked caller ID or invited number.
    who: String,
    /// `invited` (a number we dialled: reliable) or `caller-id` (best effort).
    kind: String,
    /// Unix seconds when the block ends; `null`: for good.
    until: Option<i64>,
}

impl From<RoomBlock> for BlockJson {
    fn from(b: RoomBlock) -> Self {
        BlockJson {
            room: b.room,
            who: b.who,
            kind: b.kind,
            until: b.until,
        }
    }
}

/// Who is barred from the room, until when.
#[utoipa::path(get, path = "/api/v1/rooms/{number}/blocks", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 200, description = "OK", body = [BlockJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn blocks(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<Json<Vec<BlockJson>>, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let now = crate::location::unix(std::time::SystemTime::now());
    let blocks = state
        .store
        .room_blocks(now)
        .await?
        .into_iter()
        .filter(|b| b.room == room.number.as_str())
        .map(BlockJson::from)
        .collect();
    Ok(Json(blocks))
}

#[derive(Deserialize, IntoParams)]
pub struct BlockPath {
    /// The room's number.
    number: String,
    /// The blocked caller ID or number.
    who: String,
}

/// Let a blocked caller into the room again.
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/blocks/{who}", tag = "rooms",
    params(BlockPath),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn unblock(
    State(state): State<ApiState>,
    principal: Principal,
    Path(BlockPath { number, who }): Path<BlockPath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    state
        .control
        .send(
            Command::Unblock {
                room: room.number,
                who,
            },
            None,
        )
        .await?;
    state.persister.flush().await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct CallOnlyPath {
    /// The call's id (from the participant list or the event stream).
    call: u64,
}

/// The number of the room a call is in (404 if the server knows no such call).
fn room_of_call(state: &ApiState, call: u64) -> Result<String, ApiError> {
    state
        .bus
        .room_of(CallId(call))
        .map(|room| room.to_string())
        .ok_or_else(|| ApiError::NotFound(format!("no call {call}")))
}

/// Hang up a call by its id alone (as `konferenz hangup CALL` does).
#[utoipa::path(post, path = "/api/v1/calls/{call}/hangup", tag = "rooms",
    params(CallOnlyPath), request_body(content = Option<HangUpBody>),
    responses(
        (status = 204, description = "Hung up"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn hang_up_call(
    State(state): State<ApiState>,
    principal: Principal,
    Path(CallOnlyPath { call }): Path<CallOnlyPath>,
    request: Result<RawBody, ApiError>,
) -> Result<StatusCode, ApiError> {
    principal.require_organiser()?;
    let number = room_of_call(&state, call)?;
    hang_up(
        State(state),
        principal,
        Path(CallPath { number, call }),
        request,
    )
    .await
}

/// Mute or unmute a call by its id alone (as `konferenz mute CALL` does).
#[utoipa::path(post, path = "/api/v1/calls/{call}/mute", tag = "rooms",
    params(CallOnlyPath), request_body = MuteBody,
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 409, description = "Conflicts with what is stored or running", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn mute_call(
    State(state): State<ApiState>,
    principal: Principal,
    Path(CallOnlyPath { call }): Path<CallOnlyPath>,
    request: Body<MuteBody>,
) -> Result<StatusCode, ApiError> {
    principal.require_organiser()?;
    let number = room_of_call(&state, call)?;
    mute(
        State(state),
        principal,
        Path(CallPath { number, call }),
        request,
    )
    .await
}
