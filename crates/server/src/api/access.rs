//! Access that changes while a request lasts: the API's handlers announce every change that
//! may take access away (logout, password, users, tokens, rooms and their shares) through
//! [`AccessWatch`], and open event streams then check their credentials and rooms again —
//! at once after such a change and every [`RECHECK`] otherwise (for changes made on the
//! command line and for sessions that expire). A stream whose access is gone ends.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::watch;

/// How often an open event stream checks its access when nobody announced a change.
pub const RECHECK: Duration = Duration::from_secs(10);

/// The routes (as routed, with their `{parameters}`) whose successful non-GET requests may
/// take access away from someone: a prefix of the matched route.
const CHANGES_ACCESS: &[&str] = &[
    "/api/v1/session",
    "/api/v1/account/password",
    "/api/v1/users",
    "/api/v1/tokens",
    "/api/v1/rooms/{number}/shares",
    "/api/v1/conferences/{id}",
];

/// A room itself: deleting it or changing its owner.
const ROOM: &str = "/api/v1/rooms/{number}";

/// A counter of access changes; each open event stream watches it.
#[derive(Clone)]
pub struct AccessWatch(Arc<watch::Sender<u64>>);

impl Default for AccessWatch {
    fn default() -> Self {
        AccessWatch(Arc::new(watch::Sender::new(0)))
    }
}

impl AccessWatch {
    /// Someone's access may have changed: every open stream checks its own.
    pub fn changed(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// For one stream: wakes when [`AccessWatch::changed`] was called since.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Whether a successful `method` on `route` may take access away.
pub fn changes_access(method: &Method, route: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    route == ROOM
        || CHANGES_ACCESS
            .iter()
            .any(|prefix| route.starts_with(prefix))
}

/// The middleware: after a successful request that may change access, tell the streams.
pub async fn announce_changes(
    State(watch): State<AccessWatch>,
    request: Request,
    next: Next,
) -> Response {
    let changes = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|route| changes_access(request.method(), route.as_str()));
    let response = next.run(request).await;
    if changes && response.status().is_success() {
        watch.changed();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_may_take_access_away() {
        let yes = [
            (Method::DELETE, "/api/v1/session"),
            (Method::PUT, "/api/v1/account/password"),
            (Method::PATCH, "/api/v1/users/{number}"),
            (Method::DELETE, "/api/v1/users/{number}"),
            (Method::DELETE, "/api/v1/tokens/{id}"),
            (Method::PUT, "/api/v1/rooms/{number}/shares/{user}"),
            (Method::DELETE, "/api/v1/rooms/{number}/shares/{user}"),
            (Method::PATCH, "/api/v1/rooms/{number}"),
            (Method::DELETE, "/api/v1/rooms/{number}"),
            (Method::DELETE, "/api/v1/conferences/{id}"),
        ];
        for (method, route) in yes {
            assert!(changes_access(&method, route), "{method} {route}");
        }
        let no = [
            (Method::GET, "/api/v1/users"),
            (Method::GET, "/api/v1/rooms/{number}"),
            (Method::POST, "/api/v1/rooms/{number}/calls/{call}/mute"),
            (Method::POST, "/api/v1/rooms/{number}/invitations"),
            (Method::PUT, "/api/v1/rooms/{number}/pin"),
            (Method::POST, "/api/v1/phonebook"),
        ];
        for (method, route) in no {
            assert!(!changes_access(&method, route), "{method} {route}");
        }
    }

    #[tokio::test]
    async fn streams_see_a_change() {
        let watch = AccessWatch::default();
        let mut rx = watch.subscribe();
        assert!(!rx.has_changed().unwrap());
        watch.changed();
        assert!(rx.has_changed().unwrap());
        rx.changed().await.unwrap();
        assert!(!rx.has_changed().unwrap());
    }
}
