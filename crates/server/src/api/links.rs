//! Invitees' personal links (`/j/{token}`): the room's managers list and revoke them; the
//! invitee, without logging in, sees the dial-in number and PIN and may ask the server to
//! call a number of theirs into the room ("Call me") — rate-limited per link and per source
//! address, refused once the invitee is blocked or the link revoked.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konferenz_conference::{Dialable, Limit, LoginThrottle, RoomNumber, ThrottleConfig};
use konferenz_store::InviteeLink;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::conference::{Body, PlacedCall, RoomPath, body, link_url, place};
use super::error::ErrorBody;
use super::session::ClientAddr;
use super::{ApiError, ApiState};

/// "Call me" limits: per link 3 calls, per source address 10, each in 10 minutes.
pub type CallMeLimiter = LoginThrottle;

/// The limiter with the product's limits.
pub fn call_me_limiter() -> CallMeLimiter {
    let window = Duration::from_secs(600);
    LoginThrottle::new(ThrottleConfig {
        caller: Limit {
            failures: 3,
            window,
            lockout: window,
        },
        room: Limit {
            failures: 10,
            window,
            lockout: window,
        },
        max_entries: 10_000,
    })
}

/// A personal link as its room's managers see it.
#[derive(Serialize, ToSchema)]
pub struct LinkJson {
    /// The invitee's number.
    number: String,
    token: String,
    url: String,
    /// Unix seconds.
    created_at: i64,
}

/// The live personal links of a room.
#[utoipa::path(get, path = "/api/v1/rooms/{number}/links", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 200, description = "OK", body = [LinkJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn room_links(
    State(state): State<ApiState>,
    principal: Principal,
    headers: HeaderMap,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<Json<Vec<LinkJson>>, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let links = state.store.room_links(room.number.as_str()).await?;
    Ok(Json(
        links
            .into_iter()
            .map(|l| LinkJson {
                url: link_url(&state, &headers, &l.token),
                number: l.number,
                token: l.token,
                created_at: l.created_at,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct RoomLinkPath {
    /// The room's number.
    number: String,
    /// The link's token.
    token: String,
}

/// Revoke a personal link (its page then says so; "Call me" stops working).
#[utoipa::path(delete, path = "/api/v1/rooms/{number}/links/{token}", tag = "rooms",
    params(RoomLinkPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomLinkPath { number, token }): Path<RoomLinkPath>,
) -> Result<StatusCode, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    if !state
        .store
        .revoke_invitee_link(room.number.as_str(), &token)
        .await?
    {
        return Err(ApiError::NotFound("no such link".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitee's link page shows.
#[derive(Serialize, ToSchema)]
pub struct LinkPage {
    /// The room's number (dialled internally).
    room: String,
    room_name: Option<String>,
    /// The number to dial from outside (`dialin.external_number`), if configured.
    dial_in_number: Option<String>,
    /// The PIN to enter, `null` if the room has none.
    pin: Option<String>,
    /// The invitee's number (prefilled for "Call me").
    number: String,
}

#[derive(Deserialize, IntoParams)]
pub struct TokenPath {
    /// The link's token.
    token: String,
}

/// The live link with this token, and 403 if its invitee is blocked from the room.
async fn live_link(state: &ApiState, token: &str) -> Result<InviteeLink, ApiError> {
    let gone = || ApiError::NotFound("this link is not valid (any more)".into());
    if token.len() > 128 {
        return Err(gone());
    }
    let link = state
        .store
        .find_invitee_link(token)
        .await?
        .ok_or_else(gone)?;
    if link.revoked_at.is_some() {
        return Err(gone());
    }
    if blocked(state, &link.room, &link.number).await? {
        return Err(ApiError::Forbidden(
            "you may not join this conference".into(),
        ));
    }
    Ok(link)
}

async fn blocked(state: &ApiState, room: &str, who: &str) -> Result<bool, ApiError> {
    let now = crate::location::unix(std::time::SystemTime::now());
    Ok(state
        .store
        .room_blocks(now)
        .await?
        .iter()
        .any(|b| b.room == room && b.who == who))
}

/// An invitee's link page (no login: the token is the credential).
#[utoipa::path(get, path = "/api/v1/links/{token}", tag = "public",
    params(TokenPath),
    responses(
        (status = 200, description = "OK", body = LinkPage),
        (status = 403, description = "The invitee is blocked", body = ErrorBody),
        (status = 404, description = "Unknown or revoked", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<ApiState>,
    Path(TokenPath { token }): Path<TokenPath>,
) -> Result<Json<LinkPage>, ApiError> {
    let link = live_link(&state, &token).await?;
    let number = RoomNumber::parse(&link.room).map_err(|e| ApiError::Internal(e.to_string()))?;
    let room = state
        .store
        .find_room(&number)
        .await?
        .ok_or_else(|| ApiError::NotFound("this link is not valid (any more)".into()))?;
    Ok(Json(LinkPage {
        room: link.room,
        room_name: room.name,
        dial_in_number: state.dialin.external_number.clone(),
        pin: room.pin.map(|p| p.reveal().to_owned()),
        number: link.number,
    }))
}

/// The number to call.
#[derive(Deserialize, ToSchema)]
pub struct CallMeBody {
    number: String,
}

/// "Call me": the server calls this number into the link's room.
#[utoipa::path(post, path = "/api/v1/links/{token}/call", tag = "public",
    params(TokenPath), request_body = CallMeBody,
    responses(
        (status = 202, description = "Accepted: the call is being placed", body = PlacedCall),
        (status = 403, description = "Blocked", body = ErrorBody),
        (status = 404, description = "Unknown or revoked link", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
        (status = 429, description = "Too many calls; see Retry-After", body = ErrorBody),
    ))]
pub async fn call_me(
    State(state): State<ApiState>,
    ClientAddr(addr): ClientAddr,
    Path(TokenPath { token }): Path<TokenPath>,
    request: Body<CallMeBody>,
) -> Result<Response, ApiError> {
    let link = live_link(&state, &token).await?;
    {
        let mut limiter = state.call_me.lock().expect("call-me limiter");
        let now = Instant::now();
        limiter
            .admit(now, &token, addr)
            .map_err(ApiError::TooMany)?;
        // Every attempt counts, a malformed or failing one too.
        let _ = limiter.failed(now, &token, addr);
    }
    let request = body(request, "number", "{\"number\": \"+41…\"}")?;
    let callee =
        Dialable::parse(request.number.trim()).map_err(|e| ApiError::invalid("number", e))?;
    if blocked(&state, &link.room, callee.as_str()).await? {
        return Err(ApiError::Forbidden(
            "this number may not join this conference".into(),
        ));
    }
    let number = RoomNumber::parse(&link.room).map_err(|e| ApiError::Internal(e.to_string()))?;
    let room = state
        .store
        .find_room(&number)
        .await?
        .ok_or_else(|| ApiError::NotFound("this link is not valid (any more)".into()))?;
    let call = place(&state, &room.number, &callee).await?;
    tracing::info!(room = %room.number, call = call.0, "call-me from a personal link");
    Ok((
        StatusCode::ACCEPTED,
        Json(PlacedCall {
            call: call.0,
            number: callee.as_str().to_owned(),
        }),
    )
        .into_response())
}
