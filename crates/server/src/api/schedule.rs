//! Scheduled conferences over the API: schedule (mails every participant an invitation),
//! list and read with each invitee's mail delivery state, update (update mails), cancel
//! (cancellation mails), add participants; the form's defaults and remembered values; the
//! outbox for administrators. The rules are in `crate::scheduling`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konferenz_store::{OutboxMail, SchedulePreferences, ScheduleTexts, ScheduledConference};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::conference::{Body, body};
use super::error::ErrorBody;
use super::extract::{Path, Query};
use super::{ApiError, ApiState};
use crate::scheduling::{
    ConferenceChanges, ConferenceRequest, Organiser, ParticipantRequest, ScheduleError, rfc3339,
};

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::Invalid { field, message } => ApiError::invalid(field, message),
            ScheduleError::NotFound(id) => ApiError::NotFound(format!("no conference {id}")),
            ScheduleError::Conflict(m) => ApiError::Conflict(m),
            ScheduleError::Store(e) => ApiError::Store(e),
            ScheduleError::Mail(m) => ApiError::Internal(m),
        }
    }
}

/// An invitee: as a bare address, or with a phone number to call at the start.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ParticipantBody {
    Email(String),
    Full {
        email: String,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        call_at_start: bool,
    },
}

impl From<ParticipantBody> for ParticipantRequest {
    fn from(p: ParticipantBody) -> Self {
        match p {
            ParticipantBody::Email(email) => ParticipantRequest {
                email,
                phone: None,
                call_at_start: false,
            },
            ParticipantBody::Full {
                email,
                phone,
                call_at_start,
            } => ParticipantRequest {
                email,
                phone,
                call_at_start,
            },
        }
    }
}

/// The scheduling form.
#[derive(Deserialize, ToSchema)]
pub struct ConferenceBody {
    title: String,
    /// The mail body; `<number>` and `<pin>` are replaced when sending.
    description: String,
    location: String,
    /// RFC 3339 with offset, e.g. `2026-12-07T09:00:00+01:00`.
    start: String,
    /// IANA name, e.g. `Europe/Zurich`.
    time_zone: String,
    duration_minutes: u32,
    dial_in_minutes_before: u32,
    #[serde(default)]
    reply_to: Option<String>,
    participants: Vec<ParticipantBody>,
    /// `en` or `de` (mail texts and prompts); default `en`.
    #[serde(default)]
    language: Option<String>,
}

/// An invitee with the state of the latest mail to them.
#[derive(Serialize, ToSchema)]
pub struct InviteeJson {
    email: String,
    phone: Option<String>,
    call_at_start: bool,
    /// `queued`, `sent`, `failed` (or `null` before any mail).
    mail: Option<String>,
    /// The SMTP server's answer of a failed (or retried) delivery.
    mail_error: Option<String>,
}

/// A scheduled conference.
#[derive(Serialize, ToSchema)]
pub struct ConferenceJson {
    id: i64,
    /// The number to dial (from outside).
    number: Option<String>,
    pin: String,
    title: String,
    description: String,
    location: String,
    /// RFC 3339 (UTC).
    start: String,
    end: String,
    /// The PIN works from `opens` until `closes`.
    opens: String,
    closes: String,
    time_zone: String,
    duration_minutes: i64,
    dial_in_minutes_before: i64,
    reply_to: Option<String>,
    language: String,
    sequence: i64,
    owner: String,
    /// `upcoming`, `open` (PIN works now), `over`, `cancelled`.
    status: &'static str,
    participants: Vec<InviteeJson>,
}

async fn conference_json(
    state: &ApiState,
    c: ScheduledConference,
) -> Result<ConferenceJson, ApiError> {
    let invitees = state.store.conference_invitees(c.id).await?;
    let mails = state.store.outbox(Some(c.id), 10_000).await?;
    let status = c.status(jiff::Timestamp::now().as_second());
    let participants = invitees
        .into_iter()
        .map(|i| {
            // The outbox is newest first: the first mail to them is the latest.
            let latest: Option<&OutboxMail> = mails
                .iter()
                .find(|m| m.recipient.eq_ignore_ascii_case(&i.email));
            InviteeJson {
                mail: latest.map(|m| m.state.clone()),
                mail_error: latest.and_then(|m| m.last_error.clone()),
                email: i.email,
                phone: i.phone,
                call_at_start: i.call_at_start,
            }
        })
        .collect();
    Ok(ConferenceJson {
        id: c.id,
        number: state.scheduler.dial_in_number.clone(),
        pin: c.pin,
        title: c.title,
        description: c.description,
        location: c.location,
        start: rfc3339(c.starts_at),
        end: rfc3339(c.ends_at),
        opens: rfc3339(c.opens_at),
        closes: rfc3339(c.closes_at),
        time_zone: c.time_zone,
        duration_minutes: (c.ends_at - c.starts_at) / 60,
        dial_in_minutes_before: c.dial_in_minutes,
        reply_to: c.reply_to,
        language: c.language,
        sequence: c.sequence,
        owner: c.owner,
        status,
        participants,
    })
}

