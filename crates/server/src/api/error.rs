//! `ApiError`: every error an API handler can return, mapped in this one place to a status
//! code and the body `{"error": {"code", "message", "field"}}`. A bad request body names
//! the field; database and other internal failures are logged and answered without details.

use std::borrow::Cow;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konferenz_conference::CommandError;
use konferenz_store::{PhonebookError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client is asked to wait when the server is overloaded.
const OVERLOADED_RETRY_SECS: u64 = 1;

/// The error body of every failed API request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for people (`message`) and programs (`code`, `field`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid`, `bad_request`, `unauthorized`, `forbidden`,
    /// `csrf`, `not_found`, `method_not_allowed`, `conflict`, `too_large`,
    /// `too_many_requests`, `unavailable`, …
    pub code: &'static str,
    /// A sentence for the user.
    pub message: String,
    /// The request field (body key, path or query parameter) at fault, if any.
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The database failed; details go to the log, not to the client.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The phone book refused or failed.
    #[error(transparent)]
    Phonebook(#[from] PhonebookError),
    /// A conference command was refused.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A body field or query parameter is not acceptable (422).
    #[error("{field}: {message}")]
    Invalid {
        field: Cow<'static, str>,
        message: String,
    },
    /// A path parameter is malformed (400); `field` names it when one is at fault.
    #[error("{}{message}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
    BadPath {
        field: Option<Cow<'static, str>>,
        message: String,
    },
    /// The request body could not be read (400).
    #[error("the request body could not be read")]
    BadBody,
    /// The request body is larger than this many bytes (413).
    #[error("the request body is too large (at most {} KiB)", .0 / 1024)]
    TooLarge(usize),
    /// No operation of the API has this path (404).
    #[error("no such path in the API; the paths are listed in /api/v1/openapi.json")]
    NoSuchPath,
    /// The path exists, but not for this method (405; the Allow header lists those it has).
    #[error("{0} is not allowed on this path; the Allow header lists the methods that are")]
    MethodNotAllowed(axum::http::Method),
    /// No (valid) credentials (401).
    #[error("log in or send an API token")]
    Unauthorized,
    /// Wrong login or password (401); says no more than that.
    #[error("wrong login or password")]
    BadCredentials,
    /// Logged in, but this role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// A session request that changes something came without the session's CSRF token.
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    /// A path names nothing that exists, or nothing this user may see (404).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many tries; come back after this long (429 with Retry-After).
    #[error("too many attempts; try again in {} s", .0.as_secs().max(1))]
    TooMany(Duration),
    /// A quota (`limits.*_per_hour`) is used up; come back after this long (429).
    #[error("{what} per hour are used up; try again in {} min", wait.as_secs().div_ceil(60).max(1))]
    Quota { what: &'static str, wait: Duration },
    /// The request cannot be carried out as the server is configured (503).
    #[error("{0}")]
    Unavailable(String),
    /// The next hop of a call could not be resolved (502).
    #[error("{0}")]
    BadGateway(String),
    /// Something failed inside; logged, answered as "internal error".
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl std::fmt::Display) -> Self {
        ApiError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// A malformed path parameter.
    pub fn bad_path(field: impl Into<Cow<'static, str>>, message: impl std::fmt::Display) -> Self {
        ApiError::BadPath {
            field: Some(field.into()),
            message: message.to_string(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<&str>) {
        use StatusCode as S;
        match self {
            ApiError::Store(e) => match e {
                StoreError::NoSuchRoom(_) | StoreError::NoSuchUser(_) => {
                    (S::NOT_FOUND, "not_found", None)
                }
                StoreError::RoomExists(_) => (S::CONFLICT, "room_exists", Some("number")),
                StoreError::UserExists(_) => (S::CONFLICT, "user_exists", Some("number")),
                StoreError::EmailInUse(_) => (S::CONFLICT, "email_in_use", Some("email")),
                StoreError::PinInUse => (S::CONFLICT, "pin_in_use", Some("pin")),
                _ => (S::INTERNAL_SERVER_ERROR, "internal", None),
            },
            ApiError::Phonebook(e) => match e {
                PhonebookError::NoSuchEntry(_) => (S::NOT_FOUND, "not_found", None),
                PhonebookError::NumberInUse { .. } => {
                    (S::CONFLICT, "number_in_use", Some("number"))
                }
                _ => (S::INTERNAL_SERVER_ERROR, "internal", None),
            },
            ApiError::Command(e) => match e {
                CommandError::NoSuchRoom(_) | CommandError::NoSuchCall(_) => {
                    (S::NOT_FOUND, "not_found", None)
                }
                CommandError::NotBlocked(..) => (S::NOT_FOUND, "not_blocked", None),
                CommandError::NotInRoom(_) => (S::CONFLICT, "not_in_room", None),
                CommandError::NoConference(_) => (S::CONFLICT, "no_conference", None),
                CommandError::Blocked(..) | CommandError::NotAllowed(_) => {
                    (S::FORBIDDEN, "blocked", None)
                }
                CommandError::ShuttingDown => (S::SERVICE_UNAVAILABLE, "shutting_down", None),
                CommandError::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded", None),
                CommandError::RoomFull(_) => (S::CONFLICT, "room_full", None),
                CommandError::TooManyCalls => (S::SERVICE_UNAVAILABLE, "too_many_calls", None),
                CommandError::Unroutable(_) => (S::SERVICE_UNAVAILABLE, "unroutable", None),
            },
            ApiError::Invalid { field, .. } => {
                (S::UNPROCESSABLE_ENTITY, "invalid", Some(field.as_ref()))
            }
            ApiError::BadPath { field, .. } => (S::BAD_REQUEST, "bad_request", field.as_deref()),
            ApiError::BadBody => (S::BAD_REQUEST, "bad_request", None),
            ApiError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "too_large", None),
            ApiError::NoSuchPath => (S::NOT_FOUND, "not_found", None),
            ApiError::MethodNotAllowed(_) => (S::METHOD_NOT_ALLOWED, "method_not_allowed", None),
            ApiError::Unauthorized => (S::UNAUTHORIZED, "unauthorized", None),
            ApiError::BadCredentials => (S::UNAUTHORIZED, "bad_credentials", None),
            ApiError::Forbidden(_) => (S::FORBIDDEN, "forbidden", None),
            ApiError::Csrf => (S::FORBIDDEN, "csrf", None),
            ApiError::NotFound(_) => (S::NOT_FOUND, "not_found", None),
            ApiError::Conflict(_) => (S::CONFLICT, "conflict", None),
            ApiError::TooMany(_) => (S::TOO_MANY_REQUESTS, "too_many_requests", None),
            ApiError::Quota { .. } => (S::TOO_MANY_REQUESTS, "quota", None),
            ApiError::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "unavailable", None),
            ApiError::BadGateway(_) => (S::BAD_GATEWAY, "bad_gateway", None),
            ApiError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }
}

impl ApiError {
    /// The status and the body's detail (internal failures are logged here, once).
    pub fn detail(&self) -> (StatusCode, ErrorDetail) {
        let (status, code, field) = self.parts();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "internal error in HTTP handler");
            "internal error".to_owned()
        } else {
            match self {
                // The phone book's conflict names the number: not in an answer to anyone.
                ApiError::Phonebook(PhonebookError::NumberInUse { owner, .. }) => {
                    format!("phone-book entry {owner} already has this number")
                }
                other => other.to_string(),
            }
        };
        (
            status,
            ErrorDetail {
                code,
                message,
                field: field.map(str::to_owned),
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = self.detail();
        let body = ErrorBody { error };
        let mut response = (status, Json(body)).into_response();
        let retry = match &self {
            ApiError::Command(CommandError::Overloaded) => Some(OVERLOADED_RETRY_SECS),
            ApiError::TooMany(wait) | ApiError::Quota { wait, .. } => Some(wait.as_secs().max(1)),
            _ => None,
        };
        if let Some(secs) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use konferenz_conference::{CallId, RoomNumber};

    async fn body(error: ApiError) -> (u16, serde_json::Value) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn each_error_has_its_status_code_and_field() {
        let room = RoomNumber::parse("800").unwrap();
        let cases = [
            (
                ApiError::from(CommandError::NoSuchCall(CallId(3))),
                404,
                "not_found",
            ),
            (
                CommandError::NoSuchRoom(room.clone()).into(),
                404,
                "not_found",
            ),
            (
                CommandError::NotInRoom(CallId(3)).into(),
                409,
                "not_in_room",
            ),
            (
                CommandError::NoConference(room).into(),
                409,
                "no_conference",
            ),
            (CommandError::Overloaded.into(), 503, "overloaded"),
            (StoreError::PinInUse.into(), 409, "pin_in_use"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::Csrf, 403, "csrf"),
            (
                ApiError::TooMany(Duration::from_secs(30)),
                429,
                "too_many_requests",
            ),
        ];
        for (error, status, code) in cases {
            let (got, json) = body(error).await;
            assert_eq!(
                (got, json["error"]["code"].as_str().unwrap()),
                (status, code)
            );
        }
        let (status, json) = body(ApiError::invalid("numbers", "is empty")).await;
        assert_eq!(status, 422);
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "invalid", "message": "numbers: is empty", "field": "numbers"}})
        );
        let overloaded = ApiError::from(CommandError::Overloaded).into_response();
        assert_eq!(overloaded.headers()[header::RETRY_AFTER], "1");
        let many = ApiError::TooMany(Duration::from_secs(30)).into_response();
        assert_eq!(many.headers()[header::RETRY_AFTER], "30");
    }

    #[tokio::test]
    async fn internal_failures_leak_nothing() {
        let error = StoreError::BadStoredPin(RoomNumber::parse("800").unwrap());
        let (status, json) = body(error.into()).await;
        assert_eq!(status, 500);
        assert_eq!(json["error"]["message"], "internal error");
    }
}
