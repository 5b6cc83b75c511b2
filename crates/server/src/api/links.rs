//! Invitees' personal links (`/j/{token}`): the room's managers list and revoke them; the
//! invitee, without logging in, sees the dial-in number and PIN and may ask the server to
//! call a number of theirs into the room ("Call me") — rate-limited per link and per source
//! address, refused once the invitee is blocked or the link revoked.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konferenz_conference::{Dialable, Limit, LoginThrottle, RoomNumber, ThrottleConfig};
use konferenz_store::InviteeLink;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::conference::{Body, PlacedCall, RoomPath, body, link_url, place};
use super::error::ErrorBody;
use super::extract::Path;
use super::session::ClientAddr;
use super::{ApiError, ApiState};
use crate::scheduling::rfc3339;

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
    /// For an invitee of a scheduled conference: its title and times.
    conference: Option<ScheduledInfo>,
}

/// A scheduled conference as its invitees' link page shows it (times RFC 3339, UTC).
#[derive(Serialize, ToSchema)]
pub struct ScheduledInfo {
    title: String,
    start: String,
    end: String,
    /// "Call me" and the PIN work from `opens` until `closes`.
    opens: String,
    closes: String,
    time_zone: String,
    /// `upcoming`, `open`, `over`, `cancelled`.
    status: &'static str,
    /// The calendar file.
    ics: String,
}

/// Where the conference stands now.
fn status(c: &konferenz_store::ScheduledConference) -> &'static str {
    c.status(jiff::Timestamp::now().as_second())
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
    if let Some((c, invitee)) = scheduled_link(&state, &token).await? {
        return Ok(Json(LinkPage {
            room: crate::room_index::scheduled_room_number(c.id).to_string(),
            room_name: Some(c.title.clone()),
            dial_in_number: state.scheduler.dial_in_number.clone(),
            pin: (c.cancelled_at.is_none()).then(|| c.pin.clone()),
            number: invitee.phone.unwrap_or_default(),
            conference: Some(ScheduledInfo {
                status: status(&c),
                title: c.title,
                start: rfc3339(c.starts_at),
                end: rfc3339(c.ends_at),
                opens: rfc3339(c.opens_at),
                closes: rfc3339(c.closes_at),
                time_zone: c.time_zone,
                ics: format!("/api/v1/links/{token}/invite.ics"),
            }),
        }));
    }
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
        conference: None,
    }))
}

/// What a personal link may be used for now.
pub(super) struct UsableLink {
    /// The room (a scheduled conference's own number, or the link's room).
    pub room: RoomNumber,
    /// Who the link belongs to: the invited number, else the invitee's e-mail address.
    pub who: String,
}

/// A personal link that may be used now: known and not revoked, its invitee not
/// blocked, and a scheduled conference inside its dial-in window (409 outside).
pub(super) async fn usable_link(state: &ApiState, token: &str) -> Result<UsableLink, ApiError> {
    if let Some((c, invitee)) = scheduled_link(state, token).await? {
        match status(&c) {
            "open" => {}
            "upcoming" => {
                return Err(ApiError::Conflict(format!(
                    "You can join from {} (the dial-in window).",
                    rfc3339(c.opens_at)
                )));
            }
            _ => {
                return Err(ApiError::Conflict(
                    "This conference is over or was cancelled.".into(),
                ));
            }
        }
        let room = crate::room_index::scheduled_room_number(c.id);
        let who = invitee.phone.clone().unwrap_or(invitee.email.clone());
        if blocked(state, &room.to_string(), &who).await? {
            return Err(ApiError::Forbidden(
                "you may not join this conference".into(),
            ));
        }
        return Ok(UsableLink { room, who });
    }
    let link = live_link(state, token).await?;
    let room = RoomNumber::parse(&link.room).map_err(|e| ApiError::Internal(e.to_string()))?;
    if state.store.find_room(&room).await?.is_none() {
        return Err(ApiError::NotFound(
            "this link is not valid (any more)".into(),
        ));
    }
    Ok(UsableLink {
        room,
        who: link.number,
    })
}

/// The scheduled conference and invitee of a personal-link token, if it is one.
async fn scheduled_link(
    state: &ApiState,
    token: &str,
) -> Result<
    Option<(
        konferenz_store::ScheduledConference,
        konferenz_store::Invitee,
    )>,
    ApiError,
> {
    if token.len() > 128 {
        return Ok(None);
    }
    Ok(state.store.conference_invitee_by_link(token).await?)
}

/// The calendar file of a scheduled conference's invitee.
#[utoipa::path(get, path = "/api/v1/links/{token}/invite.ics", tag = "public",
    params(TokenPath),
    responses(
        (status = 200, description = "The iCalendar file", content_type = "text/calendar", body = String),
        (status = 404, description = "Not a scheduled conference's link", body = ErrorBody),
    ))]
pub async fn ics(
    State(state): State<ApiState>,
    Path(TokenPath { token }): Path<TokenPath>,
) -> Result<Response, ApiError> {
    let Some((c, _)) = scheduled_link(&state, &token).await? else {
        return Err(ApiError::NotFound("this link has no calendar".into()));
    };
    let text = state.scheduler.calendar(&c).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"invite.ics\"",
            ),
        ],
        text,
    )
        .into_response())
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
        (status = 409, description = "Outside a scheduled conference's dial-in window", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
        (status = 429, description = "Too many calls; see Retry-After", body = ErrorBody),
    ))]
pub async fn call_me(
    State(state): State<ApiState>,
    ClientAddr(addr): ClientAddr,
    Path(TokenPath { token }): Path<TokenPath>,
    request: Body<CallMeBody>,
) -> Result<Response, ApiError> {
    let usable = usable_link(&state, &token).await?;
    let room_number = usable.room.to_string();
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
    if blocked(&state, &room_number, callee.as_str()).await? {
        return Err(ApiError::Forbidden(
            "this number may not join this conference".into(),
        ));
    }
    let number = usable.room;
    let call = place(&state, &number, &callee).await?;
    tracing::info!(room = %number, call = call.0, "call-me from a personal link");
    Ok((
        StatusCode::ACCEPTED,
        Json(PlacedCall {
            call: call.0,
            number: callee.as_str().to_owned(),
        }),
    )
        .into_response())
}
