//! The HTTP API under `/api/v1`: one [`ApiState`], the routes of every sub-module collected
//! with their OpenAPI descriptions (served at `/api/v1/openapi.json`), and the rule that
//! nothing here answers without credentials but the login, personal links and the OpenAPI
//! document (besides, outside the API: `/healthz` and the window's files).
//! Every answer under `/api` that is an error is the JSON error body: malformed path and
//! query parameters and bodies through the extractors of `extract.rs`, an unknown path
//! (`404 not_found`) through the router's fallback under `/api`, a method the path does not
//! have (`405 method_not_allowed`, with `Allow`) through the method fallback.
//!
//! Each operation carries one tag saying who may call it; the role tests iterate them:
//! `public` (no credentials), `account` (any logged-in user), `rooms` (administrators, and
//! organisers on the rooms they own or were given), `conferences` (organisers on the
//! conferences they scheduled, administrators on all), `admin` (administrators).

mod access;
mod account;
mod audit;
mod auth;
mod browser;
mod calls;
mod conference;
mod directory;
mod error;
mod events;
mod extract;
mod links;
mod rooms;
mod schedule;
mod session;

pub use directory::TOKEN_PREFIX;
pub use links::call_me_limiter;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::http::Method;
use axum::routing::get;
use konferenz_conference::{DialPlan, LoginThrottle};
use konferenz_store::Store;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use access::AccessWatch;
pub use auth::{Principal, hash, scheduled_id, secret};
pub use conference::{link_token, place};
pub use error::ApiError;

use crate::bus::Bus;
use crate::config::{DialinConfig, TrunkConfig};
use crate::control::Control;
use crate::resolve::SipResolver;

/// Largest request body (a music upload or a phone-book file).
pub const MAX_BODY_BYTES: usize = rooms::MAX_MUSIC_BYTES + (64 << 10);

