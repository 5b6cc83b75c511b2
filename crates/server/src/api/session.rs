//! Browser login: `POST /api/v1/session` checks number-or-e-mail and password (argon2id,
//! throttled per account and per source address like PIN guessing) and sets the session
//! cookie (HttpOnly, SameSite=Strict, Secure over HTTPS); `GET` shows who is logged in and
//! the CSRF token; `DELETE` logs out.

use std::time::Instant;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{self, Principal, SESSION_COOKIE, Via};
use super::error::ErrorBody;
use super::{ApiError, ApiState};
use crate::api::conference::body;

/// Login form.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    /// The user's internal number or e-mail address.
    login: String,
    password: String,
}

/// The logged-in user as the window needs it.
#[derive(Serialize, ToSchema)]
pub struct UserInfo {
    /// `null` for the local administrator.
    number: Option<String>,
    name: String,
    email: Option<String>,
    admin: bool,
    organiser: bool,
}

/// Who is logged in, and the token to send as `X-CSRF-Token`.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    user: UserInfo,
    /// `null` when authenticated by a bearer token (no CSRF token needed).
    csrf: Option<String>,
}

impl From<&Principal> for SessionInfo {
    fn from(p: &Principal) -> Self {
        SessionInfo {
            user: UserInfo {
                number: p.number.clone(),
                name: p.name.clone(),
                email: p.email.clone(),
                admin: p.admin,
                organiser: p.organiser,
            },
            csrf: match &p.via {
                Via::Session { csrf, .. } => Some(csrf.clone()),
                _ => None,
            },
        }
    }
}

/// The request's source address, for the login throttle.
pub struct ClientAddr(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(auth::client_addr(parts)))
    }
}

/// A PHC string that matches no password, checked when the login names nobody, so that
/// an unknown login takes as long as a wrong password.
const NOBODY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                      9cQ1+gYqVb8QdRUlYk1YyC2wOz2m4eWbiO7G9r8b2YQ";

/// Log in.
#[utoipa::path(post, path = "/api/v1/session", tag = "public",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo),
        (status = 401, description = "Wrong login or password", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
        (status = 429, description = "Too many failed tries; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<ApiState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    request: super::conference::Body<LoginBody>,
) -> Result<Response, ApiError> {
    let request = body(
        request,
        "login",
        "{\"login\": \"201\", \"password\": \"…\"}",
    )?;
    let login = request.login.trim().to_owned();
    if login.is_empty() {
        return Err(ApiError::invalid(
            "login",
            "enter your number or e-mail address",
        ));
    }
    let user = state.store.find_user_by_login(&login).await?;
    // Failures count against the account, whichever of its logins (number or e-mail) was
    // typed; a login that names nobody is counted as typed.
    let account = user
        .as_ref()
        .map_or_else(|| login.to_lowercase(), |u| u.number.clone());
    let admitted =
        state
            .logins
            .lock()
            .expect("login throttle")
            .admit(Instant::now(), &account, addr);
    if let Err(wait) = admitted {
        crate::audit::record(
            &state.store,
            &login,
            "login.refused",
            &login,
            "locked out after failed logins",
            Some(addr),
        )
        .await;
        return Err(ApiError::TooMany(wait));
    }
    let stored = user
        .as_ref()
        .and_then(|u| u.web_password.clone())
        .unwrap_or_else(|| NOBODY.to_owned());
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || {
        crate::accounts::verify_web_password(&stored, &password)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match user {
        Some(user) if matches => user,
        _ => {
            tracing::info!(%addr, "failed web login");
            crate::audit::record(&state.store, &login, "login.failed", &login, "", Some(addr))
                .await;
            let failed =
                state
                    .logins
                    .lock()
                    .expect("login throttle")
                    .failed(Instant::now(), &account, addr);
            failed.map_err(ApiError::TooMany)?;
            return Err(ApiError::BadCredentials);
        }
    };
    let id = secret_cookie();
    let csrf = auth::secret("");
    let now = crate::location::unix(std::time::SystemTime::now());
    state
        .store
        .create_session(
            &auth::hash(&id),
            &user.number,
            &csrf,
            now,
            now + state.session_secs,
        )
        .await?;
    tracing::info!(user = %user.number, "web login");
    crate::audit::record(
        &state.store,
        &user.number,
        "login",
        &user.number,
        "",
        Some(addr),
    )
    .await;
    let principal = Principal {
        number: Some(user.number),
        name: user.name,
        email: user.email,
        admin: user.admin,
        organiser: user.organiser,
        via: Via::Session {
            id_hash: auth::hash(&id),
            csrf,
        },
        source: Some(addr),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.session_secs,
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = Json(SessionInfo::from(&principal)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(response)
}

fn secret_cookie() -> String {
    auth::secret("s_")
}

/// Served over HTTPS: by us, or the public URL says so, or the reverse proxy in front does.
fn secure(state: &ApiState, headers: &HeaderMap) -> bool {
    state.https
        || state
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/v1/session", tag = "account",
    responses(
        (status = 200, description = "OK", body = SessionInfo),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
    ))]
pub async fn current(principal: Principal) -> Json<SessionInfo> {
    Json(SessionInfo::from(&principal))
}

/// Log out (ends this browser session).
#[utoipa::path(delete, path = "/api/v1/session", tag = "account",
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Missing X-CSRF-Token", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    if let Via::Session { id_hash, .. } = &principal.via {
        state.store.delete_session(id_hash).await?;
    }
    crate::audit::record(
        &state.store,
        crate::audit::actor(&principal),
        "logout",
        "",
        "",
        principal.source,
    )
    .await;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_hash_is_a_real_argon2id_hash_that_matches_nothing() {
        // Parsing must succeed, or an unknown login would be answered faster than a
        // wrong password (and so be told apart).
        assert!(argon2::password_hash::PasswordHash::new(NOBODY).is_ok());
        assert!(!crate::accounts::verify_web_password(NOBODY, ""));
        assert!(!crate::accounts::verify_web_password(NOBODY, "password"));
    }
}
