//! Rooms: list (the caller's own room first), create and delete (administrators), read and
//! change (name, language, owner), PIN set/clear, sharing with other users, and the room's
//! on-hold music (a WAV upload, checked by decoding it before it is kept).

use std::io::Cursor;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konferenz_conference::{Language, Pin, RoomNumber};
use konferenz_store::{NewRoom, Room, RoomChanges};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::conference::{Body, RoomPath, body};
use super::error::ErrorBody;
use super::extract::{Path, RawBody};
use super::{ApiError, ApiState};

/// Largest on-hold music file accepted.
pub const MAX_MUSIC_BYTES: usize = 8 << 20;

/// A room as the API shows it to those who manage it.
#[derive(Serialize, ToSchema)]
pub struct RoomJson {
    /// The number callers dial.
    number: String,
    name: Option<String>,
    /// Creation time, Unix seconds.
    created_at: i64,
    /// The PIN callers enter (shown to those who manage the room), `null`: none.
    pin: Option<String>,
    /// Prompt language (`en`, `de`), `null`: the configured default.
    language: Option<&'static str>,
    /// The owner's user number.
    owner: Option<String>,
    /// Users the room is shared with.
    shared_with: Vec<String>,
    /// The room-wide mute ("mute all") is on.
    muted: bool,
    /// The running conference is locked.
    locked: bool,
    /// Whether the room has its own on-hold music.
    has_music: bool,
}

fn room_json(state: &ApiState, room: &Room, shares: &[(String, String)]) -> RoomJson {
    RoomJson {
        number: room.number.to_string(),
        name: room.name.clone(),
        created_at: room.created_at,
        pin: room.pin.as_ref().map(|p| p.reveal().to_owned()),
        language: room.language.map(|l| l.code()),
        owner: room.owner.clone(),
        shared_with: shares
            .iter()
            .filter(|(r, _)| r == room.number.as_str())
            .map(|(_, u)| u.clone())
            .collect(),
        muted: room.muted,
        locked: state.bus.locked(&room.number),
        has_music: room.music.is_some(),
    }
}

