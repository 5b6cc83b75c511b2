//! The HTTP side: the health check, the assembly of the web app (API and window, behind the
//! [`guard`]), HTTPS ([`tls`]), and the separate `GET /metrics` listener.
//!
//! [`router`] builds the unauthenticated part so tests call it without a socket;
//! [`serve_listener`] serves an app on a bound listener until the shutdown future completes.

pub mod guard;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use konferenz_store::Room;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

/// The routes that answer without credentials: `GET /healthz`.
pub fn router() -> Router {
    Router::new().route("/healthz", get(healthz))
}

/// The whole web app: `/healthz`, the API under `/api/v1` and the window, every request
/// checked by `guard` first.
pub fn app(state: crate::api::ApiState, guard: guard::Guard) -> Router {
    router()
        .merge(crate::api::router(state))
        .merge(crate::web_ui::routes())
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::api::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            guard::check,
        ))
}

/// `GET /metrics`: every metric in the OpenMetrics text format, for Prometheus to scrape.
/// Served on its own address (`metrics.listen`, loopback by default) without credentials.
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

/// Serves `app` on an already bound listener (tests bind port 0 and read it back); the
/// handlers see the client's address (`ConnectInfo`).
pub async fn serve_listener(
    listener: TcpListener,
    what: &'static str,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener
        .local_addr()
        .with_context(|| format!("{what} listener has no address"))?;
    tracing::info!(%addr, "{what} listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .with_context(|| format!("{what} server failed"))
}

/// Serves `app` over TLS on an already bound listener, like [`serve_listener`].
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    let listener = tls::TlsListener::new(listener, config).context("HTTPS listener")?;
    let addr = axum::serve::Listener::local_addr(&listener).context("HTTPS listener")?;
    tracing::info!(%addr, "HTTPS listening");
    axum::serve(
        listener.tap_io(|_| {}),
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("HTTPS server failed")
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::http::StatusCode;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_reports_ok_and_version() {
        let request = Request::get("/healthz").body(Body::empty()).unwrap();
        let response = router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
        );
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
        let request = Request::get("/nope").body(Body::empty()).unwrap();
        let response = router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
