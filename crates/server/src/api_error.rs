//! `ApiError`: every error an HTTP handler can return, mapped to a status code and a JSON
//! body `{"error": "..."}` in this one place. A bad request body names the field.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use konferenz_conference::CommandError;
use konferenz_store::StoreError;

/// Seconds a client is asked to wait when the server is overloaded.
const RETRY_AFTER_SECS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The database failed; details go to the log, not to the client.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A conference command was refused.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A path parameter or body field is not acceptable: `field: why`.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A path parameter is malformed: `field: why`.
    #[error("{field}: {message}")]
    BadPath {
        field: &'static str,
        message: String,
    },
    /// A path names nothing that exists.
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be carried out as the server is configured.
    #[error("{0}")]
    Unavailable(String),
    /// The next hop of a call could not be resolved.
    #[error("{0}")]
    BadGateway(String),
}

impl ApiError {
    pub fn invalid(field: &'static str, message: impl std::fmt::Display) -> Self {
        ApiError::Invalid {
            field,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Store(StoreError::NoSuchRoom(_)) => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::RoomExists(_)) => StatusCode::CONFLICT,
            ApiError::Store(e) => {
                tracing::error!(error = %e, "database error in HTTP handler");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(serde_json::json!({ "error": "internal error" })),
                )
                    .into_response();
            }
            ApiError::Command(e) => match e {
                CommandError::NoSuchRoom(_)
                | CommandError::NoSuchCall(_)
                | CommandError::NotBlocked(..) => StatusCode::NOT_FOUND,
                CommandError::NotInRoom(_) | CommandError::NoConference(_) => StatusCode::CONFLICT,
                CommandError::Blocked(..) => StatusCode::FORBIDDEN,
                CommandError::ShuttingDown | CommandError::Overloaded => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                CommandError::Unroutable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadPath { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
        };
        let message = match &self {
            ApiError::Store(StoreError::NoSuchRoom(n)) => format!("no room {n}"),
            ApiError::Store(StoreError::RoomExists(n)) => format!("room {n} already exists"),
            other => other.to_string(),
        };
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if matches!(self, ApiError::Command(CommandError::Overloaded)) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konferenz_conference::{CallId, RoomNumber};

    #[test]
    fn each_error_has_its_status() {
        let room = RoomNumber::parse("800").unwrap();
        let cases = [
            (ApiError::from(CommandError::NoSuchCall(CallId(3))), 404),
            (CommandError::NoSuchRoom(room.clone()).into(), 404),
            (CommandError::NotInRoom(CallId(3)).into(), 409),
            (CommandError::NoConference(room).into(), 409),
            (CommandError::Overloaded.into(), 503),
            (ApiError::invalid("number", "is empty"), 422),
        ];
        for (error, status) in cases {
            assert_eq!(error.into_response().status().as_u16(), status);
        }
        let overloaded = ApiError::from(CommandError::Overloaded).into_response();
        assert_eq!(overloaded.headers()[header::RETRY_AFTER], "1");
    }
}
