//! Running a conference — clients of the control boundary ([`Control`]) and the event bus:
//! participants (live, with names from the users and the phone book, and the paged
//! history), invitations (several numbers at once, each with a personal link), "dial me
//! in", hang up [and block], mute, re-dial, mute all [but], lock, end, the block list.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konferenz_conference::phonebook::PhoneNumber;
use konferenz_conference::{CallId, Command, Dialable, RosterEntry};
use konferenz_store::{Room, RoomBlock};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, managed_room};
use super::error::{ErrorBody, ErrorDetail};
use super::{ApiError, ApiState};
use crate::control::{Answer, Route};

/// A JSON body, or a 422 naming what was expected.
pub type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// The body, or [`ApiError::Invalid`] naming `field` and the expected shape.
pub fn body<T>(body: Body<T>, field: &'static str, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::invalid(field, format!("expected {expected} ({})", e.body_text())))
}

/// One state a participant went through.
#[derive(Serialize, ToSchema)]
pub struct StateChangeJson {
    state: String,
    /// Unix seconds.
    at: u64,
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

#[derive(Deserialize, IntoParams)]
pub struct CallPath {
    /// The room's number.
    number: String,
    /// The call's id (from the participant list or the event stream).
    call: u64,
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
        (status = 200, description = "Calls with their state changes", body = Object),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<ApiState>,
    principal: Principal,
    Path(RoomPath { number }): Path<RoomPath>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let room = managed_room(&state, &principal, &number).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid("before", e.body_text()))?;
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
    request: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    call_in_room(&state, &principal, &number, call).await?;
    // The body is optional: none means a plain hang-up.
    let request: HangUpBody = if request.iter().all(u8::is_ascii_whitespace) {
        HangUpBody::default()
    } else {
        serde_json::from_slice(&request).map_err(|e| {
            ApiError::invalid(
                "block",
                format!("expected {{\"block\": true, \"block_secs\": 3600}} ({e})"),
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
    request: axum::body::Bytes,
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