/// The rooms the caller may manage: the caller's own room first, then by number.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms",
    responses(
        (status = 200, description = "OK", body = [RoomJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<Vec<RoomJson>>, ApiError> {
    principal.require_organiser()?;
    let shares = state.store.room_shares().await?;
    let mut rooms: Vec<Room> = state
        .store
        .list_rooms()
        .await?
        .into_iter()
        .filter(|room| principal.may_manage(room, &shares))
        .collect();
    let own = principal.number.as_deref();
    rooms.sort_by_key(|room| (Some(room.number.as_str()) != own, room.number.to_string()));
    Ok(Json(
        rooms
            .iter()
            .map(|room| room_json(&state, room, &shares))
            .collect(),
    ))
}

/// A new room.
#[derive(Deserialize, ToSchema)]
pub struct NewRoomBody {
    number: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    pin: Option<String>,
    /// `en` or `de`; absent: the configured default.
    #[serde(default)]
    language: Option<String>,
    /// The owner's user number; absent: the user with the room's number, if any.
    #[serde(default)]
    owner: Option<String>,
}

fn parse_language(text: Option<&str>) -> Result<Option<Language>, ApiError> {
    text.map(|l| Language::parse(l).map_err(|e| ApiError::invalid("language", e)))
        .transpose()
}

fn parse_name(text: Option<String>) -> Result<Option<String>, ApiError> {
    let name = text.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::invalid("name", "at most 100 characters"));
    }
    Ok(name)
}

/// Create a room (administrators).
#[utoipa::path(post, path = "/api/v1/rooms", tag = "admin",
    request_body = NewRoomBody,
    responses(
        (status = 201, description = "Created", body = RoomJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such owner", body = ErrorBody),
        (status = 409, description = "Number or PIN taken", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<NewRoomBody>,
) -> Result<Response, ApiError> {
    principal.require_admin()?;
    let request = body(request, "number", "{\"number\": \"800\", \"name\": …}")?;
    let number =
        RoomNumber::parse(request.number.trim()).map_err(|e| ApiError::invalid("number", e))?;
    if super::auth::scheduled_id(number.as_str()).is_some() {
        return Err(ApiError::invalid(
            "number",
            "c followed by digits names scheduled conferences; choose another number",
        ));
    }
    let pin = request
        .pin
        .as_deref()
        .map(|p| Pin::parse(p.trim()).map_err(|e| ApiError::invalid("pin", e)))
        .transpose()?;
    let name = parse_name(request.name)?;
    let room = state
        .store
        .add_room(&NewRoom {
            name: name.as_deref(),
            pin: pin.as_ref(),
            language: parse_language(request.language.as_deref())?,
            owner: request.owner.as_deref(),
            ..NewRoom::new(&number)
        })
        .await?;
    tracing::info!(room = %number, "room created");
    let shares = state.store.room_shares().await?;
    Ok((StatusCode::CREATED, Json(room_json(&state, &room, &shares))).into_response())
}

/// One room.
#[utoipa::path(get, path = "/api/v1/rooms/{number}", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 200, description = "OK", body = RoomJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn read(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<Json<RoomJson>, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let shares = state.store.room_shares().await?;
    Ok(Json(room_json(&state, &room, &shares)))
}

/// `Some(value)` for a present key (even `null`), so that absent and `null` differ.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Changes to a room; absent keys stay as they are, `null` clears.
#[derive(Deserialize, ToSchema)]
pub struct RoomPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    language: Option<Option<String>>,
    /// Administrators only.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    owner: Option<Option<String>>,
}

/// Change a room's name, language or (administrators) owner.
#[utoipa::path(patch, path = "/api/v1/rooms/{number}", tag = "rooms",
    params(RoomPath), request_body = RoomPatch,
    responses(
        (status = 200, description = "OK", body = RoomJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<RoomPatch>,
) -> Result<Json<RoomJson>, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let request = body(
        request,
        "name",
        "{\"name\": …, \"language\": …, \"owner\": …}",
    )?;
    if request.owner.is_some() {
        principal.require_admin()?;
    }
    let changes = RoomChanges {
        name: request.name.map(parse_name).transpose()?,
        language: request
            .language
            .map(|l| parse_language(l.as_deref()))
            .transpose()?,
        music: None,
        owner: request.owner,
    };
    let room = state.store.update_room(&room.number, &changes).await?;
    let shares = state.store.room_shares().await?;
    Ok(Json(room_json(&state, &room, &shares)))
}

/// Delete a room (administrators). A running conference in it goes on until it ends.
#[utoipa::path(delete, path = "/api/v1/rooms/{number}", tag = "admin",
    params(RoomPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let room = managed_room(&state, &principal, &number).await?;
    state.store.remove_room(&room.number).await?;
    tracing::info!(room = %room.number, "room deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A PIN.
#[derive(Deserialize, ToSchema)]
pub struct PinBody {
    /// 4 to 12 digits, unique among rooms.
    pin: String,
}

/// Set the room's PIN.
#[utoipa::path(put, path = "/api/v1/rooms/{number}/pin", tag = "rooms",
    params(RoomPath), request_body = PinBody,
    responses(
        (status = 204, description = "Set"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 409, description = "Another room has this PIN", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn set_pin(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<PinBody>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let request = body(request, "pin", "{\"pin\": \"1234\"}")?;
    let pin = Pin::parse(request.pin.trim()).map_err(|e| ApiError::invalid("pin", e))?;
    state.store.set_room_pin(&room.number, Some(&pin)).await?;
    tracing::info!(room = %room.number, "room PIN set");
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the room's PIN (callers dialling the room's number get straight in).
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/pin", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn clear_pin(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    state.store.set_room_pin(&room.number, None).await?;
    tracing::info!(room = %room.number, "room PIN cleared");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct SharePath {
    /// The room's number.
    number: String,
    /// The user's number.
    user: String,
}

/// Only the owner and administrators hand a room on.
fn require_owner(principal: &Principal, room: &Room) -> Result<(), ApiError> {
    if principal.admin || principal.number.is_some() && principal.number == room.owner {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the room's owner or an administrator may share it".into(),
        ))
    }
}

/// Share the room with a user (an organiser then manages it too).
#[utoipa::path(put, path = "/api/v1/rooms/{number}/shares/{user}", tag = "rooms",
    params(SharePath),
    responses(
        (status = 204, description = "Shared"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such room or user", body = ErrorBody),
    ))]
pub async fn share(
    State(state): State<ApiState>,
    principal: Principal,
    Path(SharePath { number, user }): Path<SharePath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    require_owner(&principal, &room)?;
    if state.store.find_sip_user(&user).await?.is_none() {
        return Err(ApiError::NotFound(format!("no user {user}")));
    }
    state.store.share_room(room.number.as_str(), &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop sharing the room with a user.
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/shares/{user}", tag = "rooms",
    params(SharePath),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn unshare(
    State(state): State<ApiState>,
    principal: Principal,
    Path(SharePath { number, user }): Path<SharePath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    require_owner(&principal, &room)?;
    if !state
        .store
        .unshare_room(room.number.as_str(), &user)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "room {} is not shared with {user}",
            room.number
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Upload the room's on-hold music: a WAV file (any rate, mono or stereo) as the body.
#[utoipa::path(put, path = "/api/v1/rooms/{number}/music", tag = "rooms",
    params(RoomPath),
    request_body(content = Vec<u8>, content_type = "audio/wav"),
    responses(
        (status = 204, description = "Stored; played from the next lonely moment on"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 422, description = "Not a WAV file", body = ErrorBody),
    ))]
pub async fn set_music(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    wav: Result<RawBody, ApiError>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let RawBody(wav) = wav?;
    if wav.len() > MAX_MUSIC_BYTES {
        return Err(ApiError::invalid("body", "at most 8 MiB"));
    }
    let reader = hound::WavReader::new(Cursor::new(&wav[..]))
        .map_err(|e| ApiError::invalid("body", format!("not a WAV file: {e}")))?;
    if reader.duration() == 0 {
        return Err(ApiError::invalid("body", "the WAV file holds no audio"));
    }
    let dir = state.data_dir.join("music");
    let path = dir.join(format!("room-{}.wav", room.number));
    let temp = dir.join(format!(".room-{}.wav.part", room.number));
    let written = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(&temp, &wav).await?;
        tokio::fs::rename(&temp, &path).await
    }
    .await;
    written.map_err(|e| ApiError::Internal(format!("storing music in {}: {e}", dir.display())))?;
    let path = std::path::absolute(&path).unwrap_or(path);
    state
        .store
        .update_room(
            &room.number,
            &RoomChanges {
                music: Some(Some(path.to_string_lossy().into_owned())),
                ..RoomChanges::default()
            },
        )
        .await?;
    tracing::info!(room = %room.number, bytes = wav.len(), "room music stored");
    Ok(StatusCode::NO_CONTENT)
}

/// Back to the default on-hold music.
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/music", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn clear_music(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    state
        .store
        .update_room(
            &room.number,
            &RoomChanges {
                music: Some(None),
                ..RoomChanges::default()
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