fn organiser(principal: &Principal) -> Result<Organiser, ApiError> {
    principal.require_organiser()?;
    let Some(number) = &principal.number else {
        return Err(ApiError::invalid(
            "owner",
            "the local administrator cannot organise conferences; use a user's token",
        ));
    };
    Ok(Organiser {
        number: number.clone(),
        name: principal.name.clone(),
        email: principal.email.clone(),
    })
}

/// Whose conferences the caller may see and change (`None`: everyone's).
fn owner_filter(principal: &Principal) -> Option<String> {
    if principal.admin {
        None
    } else {
        Some(principal.number.clone().unwrap_or_default())
    }
}

/// Schedule a conference: a PIN is drawn and every participant gets an invitation mail.
#[utoipa::path(post, path = "/api/v1/conferences", tag = "conferences",
    request_body = ConferenceBody,
    responses(
        (status = 201, description = "Scheduled; the mails are queued", body = ConferenceJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 409, description = "No dial-in number configured, or no free PIN", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn create_conference(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<ConferenceBody>,
) -> Result<Response, ApiError> {
    let organiser = organiser(&principal)?;
    let request = body(request, "title", "the scheduling form as JSON")?;
    let participants: Vec<ParticipantRequest> =
        request.participants.into_iter().map(Into::into).collect();
    let remembered = SchedulePreferences {
        reply_to: request.reply_to.clone(),
        participants: participants.iter().map(|p| p.email.clone()).collect(),
    };
    let req = ConferenceRequest {
        title: request.title,
        description: request.description,
        location: request.location,
        start: request.start,
        time_zone: request.time_zone,
        duration_minutes: request.duration_minutes,
        dial_in_minutes_before: request.dial_in_minutes_before,
        reply_to: request.reply_to,
        participants,
        language: request.language.unwrap_or_else(|| "en".into()),
    };
    let c = state.scheduler.create(&organiser, &req).await?;
    state
        .store
        .set_schedule_preferences(&organiser.number, &remembered)
        .await?;
    // A user who never chose a time zone keeps the one they scheduled in.
    let mut settings = state.store.user_settings(&organiser.number).await?;
    if settings.time_zone.is_none() {
        settings.time_zone = Some(c.time_zone.clone());
        state
            .store
            .set_user_settings(&organiser.number, &settings)
            .await?;
    }
    state.mail_wake.notify_one();
    tracing::info!(conference = c.id, owner = %c.owner, "conference scheduled");
    let json = conference_json(&state, c).await?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// The caller's scheduled conferences (administrators: everyone's), latest first.
#[utoipa::path(get, path = "/api/v1/conferences", tag = "conferences",
    responses(
        (status = 200, description = "OK", body = [ConferenceJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn list_conferences(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<Vec<ConferenceJson>>, ApiError> {
    principal.require_organiser()?;
    let owner = owner_filter(&principal);
    let mut out = Vec::new();
    for c in state.store.scheduled_conferences(owner.as_deref()).await? {
        out.push(conference_json(&state, c).await?);
    }
    Ok(Json(out))
}

#[derive(Deserialize, IntoParams)]
pub struct ConferencePath {
    /// The conference's id.
    id: i64,
}

/// One scheduled conference.
#[utoipa::path(get, path = "/api/v1/conferences/{id}", tag = "conferences",
    params(ConferencePath),
    responses(
        (status = 200, description = "OK", body = ConferenceJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn read_conference(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ConferencePath { id }): Path<ConferencePath>,
) -> Result<Json<ConferenceJson>, ApiError> {
    principal.require_organiser()?;
    let c = state
        .scheduler
        .owned(id, owner_filter(&principal).as_deref())
        .await?;
    Ok(Json(conference_json(&state, c).await?))
}

/// Changes to a scheduled conference; absent keys stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct ConferencePatch {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    duration_minutes: Option<u32>,
    #[serde(default)]
    dial_in_minutes_before: Option<u32>,
}

/// Change time, duration or texts: everyone gets an update (a higher SEQUENCE). Extending a
/// running conference works while its PIN stays free.
#[utoipa::path(patch, path = "/api/v1/conferences/{id}", tag = "conferences",
    params(ConferencePath), request_body = ConferencePatch,
    responses(
        (status = 200, description = "Changed; the update mails are queued", body = ConferenceJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 409, description = "Cancelled, over, or the PIN is taken at the new time", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn update_conference(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ConferencePath { id }): Path<ConferencePath>,
    request: Body<ConferencePatch>,
) -> Result<Json<ConferenceJson>, ApiError> {
    let organiser = organiser(&principal)?;
    let c = state
        .scheduler
        .owned(id, owner_filter(&principal).as_deref())
        .await?;
    let request = body(request, "start", "the changed fields as JSON")?;
    let changes = ConferenceChanges {
        title: request.title,
        description: request.description,
        location: request.location,
        start: request.start,
        time_zone: request.time_zone,
        duration_minutes: request.duration_minutes,
        dial_in_minutes_before: request.dial_in_minutes_before,
    };
    let updated = state.scheduler.update(&c, &organiser, &changes).await?;
    state.mail_wake.notify_one();
    Ok(Json(conference_json(&state, updated).await?))
}

/// Cancel: the PIN stops working and every participant gets a cancellation.
#[utoipa::path(delete, path = "/api/v1/conferences/{id}", tag = "conferences",
    params(ConferencePath),
    responses(
        (status = 204, description = "Cancelled; the mails are queued"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 409, description = "Cancelled already", body = ErrorBody),
    ))]
pub async fn cancel_conference(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ConferencePath { id }): Path<ConferencePath>,
) -> Result<StatusCode, ApiError> {
    let organiser = organiser(&principal)?;
    let c = state
        .scheduler
        .owned(id, owner_filter(&principal).as_deref())
        .await?;
    state.scheduler.cancel(&c, &organiser).await?;
    state.mail_wake.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// More participants.
#[derive(Deserialize, ToSchema)]
pub struct ParticipantsBody {
    participants: Vec<ParticipantBody>,
}

/// Invite more participants: they get the invitation as it stands.
#[utoipa::path(post, path = "/api/v1/conferences/{id}/participants", tag = "conferences",
    params(ConferencePath), request_body = ParticipantsBody,
    responses(
        (status = 200, description = "Invited; the mails are queued", body = ConferenceJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
        (status = 409, description = "Cancelled or over", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn add_conference_participants(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ConferencePath { id }): Path<ConferencePath>,
    request: Body<ParticipantsBody>,
) -> Result<Json<ConferenceJson>, ApiError> {
    let organiser = organiser(&principal)?;
    let c = state
        .scheduler
        .owned(id, owner_filter(&principal).as_deref())
        .await?;
    let request = body(
        request,
        "participants",
        "{\"participants\": [\"a@example.org\"]}",
    )?;
    let list: Vec<ParticipantRequest> = request.participants.into_iter().map(Into::into).collect();
    state
        .scheduler
        .add_participants(&c, &organiser, &list)
        .await?;
    state.mail_wake.notify_one();
    let c = state.scheduler.owned(id, None).await?;
    Ok(Json(conference_json(&state, c).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DefaultsQuery {
    /// `en` or `de` (default `en`).
    lang: Option<String>,
}

/// What the form starts with: the administrator's texts, the user's time zone, and the
/// reply-to address and participants they used last time (their own address first).
#[derive(Serialize, ToSchema)]
pub struct FormDefaults {
    title: String,
    description: String,
    location: String,
    time_zone: String,
    dial_in_minutes_before: u32,
    duration_minutes: u32,
    reply_to: Option<String>,
    participants: Vec<String>,
    /// The number people will dial, `null` when none is configured (scheduling is refused).
    number: Option<String>,
}

/// The scheduling form's defaults and remembered values.
#[utoipa::path(get, path = "/api/v1/conferences/defaults", tag = "conferences",
    params(DefaultsQuery),
    responses(
        (status = 200, description = "OK", body = FormDefaults),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn conference_defaults(
    State(state): State<ApiState>,
    principal: Principal,
    Query(query): Query<DefaultsQuery>,
) -> Result<Json<FormDefaults>, ApiError> {
    principal.require_organiser()?;
    let s = &state.scheduler.schedule;
    let lang = if query.lang.as_deref() == Some("de") {
        "de"
    } else {
        "en"
    };
    let texts = effective_texts(&state, lang).await?;
    let (prefs, settings) = match &principal.number {
        Some(n) => (
            state.store.schedule_preferences(n).await?,
            state.store.user_settings(n).await?,
        ),
        None => Default::default(),
    };
    let mut participants = Vec::new();
    if let Some(own) = &principal.email {
        participants.push(own.clone());
    }
    for p in prefs.participants {
        if !participants
            .iter()
            .any(|q: &String| q.eq_ignore_ascii_case(&p))
        {
            participants.push(p);
        }
    }
    Ok(Json(FormDefaults {
        title: texts.title,
        description: texts.description,
        location: texts.location,
        time_zone: settings.time_zone.unwrap_or_else(|| s.time_zone.clone()),
        dial_in_minutes_before: 10,
        duration_minutes: 60,
        reply_to: prefs.reply_to.or_else(|| principal.email.clone()),
        participants,
        number: state.scheduler.dial_in_number.clone(),
    }))
}

/// The form's default texts in `lang`: the administrator's (set in the window), else the
/// configured ones.
pub async fn effective_texts(state: &ApiState, lang: &str) -> Result<ScheduleTexts, ApiError> {
    if let Some(texts) = state.store.schedule_texts(lang).await? {
        return Ok(texts);
    }
    let s = &state.scheduler.schedule;
    let german = lang == "de";
    let pick = |de: &String, en: &String| if german { de.clone() } else { en.clone() };
    Ok(ScheduleTexts {
        title: pick(&s.default_title_de, &s.default_title_en),
        description: pick(&s.default_description_de, &s.default_description_en),
        location: pick(&s.default_location_de, &s.default_location_en),
    })
}

/// The scheduling form's default texts in English and German.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ScheduleTextsBody {
    #[schema(value_type = Object)]
    en: ScheduleTexts,
    #[schema(value_type = Object)]
    de: ScheduleTexts,
}

/// The scheduling form's default texts (administrators).
#[utoipa::path(get, path = "/api/v1/settings/schedule", tag = "admin",
    responses(
        (status = 200, description = "OK", body = ScheduleTextsBody),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn schedule_texts(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<ScheduleTextsBody>, ApiError> {
    principal.require_admin()?;
    Ok(Json(ScheduleTextsBody {
        en: effective_texts(&state, "en").await?,
        de: effective_texts(&state, "de").await?,
    }))
}

/// Set the scheduling form's default texts (administrators); `<number>` and `<pin>` in a
/// description are replaced when sending.
#[utoipa::path(put, path = "/api/v1/settings/schedule", tag = "admin",
    request_body = ScheduleTextsBody,
    responses(
        (status = 200, description = "Stored", body = ScheduleTextsBody),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn set_schedule_texts(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<ScheduleTextsBody>,
) -> Result<Json<ScheduleTextsBody>, ApiError> {
    principal.require_admin()?;
    let request = body(
        request,
        "en",
        "{\"en\": {\"title\", \"description\", \"location\"}, \"de\": {…}}",
    )?;
    for texts in [&request.en, &request.de] {
        if texts.title.trim().is_empty() || texts.title.chars().count() > 200 {
            return Err(ApiError::invalid("title", "1 to 200 characters"));
        }
        if texts.location.chars().count() > 200 {
            return Err(ApiError::invalid("location", "at most 200 characters"));
        }
        if texts.description.chars().count() > 10_000 {
            return Err(ApiError::invalid(
                "description",
                "at most 10 000 characters",
            ));
        }
    }
    state.store.set_schedule_texts("en", &request.en).await?;
    state.store.set_schedule_texts("de", &request.de).await?;
    tracing::info!("scheduling default texts changed");
    Ok(Json(request))
}

/// A mail of the outbox (the message itself left out).
#[derive(Serialize, ToSchema)]
pub struct OutboxJson {
    id: i64,
    conference: Option<i64>,
    recipient: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

/// The outbox, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "admin",
    responses(
        (status = 200, description = "OK", body = [OutboxJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn list_outbox(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<Vec<OutboxJson>>, ApiError> {
    principal.require_admin()?;
    let mails = state.store.outbox(None, 500).await?;
    Ok(Json(
        mails
            .into_iter()
            .map(|m| OutboxJson {
                id: m.id,
                conference: m.conference,
                recipient: m.recipient,
                state: m.state,
                attempts: m.attempts,
                next_attempt_at: m.next_attempt_at,
                last_error: m.last_error,
                created_at: m.created_at,
                sent_at: m.sent_at,
            })
            .collect(),
    ))
}
