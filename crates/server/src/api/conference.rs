//! Who is in a conference and who is brought in — clients of the control boundary
//! ([`Control`]) and the event bus: participants (live, with names from the users and the
//! phone book, and the paged history), invitations (several numbers at once, each with a
//! personal link), "dial me in", and the routing of every call the server places.
//! What is done to calls once there is in `calls.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konferenz_conference::phonebook::PhoneNumber;
use konferenz_conference::{CallId, Command, Dialable, RosterEntry};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::error::{ErrorBody, ErrorDetail};
pub use super::extract::{Body, body};
use super::extract::{Path, Query};
use super::{ApiError, ApiState};
use crate::control::{Answer, Route};

/// Counts `n` calls placed for `principal` against `limits.invitations_per_user_per_hour`
/// (the local administrator counts as one user).
pub fn take_invitations(state: &ApiState, principal: &Principal, n: usize) -> Result<(), ApiError> {
    let key = principal
        .number
        .clone()
        .unwrap_or_else(|| "(local administrator)".to_owned());
    let mut quota = state.invitations.lock().expect("invitation quota");
    quota.prune(std::time::Instant::now());
    quota
        .take(std::time::Instant::now(), &key, n)
        .map_err(|wait| ApiError::Quota {
            what: "invitations",
            wait,
        })
}

/// One state a participant went through.
#[derive(Serialize, ToSchema)]
pub struct StateChangeJson {
    state: String,
    /// Unix seconds.
    at: u64,
    /// Unix milliseconds (whole seconds for calls from before the server's last start).
    at_ms: u64,
}

/// A participant of a room (live, or recently finished).
#[derive(Serialize, ToSchema)]
pub struct ParticipantJson {
    call: u64,
    room: String,
    /// The invited number, or the dial-in's caller ID.
    number: String,
    /// From the users or the phone book; `null` if the number is unknown.
    name: Option<String>,
    /// `in-menu`, `calling`, `ringing`, `connected`, `left`, `busy`, `declined`,
    /// `no-answer`, `failed`.
    state: String,
    /// SIP status of a failed invitation.
    status: Option<u16>,
    reason: Option<String>,
    /// Unix seconds of the last change of state.
    since: u64,
    muted: bool,
    talking: bool,
    invited: bool,
    /// The invitee's personal link (invitations only).
    link: Option<String>,
    events: Vec<StateChangeJson>,
}

/// Names of the numbers that appear in a room: users by number, phone-book entries by any
/// of their numbers (compared in E.164).
pub struct Names {
    users: HashMap<String, String>,
    phonebook: HashMap<String, String>,
    region: String,
}

impl Names {
    pub async fn load(state: &ApiState) -> Result<Names, ApiError> {
        let users = state
            .store
            .list_sip_users()
            .await?
            .into_iter()
            .filter(|u| !u.name.is_empty())
            .map(|u| (u.number, u.name))
            .collect();
        let mut phonebook = HashMap::new();
        for entry in state.store.list_phonebook().await? {
            for number in entry.contact.numbers() {
                phonebook.insert(
                    number.number.as_str().to_owned(),
                    entry.contact.name().to_owned(),
                );
            }
        }
        Ok(Names {
            users,
            phonebook,
            region: state.default_region.clone(),
        })
    }

    pub fn of(&self, number: &str) -> Option<String> {
        if let Some(name) = self.users.get(number) {
            return Some(name.clone());
        }
        let e164 = PhoneNumber::parse(number, &self.region).ok()?;
        self.phonebook.get(e164.as_str()).cloned()
    }
}

/// The absolute URL of a personal link.
pub fn link_url(state: &ApiState, headers: &HeaderMap, token: &str) -> String {
    let base = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{base}/j/{token}")
}

/// A fresh personal-link token (unguessable, URL-safe).
pub fn link_token() -> String {
    super::secret("")[..40].to_owned()
}

#[derive(Deserialize, IntoParams)]
pub struct RoomPath {
    /// The room's number.
    pub number: String,
}

