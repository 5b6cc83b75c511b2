//! The audit log over the API: every request that changes something and succeeds is
//! recorded (who — as the credentials say —, which operation, on what path, from where);
//! logins, failed logins and lockouts are recorded by the session handlers, PIN lockouts by
//! the SIP task. Administrators read it with `GET /api/v1/audit`.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use konferenz_store::{AuditEntry, Store};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::error::ErrorBody;
use super::extract::Query;
use super::{ApiError, ApiState};

/// Filled in by the credentials' extractor: who the request acts as.
#[derive(Clone, Default)]
pub struct ActorSlot(pub Arc<Mutex<Option<String>>>);

impl ActorSlot {
    pub fn set(&self, actor: &str) {
        *self.0.lock().expect("actor slot") = Some(actor.to_owned());
    }
}

/// The middleware: after a successful state-changing request, one entry.
pub async fn record_changes(
    State(store): State<Store>,
    mut request: Request,
    next: Next,
) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let path = request.uri().path().to_owned();
    // Logins and logouts are recorded by their handlers, with more to say.
    if !changes || path == "/api/v1/session" {
        return next.run(request).await;
    }
    let slot = ActorSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let source = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let response = next.run(request).await;
    if response.status().is_success() {
        let actor = slot
            .0
            .lock()
            .expect("actor slot")
            .clone()
            .unwrap_or_else(|| "anonymous".to_owned());
        let action = format!("{method} {route}");
        crate::audit::record(&store, &actor, &action, &path, "", source).await;
    }
    response
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this id (paging back).
    before: Option<i64>,
    /// Only actions starting with this, e.g. `login` or `DELETE`.
    action: Option<String>,
    /// At most this many (default 100, at most 500).
    limit: Option<u32>,
}

/// One audit entry.
#[derive(serde::Serialize, ToSchema)]
pub struct AuditJson {
    id: i64,
    /// Unix seconds.
    at: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    source: Option<String>,
}

impl From<AuditEntry> for AuditJson {
    fn from(e: AuditEntry) -> Self {
        AuditJson {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            source: e.source,
        }
    }
}

/// The audit log, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "OK", body = [AuditJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ))]
pub async fn list_audit(
    State(state): State<ApiState>,
    principal: Principal,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditJson>>, ApiError> {
    principal.require_admin()?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let action = query
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let entries = state.store.audit_log(query.before, action, limit).await?;
    Ok(Json(entries.into_iter().map(AuditJson::from).collect()))
}
