//! The logged-in user's own account: their settings (the time zone the window shows times
//! in and the scheduling form starts from; the window's language) and their password.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use konferenz_store::UserSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Principal, Via};
use super::conference::{Body, body};
use super::error::ErrorBody;
use super::session::ClientAddr;
use super::{ApiError, ApiState};

/// The user's account as the Account page shows it.
#[derive(Serialize, ToSchema)]
pub struct AccountJson {
    number: String,
    name: String,
    email: Option<String>,
    /// The zone the user chose; `null`: none chosen, `default_time_zone` applies.
    time_zone: Option<String>,
    /// The server's zone (`[schedule] time_zone`), for users who chose none.
    default_time_zone: String,
    /// `en` or `de`; `null`: the browser's language.
    language: Option<String>,
    /// Whom to ask for rights: the administrators, by name (with e-mail if they have one).
    administrators: Vec<AdministratorJson>,
}

/// An administrator, as every user may see them.
#[derive(Serialize, ToSchema)]
pub struct AdministratorJson {
    name: String,
    email: Option<String>,
}

/// The settings a user may change; both replace what was stored (`null` clears).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSettingsBody {
    /// An IANA time zone name such as `Europe/Zurich`, or `null`.
    #[serde(default)]
    time_zone: Option<String>,
    /// `en`, `de` or `null`.
    #[serde(default)]
    language: Option<String>,
}

/// A new password, with the current one as proof.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    /// At least 8 characters; it becomes the phone's SIP password too.
    new_password: String,
}

/// The user's number, or 403 for the local administrator (who has no account).
fn own_number(principal: &Principal) -> Result<&str, ApiError> {
    principal.number.as_deref().ok_or_else(|| {
        ApiError::Forbidden("the local administrator has no account; use a user's login".into())
    })
}

/// A time zone the server knows, trimmed; `None` for an empty text.
pub fn parse_time_zone(text: &str) -> Result<Option<String>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    jiff::tz::TimeZone::get(text)
        .map(|_| Some(text.to_owned()))
        .map_err(|_| ApiError::invalid("time_zone", "an IANA time zone such as Europe/Zurich"))
}

async fn account_json(state: &ApiState, principal: &Principal) -> Result<AccountJson, ApiError> {
    let number = own_number(principal)?;
    let settings = state.store.user_settings(number).await?;
    let administrators = state
        .store
        .list_sip_users()
        .await?
        .into_iter()
        .filter(|u| u.admin)
        .map(|u| AdministratorJson {
            name: if u.name.is_empty() { u.number } else { u.name },
            email: u.email,
        })
        .collect();
    Ok(AccountJson {
        administrators,
        number: number.to_owned(),
        name: principal.name.clone(),
        email: principal.email.clone(),
        time_zone: settings.time_zone,
        default_time_zone: state.scheduler.schedule.time_zone.clone(),
        language: settings.language,
    })
}

/// The user's account and settings.
#[utoipa::path(get, path = "/api/v1/account", tag = "account",
    responses(
        (status = 200, description = "OK", body = AccountJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "The local administrator has no account", body = ErrorBody),
    ))]
pub async fn get_account(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<AccountJson>, ApiError> {
    Ok(Json(account_json(&state, &principal).await?))
}

/// Change the user's settings.
#[utoipa::path(put, path = "/api/v1/account", tag = "account",
    request_body = AccountSettingsBody,
    responses(
        (status = 200, description = "Saved", body = AccountJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "The local administrator has no account", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn put_account(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<AccountSettingsBody>,
) -> Result<Json<AccountJson>, ApiError> {
    let number = own_number(&principal)?;
    let request = body(
        request,
        "time_zone",
        "{\"time_zone\": \"Europe/Zurich\", \"language\": \"de\"}",
    )?;
    let time_zone = match request.time_zone {
        Some(zone) => parse_time_zone(&zone)?,
        None => None,
    };
    let language = match request.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l @ ("en" | "de")) => Some(l.to_owned()),
        Some(_) => return Err(ApiError::invalid("language", "en or de")),
    };
    state
        .store
        .set_user_settings(
            number,
            &UserSettings {
                time_zone,
                language,
            },
        )
        .await?;
    Ok(Json(account_json(&state, &principal).await?))
}

/// Change the user's password (web login and phone alike). The current password is
/// checked (throttled like a login); the user's other browser sessions end.
#[utoipa::path(put, path = "/api/v1/account/password", tag = "account",
    request_body = PasswordBody,
    responses(
        (status = 204, description = "Changed; other sessions are logged out"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "The local administrator has no account", body = ErrorBody),
        (status = 422, description = "Wrong current password, or the new one is too short", body = ErrorBody),
        (status = 429, description = "Too many failed tries; see Retry-After", body = ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<ApiState>,
    ClientAddr(addr): ClientAddr,
    principal: Principal,
    request: Body<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let number = own_number(&principal)?.to_owned();
    let request = body(
        request,
        "current_password",
        "{\"current_password\": \"…\", \"new_password\": \"…\"}",
    )?;
    if request.new_password.chars().count() < 8 {
        return Err(ApiError::invalid("new_password", "at least 8 characters"));
    }
    let admitted =
        state
            .logins
            .lock()
            .expect("login throttle")
            .admit(Instant::now(), &number, addr);
    admitted.map_err(ApiError::TooMany)?;
    let Some(existing) = state.store.find_sip_user(&number).await? else {
        return Err(ApiError::Unauthorized);
    };
    let stored = existing.web_password.clone().unwrap_or_default();
    let (current, new) = (request.current_password, request.new_password);
    let (old, realm) = (existing, state.realm.clone());
    let (matches, fresh) = tokio::task::spawn_blocking(move || {
        let matches = crate::accounts::verify_web_password(&stored, &current);
        let fresh = matches.then(|| crate::accounts::with_password(old, &realm, &new));
        (matches, fresh)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !matches {
        tracing::info!(%addr, user = %number, "wrong current password");
        let failed =
            state
                .logins
                .lock()
                .expect("login throttle")
                .failed(Instant::now(), &number, addr);
        failed.map_err(ApiError::TooMany)?;
        return Err(ApiError::invalid(
            "current_password",
            "this is not your password",
        ));
    }
    let user = fresh
        .expect("hashed when it matched")
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.put_sip_user(&user, true).await?;
    match &principal.via {
        Via::Session { id_hash, .. } => {
            state.store.delete_sessions_except(&number, id_hash).await?
        }
        _ => state.store.delete_sessions_of(&number).await?,
    }
    tracing::info!(user = %number, "password changed by its user");
    Ok(StatusCode::NO_CONTENT)
}
