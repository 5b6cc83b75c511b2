//! The browser as a phone: a logged-in organiser joins a room from the conference window,
//! a guest joins from their personal link, each by posting a WebRTC offer and getting the
//! answer (and posting a new offer for the same call to reconnect); `DELETE` leaves.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konferenz_conference::CallId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::conference::{Body, RoomPath, body};
use super::error::ErrorBody;
use super::extract::Path;
use super::{ApiError, ApiState};
use crate::browser::{JoinError, Owner};

/// Largest offer accepted (a browser's audio offer is 2–5 KiB).
const MAX_OFFER: usize = 32 * 1024;

/// A WebRTC offer.
#[derive(Deserialize, ToSchema)]
pub struct OfferBody {
    /// The browser's SDP offer (audio; no trickle ICE needed).
    sdp: String,
    /// To reconnect: the call this browser already has in the room.
    #[serde(default)]
    call: Option<u64>,
}

/// The server's answer.
#[derive(Serialize, ToSchema)]
pub struct AnswerBody {
    /// The browser's call (for reconnecting, leaving, and in the event stream).
    call: u64,
    /// The SDP answer (ICE-lite, one host candidate, Opus).
    sdp: String,
}

#[derive(Deserialize, IntoParams)]
pub struct RoomCallPath {
    /// The room number.
    number: String,
    /// The browser's call.
    call: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct LinkCallPath {
    /// The personal link's token.
    token: String,
    /// The browser's call.
    call: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct LinkPath {
    /// The personal link's token.
    token: String,
}

fn offer(request: Body<OfferBody>) -> Result<OfferBody, ApiError> {
    let offer = body(request, "sdp", "{\"sdp\": \"v=0…\"}")?;
    if offer.sdp.len() > MAX_OFFER || !offer.sdp.starts_with("v=0") {
        return Err(ApiError::invalid("sdp", "is not an SDP offer"));
    }
    Ok(offer)
}

fn answer(result: Result<crate::browser::Answered, JoinError>) -> Result<Response, ApiError> {
    match result {
        Ok(a) => Ok((
            StatusCode::CREATED,
            Json(AnswerBody {
                call: a.call.0,
                sdp: a.sdp,
            }),
        )
            .into_response()),
        Err(e) => Err(join_error(e)),
    }
}

fn join_error(e: JoinError) -> ApiError {
    match e {
        JoinError::Offer(e) => ApiError::invalid("sdp", e.to_string()),
        JoinError::NoSuchCall => {
            ApiError::NotFound("this browser call is not in the conference (any more)".into())
        }
        JoinError::Refused(e) => ApiError::Command(e),
        JoinError::Disabled => {
            ApiError::Conflict("Joining from the browser is switched off on this server.".into())
        }
    }
}

/// Join from this browser: the logged-in user takes part in the room through their
/// browser (WebRTC, Opus), listed under their own number. With `call`, a new offer for
/// the same participant (a reconnect after the network dropped).
#[utoipa::path(post, path = "/api/v1/rooms/{number}/browser", tag = "rooms",
    params(RoomPath), request_body = OfferBody,
    responses(
        (status = 201, description = "Joined (or reconnected): the SDP answer", body = AnswerBody),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role, or blocked", body = ErrorBody),
        (status = 404, description = "No such room, or (reconnect) the call is gone", body = ErrorBody),
        (status = 409, description = "The room is full, or browsers are switched off", body = ErrorBody),
        (status = 422, description = "Not an SDP offer we can answer; the field is named", body = ErrorBody),
        (status = 503, description = "The server has as many calls as it may", body = ErrorBody),
    ))]
pub async fn join_room(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<OfferBody>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let Some(own) = principal.number.clone() else {
        return Err(ApiError::invalid(
            "number",
            "the local administrator has no number to join as",
        ));
    };
    let offer = offer(request)?;
    let result = state
        .browsers
        .join(
            room.number.clone(),
            own.clone(),
            Owner::User(own),
            offer.sdp,
            offer.call.map(CallId),
        )
        .await;
    answer(result)
}

/// Leave: the user's own browser call ends (no organiser right needed: it is theirs).
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/browser/{call}", tag = "account",
    params(RoomCallPath),
    responses(
        (status = 204, description = "Left"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 404, description = "Not this user's browser call (any more)", body = ErrorBody),
    ))]
pub async fn leave_room(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomCallPath { number, call }): Path<RoomCallPath>,
) -> Result<StatusCode, ApiError> {
    // Only the call's owner may end it this way (a user whose organiser right was just
    // withdrawn still leaves cleanly); moderators hang up through /calls.
    let gone = || ApiError::NotFound("no such browser call of yours".into());
    let room = konferenz_conference::RoomNumber::parse(&number).map_err(|_| gone())?;
    let own = principal.number.clone().ok_or_else(gone)?;
    state
        .browsers
        .leave(CallId(call), Owner::User(own), Some(room))
        .await
        .map_err(join_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Join in browser from a personal link: the invitee takes part through their browser,
/// without a PIN (the link identifies them), while the link may be used (a scheduled
/// conference: inside its dial-in window).
#[utoipa::path(post, path = "/api/v1/links/{token}/browser", tag = "public",
    params(LinkPath), request_body = OfferBody,
    responses(
        (status = 201, description = "Joined (or reconnected): the SDP answer", body = AnswerBody),
        (status = 403, description = "The invitee is blocked", body = ErrorBody),
        (status = 404, description = "Unknown or revoked link, or (reconnect) the call is gone", body = ErrorBody),
        (status = 409, description = "Outside the dial-in window, or the room is full", body = ErrorBody),
        (status = 422, description = "Not an SDP offer we can answer; the field is named", body = ErrorBody),
        (status = 503, description = "The server has as many calls as it may", body = ErrorBody),
    ))]
pub async fn join_link(
    State(state): State<ApiState>,
    Path(LinkPath { token }): Path<LinkPath>,
    request: Body<OfferBody>,
) -> Result<Response, ApiError> {
    let link = super::links::usable_link(&state, &token).await?;
    let offer = offer(request)?;
    let result = state
        .browsers
        .join(
            link.room,
            link.who,
            Owner::Link(token),
            offer.sdp,
            offer.call.map(CallId),
        )
        .await;
    if result.is_ok() {
        tracing::info!("a guest joins from a personal link in the browser");
    }
    answer(result)
}

/// Leave from a personal link.
#[utoipa::path(delete, path = "/api/v1/links/{token}/browser/{call}", tag = "public",
    params(LinkCallPath),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "Not this link's browser call (any more)", body = ErrorBody),
    ))]
pub async fn leave_link(
    State(state): State<ApiState>,
    Path(LinkCallPath { token, call }): Path<LinkCallPath>,
) -> Result<StatusCode, ApiError> {
    state
        .browsers
        .leave(CallId(call), Owner::Link(token), None)
        .await
        .map_err(join_error)?;
    Ok(StatusCode::NO_CONTENT)
}
