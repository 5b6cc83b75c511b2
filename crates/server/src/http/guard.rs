//! What every web request passes first: the `Host` must be one this server answers for
//! (defeats DNS rebinding: a page on another site whose name resolves to this server),
//! a state-changing API request that names an `Origin` must come from this server's own
//! pages, and over HTTPS every answer carries `Strict-Transport-Security`. Also the plain
//! HTTP listener that only redirects to HTTPS.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

/// One year, the usual HSTS lifetime.
const HSTS: &str = "max-age=31536000";

/// Who may be served.
#[derive(Clone, Debug)]
pub struct Guard {
    /// Host names (lower case, no port) requests may name; empty: any.
    hosts: Vec<String>,
    /// Origins (`scheme://host[:port]`) that may change things besides the request's own host.
    origins: Vec<String>,
    https: bool,
}

/// The host part of a `Host` header or authority, lower case, without the port.
fn host_name(authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(authority.clone(), |(host, _)| host.to_owned())
}

/// `scheme://host[:port]` of a URL, lower case.
fn origin_of(url: &str) -> Option<String> {
    let uri: Uri = url.trim().parse().ok()?;
    Some(format!(
        "{}://{}",
        uri.scheme_str()?.to_ascii_lowercase(),
        uri.authority()?.as_str().to_ascii_lowercase()
    ))
}

impl Guard {
    /// `public_url`'s host, loopback names, the listen address and `allowed` (`"*"`: any host).
    pub fn new(
        public_url: Option<&str>,
        listen: std::net::SocketAddr,
        allowed: &[String],
        https: bool,
    ) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !listen.ip().is_unspecified() {
            hosts.push(listen.ip().to_string());
        }
        let mut origins = Vec::new();
        if let Some(origin) = public_url.and_then(origin_of) {
            hosts.push(host_name(origin.split("://").nth(1).unwrap_or_default()));
            origins.push(origin);
        }
        hosts.extend(allowed.iter().map(|h| host_name(h)));
        if allowed.iter().any(|h| h.trim() == "*") {
            hosts.clear();
        }
        Self {
            hosts,
            origins,
            https,
        }
    }

    fn host_allowed(&self, host: Option<&str>) -> bool {
        self.hosts.is_empty() || host.is_some_and(|h| self.hosts.contains(&host_name(h)))
    }

    /// A cross-site request: it names an Origin that is neither this request's host nor
    /// one of the configured origins.
    fn foreign_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return false;
        }
        let own = host.map(|h| h.trim().to_ascii_lowercase());
        let origin_authority = origin.split_once("://").map(|(_, a)| a.to_owned());
        !(own.is_some() && origin_authority == own)
    }
}

fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message, "field": null}})),
    )
        .into_response()
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    if !guard.host_allowed(host.as_deref()) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "host",
            format!(
                "this server does not answer for host {}; set http.public_url or http.allowed_hosts",
                host.as_deref().unwrap_or("(none)")
            ),
        );
    }
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes
        && request.uri().path().starts_with("/api/")
        && let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        && guard.foreign_origin(origin, host.as_deref())
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "origin",
            format!("requests from {origin} may not change anything here"),
        );
    }
    let mut response = next.run(request).await;
    if guard.https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

/// The plain-HTTP app of `http.redirect_listen`: every request is sent to the same path
/// on `https_base` (`https://host[:port]`).
pub fn redirect_app(https_base: String) -> axum::Router {
    let base: Arc<str> = https_base.trim_end_matches('/').into();
    axum::Router::new().fallback(move |uri: Uri| {
        let base = base.clone();
        async move {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            Redirect::permanent(&format!("{base}{path}")).into_response()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::middleware::from_fn_with_state;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    fn app(guard: Guard) -> axum::Router {
        axum::Router::new()
            .route("/api/v1/x", post(|| async { "changed" }))
            .route("/", get(|| async { "page" }))
            .layer(from_fn_with_state(Arc::new(guard), check))
    }

    async fn status(
        app: &axum::Router,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Option<String>) {
        let mut request = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let hsts = response
            .headers()
            .get(header::STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), hsts)
    }

    #[tokio::test]
    async fn only_known_hosts_are_served() {
        let guard = Guard::new(
            Some("https://konferenz.example.org"),
            "0.0.0.0:8443".parse().unwrap(),
            &["conf.intern".to_owned()],
            false,
        );
        let app = app(guard);
        for host in [
            "konferenz.example.org",
            "KONFERENZ.example.org:8443",
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost",
            "conf.intern:80",
        ] {
            assert_eq!(
                status(&app, "GET", "/", &[("host", host)]).await.0,
                200,
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "konferenz.example.org.evil.example",
            "192.0.2.1",
        ] {
            assert_eq!(
                status(&app, "GET", "/", &[("host", host)]).await.0,
                421,
                "{host}"
            );
        }
    }

    #[tokio::test]
    async fn a_foreign_origin_may_not_change_anything() {
        let guard = Guard::new(
            Some("https://konferenz.example.org"),
            "127.0.0.1:8080".parse().unwrap(),
            &[],
            false,
        );
        let app = app(guard);
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(
            status(&app, "POST", "/api/v1/x", &[host]).await.0,
            200,
            "no Origin: a script"
        );
        assert_eq!(
            status(
                &app,
                "POST",
                "/api/v1/x",
                &[host, ("origin", "http://127.0.0.1:8080")]
            )
            .await
            .0,
            200
        );
        assert_eq!(
            status(
                &app,
                "POST",
                "/api/v1/x",
                &[host, ("origin", "https://konferenz.example.org")]
            )
            .await
            .0,
            200
        );
        assert_eq!(
            status(
                &app,
                "POST",
                "/api/v1/x",
                &[host, ("origin", "https://evil.example")]
            )
            .await
            .0,
            403
        );
        assert_eq!(
            status(&app, "POST", "/api/v1/x", &[host, ("origin", "null")])
                .await
                .0,
            403
        );
        assert_eq!(
            status(
                &app,
                "GET",
                "/",
                &[host, ("origin", "https://evil.example")]
            )
            .await
            .0,
            200,
            "reading is not changing"
        );
    }

    #[tokio::test]
    async fn https_answers_carry_hsts_and_a_star_allows_any_host() {
        let guard = Guard::new(
            None,
            "127.0.0.1:8443".parse().unwrap(),
            &["*".to_owned()],
            true,
        );
        let app = app(guard);
        let (code, hsts) = status(&app, "GET", "/", &[("host", "anything.example")]).await;
        assert_eq!(code, 200);
        assert_eq!(hsts.as_deref(), Some(HSTS));
    }

    #[tokio::test]
    async fn the_redirect_keeps_path_and_query() {
        let app = redirect_app("https://konferenz.example.org/".into());
        let response = app
            .oneshot(Request::get("/j/abc?x=1").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers()[header::LOCATION],
            "https://konferenz.example.org/j/abc?x=1"
        );
    }
}
