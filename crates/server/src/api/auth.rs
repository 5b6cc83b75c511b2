//! Who is asking: the [`Principal`] extractor (a bearer token — an API token or the local
//! administrator's — or a browser session cookie with its CSRF token on every request that
//! changes something), and the permission rules: admins act on every room, organisers on
//! the rooms they own or were given, other users on nothing but their own account.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use konferenz_conference::RoomNumber;
use konferenz_store::{Room, SipUser};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{ApiError, ApiState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "konferenz_session";
/// The header a session's state-changing requests carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh secret: `prefix` + 32 random bytes from the OS, hex.
pub fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut out = String::with_capacity(prefix.len() + 64);
    out.push_str(prefix);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// How secrets (session ids, tokens) are stored: SHA-256.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Equal without revealing where two secrets differ by timing.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How the request was authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser session (cookie); carries its CSRF token.
    Session { id_hash: [u8; 32], csrf: String },
    /// An API token of a user; carries the token's SHA-256.
    Token { digest: [u8; 32] },
    /// The local administrator's token (the file beside the database).
    Local,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user's number; `None` for the local administrator.
    pub number: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub admin: bool,
    pub organiser: bool,
    pub via: Via,
    /// Where the request came from (for the audit log).
    pub source: Option<IpAddr>,
}

impl Principal {
    fn user(user: SipUser, via: Via) -> Self {
        Principal {
            number: Some(user.number),
            name: user.name,
            email: user.email,
            admin: user.admin,
            organiser: user.organiser,
            via,
            source: None,
        }
    }

    /// Only administrators.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only administrators may do this".into(),
            ))
        }
    }

    /// Administrators and organisers (who may manage conferences).
    pub fn require_organiser(&self) -> Result<(), ApiError> {
        if self.admin || self.organiser {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "your account may not manage conferences; ask an administrator".into(),
            ))
        }
    }

    /// Whether this caller may manage `room` (given its shares).
    pub fn may_manage(&self, room: &Room, shares: &[(String, String)]) -> bool {
        if self.admin {
            return true;
        }
        let Some(me) = &self.number else {
            return false;
        };
        self.organiser
            && (room.owner.as_deref() == Some(me.as_str())
                || shares
                    .iter()
                    .any(|(r, u)| r == room.number.as_str() && u == me))
    }
}

/// The stored room `number` if this caller may manage it: 403 for users who may manage no
/// conference at all, 404 for a room that does not exist or is not theirs (so rooms of
/// others cannot be discovered).
pub async fn managed_room(
    state: &ApiState,
    principal: &Principal,
    number: &str,
) -> Result<Room, ApiError> {
    principal.require_organiser()?;
    let parsed =
        RoomNumber::parse(number).map_err(|e| ApiError::bad_path("number", e.to_string()))?;
    let not_found = || ApiError::NotFound(format!("no room {parsed}"));
    let room = match state.store.find_room(&parsed).await? {
        Some(room) => room,
        None => {
            return scheduled_room(state, principal, &parsed)
                .await?
                .ok_or_else(not_found);
        }
    };
    if principal.admin {
        return Ok(room);
    }
    let shares = state.store.room_shares().await?;
    if principal.may_manage(&room, &shares) {
        Ok(room)
    } else {
        Err(not_found())
    }
}