/// Live participants of a room.
#[utoipa::path(get, path = "/api/v1/rooms/{number}/participants", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 200, description = "Participants, callers in the menu included; header \
            X-Event-Seq: the event sequence the list is current to", body = [ParticipantJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn participants(
    State(state): State<ApiState>,
    principal: Principal,
    headers: HeaderMap,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let (seq, list) = state.bus.snapshot(&room.number);
    let names = Names::load(&state).await?;
    let links: HashMap<String, String> = state
        .store
        .room_links(room.number.as_str())
        .await?
        .into_iter()
        .map(|l| (l.number, l.token))
        .collect();
    let list: Vec<ParticipantJson> = list
        .into_iter()
        .map(|entry| participant_json(&state, &headers, &names, &links, entry))
        .collect();
    Ok(([("x-event-seq", seq.to_string())], Json(list)).into_response())
}

fn participant_json(
    state: &ApiState,
    headers: &HeaderMap,
    names: &Names,
    links: &HashMap<String, String>,
    entry: RosterEntry,
) -> ParticipantJson {
    let link = entry
        .invited
        .then(|| links.get(&entry.number))
        .flatten()
        .map(|token| link_url(state, headers, token));
    ParticipantJson {
        name: names.of(&entry.number),
        link,
        call: entry.call,
        room: entry.room,
        number: entry.number,
        state: entry.state,
        status: entry.status,
        reason: entry.reason,
        since: entry.since,
        muted: entry.muted,
        talking: entry.talking,
        invited: entry.invited,
        events: entry
            .events
            .into_iter()
            .map(|e| StateChangeJson {
                state: e.state,
                at: e.at,
                at_ms: e.at_ms,
            })
            .collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only calls with a smaller id (the next page).
    before: Option<u64>,
    /// Calls per page (default 50, at most 500).
    limit: Option<u32>,
}

/// Past calls of a room from the database, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/rooms/{number}/history", tag = "rooms",
    params(RoomPath, HistoryQuery),
    responses(
        (status = 200, description = "Calls with their state changes, newest first", body = [Object]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    query: Result<Query<HistoryQuery>, ApiError>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 500"));
    }
    let calls = state
        .store
        .participant_history(room.number.as_str(), query.before, limit)
        .await?;
    Ok(Json(calls).into_response())
}

/// Numbers to call into a room.
#[derive(Deserialize, ToSchema)]
pub struct InviteBody {
    /// Internal numbers, phone numbers (`+41441234567`, `0441234567`) or SIP user parts.
    numbers: Vec<String>,
}

/// What became of one number of an invitation.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum InvitationResult {
    Placed {
        number: String,
        call: u64,
        /// Always `calling` here; follow the event stream for the rest.
        state: &'static str,
        /// The invitee's personal link.
        link: String,
    },
    Refused {
        number: String,
        error: ErrorDetail,
    },
}

/// The outcome of each number, in the order given.
#[derive(Serialize, ToSchema)]
pub struct InviteAnswer {
    invitations: Vec<InvitationResult>,
}

/// Most numbers one invitation request may carry.
const MAX_INVITES: usize = 50;

