//! The HTTP side: health check, the read-only room API and `GET /metrics`.
//!
//! [`router`] builds the app from a [`Store`] so tests call it without a socket;
//! [`serve_listener`] serves it on a bound listener until the shutdown future completes.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use konferenz_store::{Room, Store};

use crate::api_error::ApiError;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

/// The routes, with the store as state.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/rooms", get(list_rooms))
        .with_state(store)
}

/// `GET /metrics`: every metric in the OpenMetrics text format, for Prometheus to scrape.
/// Unauthenticated, like the rest of the HTTP side: keep `http.listen` off public networks.
pub fn metrics_routes(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics)
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics.encode(),
    )
}

/// Serves [`router`] on an already bound listener (tests bind port 0 and read it back).
pub async fn serve_listener(
    listener: TcpListener,
    store: Store,
    extra: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener
        .local_addr()
        .context("HTTP listener has no address")?;
    tracing::info!(%addr, "HTTP listening");
    axum::serve(listener, router(store).merge(extra))
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")
}

/// A room as the API and `konferenz room list --json` show it.
#[derive(Debug, Serialize)]
pub struct RoomJson {
    /// The number callers dial.
    pub number: String,
    /// The display name, `null` if none.
    pub name: Option<String>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Whether callers must enter a PIN (the PIN itself is not shown here).
    pub has_pin: bool,
    /// Prompt language code (`en`, `de`), `null` for the configured default.
    pub language: Option<&'static str>,
}

impl From<&Room> for RoomJson {
    fn from(room: &Room) -> Self {
        RoomJson {
            number: room.number.to_string(),
            name: room.name.clone(),
            created_at: room.created_at,
            has_pin: room.pin.is_some(),
            language: room.language.map(|l| l.code()),
        }
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn list_rooms(State(store): State<Store>) -> Result<Json<Vec<RoomJson>>, ApiError> {
    let rooms = store.list_rooms().await?;
    Ok(Json(rooms.iter().map(RoomJson::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::http::StatusCode;
    use http_body_util::BodyExt;
    use konferenz_conference::RoomNumber;
    use tower::ServiceExt;

    async fn get_json(store: &Store, uri: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router(store.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn healthz_reports_ok_and_version() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let (status, body) = get_json(&store, "/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
        );
    }

    #[tokio::test]
    async fn rooms_api_lists_stored_rooms() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let (status, body) = get_json(&store, "/api/rooms").await;
        assert_eq!((status, body), (StatusCode::OK, serde_json::json!([])));

        let room = store
            .add_room(&konferenz_store::NewRoom {
                name: Some("Weekly sync"),
                ..konferenz_store::NewRoom::new(&RoomNumber::parse("800").unwrap())
            })
            .await
            .unwrap();
        store
            .add_room(&konferenz_store::NewRoom::new(
                &RoomNumber::parse("801").unwrap(),
            ))
            .await
            .unwrap();
        let (status, body) = get_json(&store, "/api/rooms").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body[0]["number"], "800");
        assert_eq!(body[0]["name"], "Weekly sync");
        assert_eq!(body[0]["created_at"], room.created_at);
        assert_eq!(body[1]["number"], "801");
        assert_eq!(body[1]["name"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn metrics_are_served_as_openmetrics_text() {
        let metrics = Arc::new(Metrics::new());
        metrics.media.rooms.inc();
        let request = Request::get("/metrics").body(Body::empty()).unwrap();
        let response = metrics_routes(metrics).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        for family in [
            "konferenz_calls_active",
            "konferenz_calls",
            "konferenz_participants",
            "konferenz_rooms_active",
            "konferenz_mix_tick_lateness_seconds",
            "konferenz_mix_ticks_late",
            "konferenz_mix_ticks_skipped",
            "konferenz_rtp_packets_received",
            "konferenz_rtp_packets_sent",
            "konferenz_jitter_frames_concealed",
            "konferenz_jitter_packets_discarded",
            "konferenz_sip_transactions",
            "konferenz_sip_unparseable",
            "konferenz_sip_rejected_invalid",
        ] {
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{family}:\n{text}"
            );
        }
        assert!(text.contains("konferenz_rooms_active 1\n"), "{text}");
    }

    #[tokio::test]
    async fn unknown_path_is_404() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let request = Request::get("/nope").body(Body::empty()).unwrap();
        let response = router(store).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