/// What the API handlers need.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub control: Control,
    pub bus: Bus,
    pub trunk: TrunkConfig,
    pub dialin: DialinConfig,
    /// Which Request-URI a number is called at through the trunk (built from `trunk`).
    pub dial_plan: Arc<DialPlan>,
    /// Finds the next hop of a trunk call (RFC 3263).
    pub resolver: SipResolver,
    /// Registered phones of the built-in registrar: called directly.
    pub location: crate::location::Location,
    /// Ends event streams at shutdown.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The conference's store writes (blocks, room-wide mute): flushed before answering.
    pub persister: crate::persist::Persister,
    /// Failed logins per account and source address.
    pub logins: Arc<Mutex<LoginThrottle>>,
    /// Rate of "Call me" on personal links, per link and per source address.
    pub call_me: Arc<Mutex<links::CallMeLimiter>>,
    /// Invitations per user per hour (`limits.invitations_per_user_per_hour`).
    pub invitations: Arc<Mutex<konferenz_conference::Quota<String>>>,
    /// SHA-256 of the local administrator's token (None: no local token).
    pub admin_token_hash: Option<[u8; 32]>,
    /// A browser session's idle lifetime.
    pub session_secs: i64,
    /// Base of personal links; None: `http://` + the request's Host.
    pub public_url: Option<String>,
    /// The window is served over HTTPS (`http.tls_certificate`): cookies are `Secure`.
    pub https: bool,
    /// The registrar's realm (a user's SIP digest hashes are for it).
    pub realm: String,
    /// Phone-book numbers without a country code are in this region.
    pub default_region: String,
    /// Where uploaded files (room music) are kept: the database's folder.
    pub data_dir: std::path::PathBuf,
    /// Scheduled conferences and their mails.
    pub scheduler: crate::scheduling::Scheduler,
    /// Wakes the outbox worker when mails were queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Browsers joining as participants.
    pub browsers: crate::browser::BrowserControl,
    /// Announces changes of access to open event streams.
    pub access: AccessWatch,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "konferenz API",
        description = "Conference rooms, participants, invitations, the live event stream, \
                       the phone book, users and tokens. Authenticate with \
                       `Authorization: Bearer TOKEN` (konferenz token create) or a browser \
                       session (POST /api/v1/session; state-changing requests then carry \
                       the session's X-CSRF-Token). Errors are \
                       {\"error\":{\"code\",\"message\",\"field\"}}."
    ),
    modifiers(&Security),
    components(schemas(error::ErrorBody))
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// The API's routes and their OpenAPI document.
pub fn router(state: ApiState) -> Router {
    let store = state.store.clone();
    let access = state.access.clone();
    let (router, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login, session::current, session::logout))
        .routes(routes!(account::get_account, account::put_account))
        .routes(routes!(account::change_password))
        .routes(routes!(rooms::list, rooms::create))
        .routes(routes!(rooms::read, rooms::update, rooms::delete))
        .routes(routes!(rooms::set_pin, rooms::clear_pin))
        .routes(routes!(rooms::share, rooms::unshare))
        .routes(routes!(rooms::set_music, rooms::clear_music))
        .routes(routes!(conference::participants))
        .routes(routes!(conference::history))
        .routes(routes!(conference::invite))
        .routes(routes!(conference::dial_in))
        .routes(routes!(calls::hang_up))
        .routes(routes!(calls::mute))
        .routes(routes!(calls::redial))
        .routes(routes!(calls::hang_up_call))
        .routes(routes!(calls::mute_call))
        .routes(routes!(calls::mute_room))
        .routes(routes!(calls::lock))
        .routes(routes!(calls::end))
        .routes(routes!(calls::blocks))
        .routes(routes!(calls::unblock))
        .routes(routes!(links::room_links))
        .routes(routes!(links::revoke))
        .routes(routes!(links::show))
        .routes(routes!(links::call_me))
        .routes(routes!(browser::join_room))
        .routes(routes!(browser::leave_room))
        .routes(routes!(browser::join_link))
        .routes(routes!(browser::leave_link))
        .routes(routes!(links::ics))
        .routes(routes!(events::events))
        .routes(routes!(directory::search_phonebook, directory::add_contact))
        .routes(routes!(
            directory::update_contact,
            directory::remove_contact
        ))
        .routes(routes!(directory::import_phonebook))
        .routes(routes!(directory::list_users, directory::add_user))
        .routes(routes!(directory::update_user, directory::remove_user))
        .routes(routes!(directory::list_tokens, directory::create_token))
        .routes(routes!(directory::revoke_token))
        .routes(routes!(directory::settings))
        .routes(routes!(
            schedule::create_conference,
            schedule::list_conferences
        ))
        .routes(routes!(schedule::conference_defaults))
        .routes(routes!(
            schedule::read_conference,
            schedule::update_conference,
            schedule::cancel_conference
        ))
        .routes(routes!(schedule::add_conference_participants))
        .routes(routes!(schedule::list_outbox))
        .routes(routes!(audit::list_audit))
        .routes(routes!(
            schedule::schedule_texts,
            schedule::set_schedule_texts
        ))
        .with_state(state)
        .split_for_parts();
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            access,
            access::announce_changes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            store,
            audit::record_changes,
        ));
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document_bad_paths(&mut api);
    let document = Arc::new(api);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document.as_ref().clone()) }
            }),
        )
        // After every route: it applies to the routes there are.
        .method_not_allowed_fallback(method_not_allowed)
        .nest("/api", Router::new().fallback(no_such_path))
}

/// A path under `/api` that no operation has.
async fn no_such_path() -> ApiError {
    ApiError::NoSuchPath
}

/// A method the path has no operation for (axum adds the `Allow` header).
async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method)
}

/// Every operation with a path parameter may answer `400` (the parameter does not parse,
/// e.g. a call id that is not a number); the document says so once for all of them.
fn document_bad_paths(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let bad_path = ResponseBuilder::new()
        .description("A malformed path parameter; the field names it")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.contains('{') {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("400".to_owned())
                .or_insert_with(|| bad_path.clone().into());
        }
    }
}