/// Invite participants: the server calls each number into the room.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/invitations", tag = "rooms",
    params(RoomPath), request_body = InviteBody,
    responses(
        (status = 202, description = "Calls placed (per number: call id and link, or the \
            error for that number)", body = InviteAnswer),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn invite(
    State(state): State<ApiState>,
    principal: Principal,
    headers: HeaderMap,
    Path(RoomPath { number }): Path<RoomPath>,
    request: Body<InviteBody>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let request = body(request, "numbers", "{\"numbers\": [\"201\", …]}")?;
    if request.numbers.is_empty() {
        return Err(ApiError::invalid("numbers", "name at least one number"));
    }
    if request.numbers.len() > MAX_INVITES {
        return Err(ApiError::invalid(
            "numbers",
            format!("at most {MAX_INVITES} numbers at once"),
        ));
    }
    // Every number is checked before any call is placed.
    let mut callees = Vec::with_capacity(request.numbers.len());
    for number in &request.numbers {
        callees.push(Dialable::parse(number.trim()).map_err(|e| ApiError::invalid("numbers", e))?);
    }
    take_invitations(&state, &principal, callees.len())?;
    let mut invitations = Vec::with_capacity(callees.len());
    for callee in callees {
        match place(&state, &room.number, &callee).await {
            Ok(call) => {
                let link = state
                    .store
                    .invitee_link(room.number.as_str(), callee.as_str(), &link_token())
                    .await?;
                invitations.push(InvitationResult::Placed {
                    number: callee.as_str().to_owned(),
                    call: call.0,
                    state: "calling",
                    link: link_url(&state, &headers, &link.token),
                });
            }
            Err(error) => {
                invitations.push(InvitationResult::Refused {
                    number: callee.as_str().to_owned(),
                    error: error.detail().1,
                });
            }
        }
    }
    Ok((StatusCode::ACCEPTED, Json(InviteAnswer { invitations })).into_response())
}

/// Places one invitation: routes the number and asks the conference to call it.
pub async fn place(
    state: &ApiState,
    room: &konferenz_conference::RoomNumber,
    callee: &Dialable,
) -> Result<CallId, ApiError> {
    let route = route(state, callee).await?;
    let answer = state
        .control
        .send(
            Command::Invite {
                room: room.clone(),
                number: callee.clone(),
            },
            Some(route),
        )
        .await?;
    match answer {
        Answer::Placed(call) => Ok(call),
        _ => Err(ApiError::Unavailable(
            "the invitation was not placed".into(),
        )),
    }
}

/// Where a call to `callee` goes: a phone registered here by its binding (sent to where
/// its REGISTER came from), else through the trunk (internal or external template).
pub async fn route(state: &ApiState, callee: &Dialable) -> Result<Route, ApiError> {
    // A binding counts only while its user exists (`user remove` runs in another process).
    let binding = state
        .location
        .lookup(callee.as_str(), std::time::SystemTime::now());
    let user_exists = match &binding {
        Some(_) => matches!(
            state.store.find_sip_user(callee.as_str()).await,
            Ok(Some(_))
        ),
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
    let Some(target) = state.dial_plan.target(callee) else {
        return Err(ApiError::Unavailable(
            "not a registered phone and no trunk configured: set trunk.uri".into(),
        ));
    };
    tracing::debug!(number = %callee, uri = %target.uri, internal = target.internal, "calling through the trunk");
    let target = target.uri;
    // The outbound proxy, else the Request-URI's host by NAPTR/SRV/A (RFC 3263).
    let hop = state
        .resolver
        .next_hop(
            &target,
            state.trunk.outbound_proxy,
            state.trunk.sip_transport(),
        )
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

/// A call placed by the server.
#[derive(Serialize, ToSchema)]
pub struct PlacedCall {
    pub call: u64,
    pub number: String,
}

/// Dial me in: the server calls the logged-in user's own phone (their registered phone,
/// else their internal number through the trunk) into the room.
#[utoipa::path(post, path = "/api/v1/rooms/{number}/dial-in", tag = "rooms",
    params(RoomPath),
    responses(
        (status = 202, description = "Accepted: the call is being placed", body = PlacedCall),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 422, description = "The caller has no phone number (local administrator)",
            body = ErrorBody),
    ))]
pub async fn dial_in(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let Some(own) = &principal.number else {
        return Err(ApiError::invalid(
            "number",
            "the local administrator has no phone to call",
        ));
    };
    let callee = Dialable::parse(own).map_err(|e| ApiError::invalid("number", e))?;
    take_invitations(&state, &principal, 1)?;
    let call = place(&state, &room.number, &callee).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PlacedCall {
            call: call.0,
            number: own.clone(),
        }),
    )
        .into_response())
}