/// Whether `number` is a scheduled conference's room name (`c` and its id).
pub fn scheduled_id(number: &str) -> Option<i64> {
    let digits = number.strip_prefix('c')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A scheduled conference's room (`c<id>`), as a room its organiser (or an administrator)
/// manages in the window: named by its title, with its PIN.
async fn scheduled_room(
    state: &ApiState,
    principal: &Principal,
    number: &RoomNumber,
) -> Result<Option<Room>, ApiError> {
    let Some(id) = scheduled_id(number.as_str()) else {
        return Ok(None);
    };
    let Some(c) = state.store.scheduled_conference(id).await? else {
        return Ok(None);
    };
    if !principal.admin && principal.number.as_deref() != Some(c.owner.as_str()) {
        return Ok(None);
    }
    Ok(Some(Room {
        number: number.clone(),
        name: Some(c.title),
        created_at: c.created_at,
        pin: konferenz_conference::Pin::parse(&c.pin).ok(),
        language: konferenz_conference::Language::parse(&c.language).ok(),
        music: None,
        language_switch: None,
        muted: false,
        owner: Some(c.owner),
    }))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The source address of the request (loopback when unknown, as in in-process tests).
pub fn client_addr(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// Whether a request method changes something (and so needs the CSRF token).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<ApiState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let principal = authenticate(parts, state).await?;
        if let Some(slot) = parts.extensions.get::<super::audit::ActorSlot>() {
            slot.set(crate::audit::actor(&principal));
        }
        Ok(principal)
    }
}

/// Who the request's credentials name (bearer token or session cookie with CSRF token).
async fn authenticate(parts: &mut Parts, state: &ApiState) -> Result<Principal, ApiError> {
    let now = crate::location::unix(std::time::SystemTime::now());
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let digest = hash(token);
        if let Some(local) = &state.admin_token_hash
            && same(local, &digest)
        {
            return Ok(Principal {
                number: None,
                name: "local administrator".into(),
                email: None,
                admin: true,
                organiser: true,
                via: Via::Local,
                source: Some(client_addr(parts)),
            });
        }
        let token = state
            .store
            .use_api_token(&digest, now)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let user = state
            .store
            .find_sip_user(&token.user)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        return Ok(Principal {
            source: Some(client_addr(parts)),
            ..Principal::user(user, Via::Token { digest })
        });
    }
    let id = cookie(parts, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
    let id_hash = hash(id);
    let session = state
        .store
        .find_session(&id_hash, now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if changes_state(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same(sent, session.csrf.as_bytes()) {
            return Err(ApiError::Csrf);
        }
    }
    let user = state
        .store
        .find_sip_user(&session.user)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    // Sliding idle timeout: push the expiry out once half of it has passed.
    let lifetime = state.session_secs;
    if session.expires_at - now < lifetime / 2 {
        state.store.extend_session(&id_hash, now + lifetime).await?;
    }
    Ok(Principal {
        source: Some(client_addr(parts)),
        ..Principal::user(
            user,
            Via::Session {
                id_hash,
                csrf: session.csrf,
            },
        )
    })
}

/// The same credentials looked up again, for a request that lasts (the event stream): the
/// principal as the store has it now, [`ApiError::Unauthorized`] once the session ended or
/// expired, the token was revoked or the user removed. Does not extend the session.
pub async fn reauthenticate(
    state: &ApiState,
    principal: &Principal,
) -> Result<Principal, ApiError> {
    let now = crate::location::unix(std::time::SystemTime::now());
    let number = match &principal.via {
        Via::Local => return Ok(principal.clone()),
        Via::Token { digest } => {
            state
                .store
                .use_api_token(digest, now)
                .await?
                .ok_or(ApiError::Unauthorized)?
                .user
        }
        Via::Session { id_hash, .. } => {
            state
                .store
                .find_session(id_hash, now)
                .await?
                .ok_or(ApiError::Unauthorized)?
                .user
        }
    };
    let user = state
        .store
        .find_sip_user(&number)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Principal {
        source: principal.source,
        ..Principal::user(user, principal.via.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_compare_in_full() {
        let a = secret("kfz_");
        let b = secret("kfz_");
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert!(a[4..].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(same(&hash(&a), &hash(&a)));
        assert!(!same(&hash(&a), &hash(&b)));
        assert!(!same(b"abc", b"abcd"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let request = axum::http::Request::get("/")
            .header(header::COOKIE, "a=1; konferenz_session=xyz ; b=2")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(cookie(&parts, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&parts, "c"), None);
    }
}
