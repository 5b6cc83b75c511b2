//! People and credentials: the phone book (search for autocomplete, add, change, remove,
//! import a CSV or vCard file with the report of rejected lines), users (administrators),
//! the caller's API tokens, and the read-only trunk and dial-in settings.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use konferenz_conference::phonebook::{
    self, Contact, ContactId, ContactNumber, Format, NumberLabel, PhoneNumber,
};
use konferenz_store::{PhonebookEntry, SipUser, UserChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{self, Principal};
use super::conference::{Body, body};
use super::error::ErrorBody;
use super::extract::{Path, Query, RawBody};
use super::{ApiError, ApiState};
use crate::accounts;

/// One number of a phone-book entry.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NumberJson {
    /// `work`, `mobile`, `home` or `other`.
    #[serde(default)]
    label: Option<String>,
    /// As typed (national or international); stored in E.164.
    number: String,
}

/// A phone-book entry.
#[derive(Serialize, ToSchema)]
pub struct ContactJson {
    id: i64,
    name: String,
    company: Option<String>,
    /// The first number (what autocomplete invites).
    number: String,
    numbers: Vec<NumberJson>,
}

impl From<&PhonebookEntry> for ContactJson {
    fn from(entry: &PhonebookEntry) -> Self {
        let numbers: Vec<NumberJson> = entry
            .contact
            .numbers()
            .iter()
            .map(|n| NumberJson {
                label: Some(n.label.as_str().to_owned()),
                number: n.number.as_str().to_owned(),
            })
            .collect();
        ContactJson {
            id: entry.id.0,
            name: entry.contact.name().to_owned(),
            company: entry.contact.company().map(str::to_owned),
            number: numbers
                .first()
                .map(|n| n.number.clone())
                .unwrap_or_default(),
            numbers,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name, company or number; empty: the whole book.
    q: Option<String>,
    /// At most this many (default 20, at most 200).
    limit: Option<usize>,
}

/// Search the phone book (autocomplete: `?q=mül`).
#[utoipa::path(get, path = "/api/v1/phonebook", tag = "rooms",
    params(SearchQuery),
    responses(
        (status = 200, description = "OK", body = [ContactJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn search_phonebook(
    State(state): State<ApiState>,
    principal: Principal,
    query: Result<Query<SearchQuery>, ApiError>,
) -> Result<Json<Vec<ContactJson>>, ApiError> {
    principal.require_organiser()?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 200"));
    }
    let q = query.q.unwrap_or_default();
    let entries: Vec<ContactJson> = if q.trim().is_empty() {
        state
            .store
            .list_phonebook()
            .await?
            .iter()
            .take(limit)
            .map(ContactJson::from)
            .collect()
    } else {
        state
            .store
            .search_phonebook(&q)
            .await?
            .iter()
            .take(limit)
            .map(|m| ContactJson::from(&m.entry))
            .collect()
    };
    Ok(Json(entries))
}

/// A new or changed phone-book entry: `number` for one, or `numbers` with labels.
#[derive(Deserialize, ToSchema)]
pub struct ContactBody {
    name: String,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    numbers: Vec<NumberJson>,
}

fn contact(state: &ApiState, request: ContactBody) -> Result<Contact, ApiError> {
    let mut numbers = Vec::new();
    let given = request
        .number
        .into_iter()
        .map(|number| NumberJson {
            label: None,
            number,
        })
        .chain(request.numbers);
    for n in given {
        let number = PhoneNumber::parse(&n.number, &state.default_region)
            .map_err(|e| ApiError::invalid("numbers", e))?;
        let label = n
            .label
            .as_deref()
            .map_or(NumberLabel::Work, NumberLabel::lenient);
        numbers.push(ContactNumber { label, number });
    }
    Contact::new(&request.name, request.company.as_deref(), numbers).map_err(|e| {
        let field = match e {
            phonebook::ContactError::NoName => "name",
            phonebook::ContactError::TooLong { field } => field,
            phonebook::ContactError::NoNumber => "numbers",
        };
        ApiError::invalid(field, e)
    })
}

/// Add a phone-book entry (administrators).
#[utoipa::path(post, path = "/api/v1/phonebook", tag = "admin",
    request_body = ContactBody,
    responses(
        (status = 201, description = "Created", body = ContactJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 409, description = "Another entry has a number", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn add_contact(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<ContactBody>,
) -> Result<Response, ApiError> {
    principal.require_admin()?;
    let request = body(request, "name", "{\"name\": …, \"number\": …}")?;
    let entry = state
        .store
        .add_phonebook_entry(&contact(&state, request)?)
        .await?;
    Ok((StatusCode::CREATED, Json(ContactJson::from(&entry))).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct ContactPath {
    /// The entry's id.
    id: i64,
}

/// Replace a phone-book entry (administrators).
#[utoipa::path(put, path = "/api/v1/phonebook/{id}", tag = "admin",
    params(ContactPath), request_body = ContactBody,
    responses(
        (status = 200, description = "OK", body = ContactJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 409, description = "Conflicts with what is stored or running", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn update_contact(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ContactPath { id }): Path<ContactPath>,
    request: Body<ContactBody>,
) -> Result<Json<ContactJson>, ApiError> {
    principal.require_admin()?;
    let request = body(request, "name", "{\"name\": …, \"number\": …}")?;
    let entry = state
        .store
        .update_phonebook_entry(ContactId(id), &contact(&state, request)?)
        .await?;
    Ok(Json(ContactJson::from(&entry)))
}

/// Remove a phone-book entry (administrators).
#[utoipa::path(delete, path = "/api/v1/phonebook/{id}", tag = "admin",
    params(ContactPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn remove_contact(
    State(state): State<ApiState>,
    principal: Principal,
    Path(ContactPath { id }): Path<ContactPath>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    state.store.remove_phonebook_entry(ContactId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A line of an imported file that was left out.
#[derive(Serialize, ToSchema)]
pub struct RejectedJson {
    line: usize,
    name: Option<String>,
    reason: String,
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// New entries.
    added: usize,
    /// Contacts folded into an existing entry or an earlier one of the file.
    merged: usize,
    /// Existing entries that gained numbers or a company.
    updated: usize,
    rejected: Vec<RejectedJson>,
}

/// Import a CSV or vCard file (the body; `Content-Type: text/csv` or `text/vcard`, else
/// detected): good records are merged into the book, the rest reported by line.
#[utoipa::path(post, path = "/api/v1/phonebook/import", tag = "admin",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "OK", body = ImportReport),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn import_phonebook(
    State(state): State<ApiState>,
    principal: Principal,
    headers: HeaderMap,
    file: Result<RawBody, ApiError>,
) -> Result<Json<ImportReport>, ApiError> {
    principal.require_admin()?;
    let RawBody(file) = file?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let format =
        if content_type.starts_with("text/vcard") || content_type.starts_with("text/x-vcard") {
            Format::VCard
        } else if content_type.starts_with("text/csv") {
            Format::Csv
        } else {
            Format::detect(None, &file)
        };
    let import = phonebook::import(&file, format, &state.default_region)
        .map_err(|e| ApiError::invalid("body", e))?;
    let outcome = state.store.import_phonebook(import.contacts).await?;
    Ok(Json(ImportReport {
        added: outcome.added,
        merged: outcome.merged,
        updated: outcome.updated,
        rejected: import
            .rejected
            .into_iter()
            .map(|r| RejectedJson {
                line: r.line,
                name: r.name,
                reason: r.reason.to_string(),
            })
            .collect(),
    }))
}

/// A user as administrators see it.
#[derive(Serialize, ToSchema)]
pub struct UserJson {
    number: String,
    name: String,
    email: Option<String>,
    admin: bool,
    organiser: bool,
    /// Whether the user can log in to the web (has a web password).
    web_login: bool,
}

impl From<&SipUser> for UserJson {
    fn from(u: &SipUser) -> Self {
        UserJson {
            number: u.number.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            admin: u.admin,
            organiser: u.organiser,
            web_login: u.web_password.is_some(),
        }
    }
}

/// Every user (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    responses(
        (status = 200, description = "OK", body = [UserJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<Vec<UserJson>>, ApiError> {
    principal.require_admin()?;
    let users = state.store.list_sip_users().await?;
    Ok(Json(users.iter().map(UserJson::from).collect()))
}

/// A new user: the password serves the phone (SIP digest) and the web login.
#[derive(Deserialize, ToSchema)]
pub struct NewUserBody {
    number: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    password: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    organiser: bool,
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 {
        return Err(ApiError::invalid("password", "at least 8 characters"));
    }
    Ok(())
}

async fn hash_user(
    number: String,
    name: String,
    realm: String,
    password: String,
) -> Result<SipUser, ApiError> {
    tokio::task::spawn_blocking(move || accounts::new_user(&number, &name, &realm, &password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Add a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin",
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Created", body = UserJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 409, description = "Number or e-mail taken", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn add_user(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<NewUserBody>,
) -> Result<Response, ApiError> {
    principal.require_admin()?;
    let request = body(request, "number", "{\"number\", \"name\", \"password\", …}")?;
    let number = accounts::parse_number(request.number.trim())
        .map_err(|e| ApiError::invalid("number", e))?;
    let name = request.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let email = request
        .email
        .filter(|e| !e.trim().is_empty())
        .map(|e| accounts::parse_email(&e).map_err(|m| ApiError::invalid("email", m)))
        .transpose()?;
    check_password(&request.password)?;
    let mut user = hash_user(number, name, state.realm.clone(), request.password).await?;
    user.email = email;
    user.admin = request.admin;
    user.organiser = request.organiser;
    state.store.put_sip_user(&user, false).await?;
    tracing::info!(user = %user.number, admin = user.admin, organiser = user.organiser, "user added");
    Ok((StatusCode::CREATED, Json(UserJson::from(&user))).into_response())
}

/// Changes to a user; absent keys stay as they are (`email: ""` removes the address).
#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    organiser: Option<bool>,
    /// A new password (phone and web); ends the user's browser sessions.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct UserPath {
    /// The user's number.
    number: String,
}

/// Change a user (administrators).
#[utoipa::path(patch, path = "/api/v1/users/{number}", tag = "admin",
    params(UserPath), request_body = UserPatch,
    responses(
        (status = 200, description = "OK", body = UserJson),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 409, description = "Conflicts with what is stored or running", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn update_user(
    State(state): State<ApiState>,
    principal: Principal,
    Path(UserPath { number }): Path<UserPath>,
    request: Body<UserPatch>,
) -> Result<Json<UserJson>, ApiError> {
    principal.require_admin()?;
    let request = body(
        request,
        "name",
        "{\"name\", \"email\", \"admin\", \"organiser\", …}",
    )?;
    let Some(existing) = state.store.find_sip_user(&number).await? else {
        return Err(ApiError::NotFound(format!("no user {number}")));
    };
    if principal.number.as_deref() == Some(number.as_str()) && request.admin == Some(false) {
        return Err(ApiError::Conflict(
            "you cannot take away your own administrator rights".into(),
        ));
    }
    let name = request.name.map(|n| n.trim().to_owned());
    if name.as_deref() == Some("") {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let email = request
        .email
        .map(|e| {
            accounts::parse_email_or_empty(&e)
                .map(|e| (!e.is_empty()).then_some(e))
                .map_err(|m| ApiError::invalid("email", m))
        })
        .transpose()?;
    if let Some(password) = request.password {
        check_password(&password)?;
        let (old, realm) = (existing.clone(), state.realm.clone());
        let user =
            tokio::task::spawn_blocking(move || accounts::with_password(old, &realm, &password))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        state.store.put_sip_user(&user, true).await?;
        state.store.delete_sessions_of(&number).await?;
        tracing::info!(user = %number, "password changed by an administrator");
    }
    let user = state
        .store
        .update_user(
            &number,
            &UserChanges {
                name,
                email,
                admin: request.admin,
                organiser: request.organiser,
            },
        )
        .await?;
    Ok(Json(UserJson::from(&user)))
}

/// Remove a user (their bindings, sessions, tokens and shares go with them).
#[utoipa::path(delete, path = "/api/v1/users/{number}", tag = "admin",
    params(UserPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 404, description = "No such item, or not one of yours", body = ErrorBody), (status = 409, description = "Conflicts with what is stored or running", body = ErrorBody),
    ))]
pub async fn remove_user(
    State(state): State<ApiState>,
    principal: Principal,
    Path(UserPath { number }): Path<UserPath>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    if principal.number.as_deref() == Some(number.as_str()) {
        return Err(ApiError::Conflict("you cannot remove yourself".into()));
    }
    state.store.remove_sip_user(&number).await?;
    tracing::info!(user = %number, "user removed");
    Ok(StatusCode::NO_CONTENT)
}

/// An API token as listed.
#[derive(Serialize, ToSchema)]
pub struct TokenJson {
    id: i64,
    user: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

/// The caller's API tokens (administrators: everyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account",
    responses(
        (status = 200, description = "OK", body = [TokenJson]),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody),
    ))]
pub async fn list_tokens(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<Vec<TokenJson>>, ApiError> {
    let owner = if principal.admin {
        None
    } else {
        principal.number.as_deref()
    };
    let tokens = state.store.list_api_tokens(owner).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenJson {
                id: t.id,
                user: t.user,
                name: t.name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
            })
            .collect(),
    ))
}

/// A new token's name.
#[derive(Deserialize, ToSchema)]
pub struct NewTokenBody {
    name: String,
}

/// A new token: shown this once, stored only as a hash.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    id: i64,
    name: String,
    /// Send as `Authorization: Bearer TOKEN`.
    token: String,
}

/// Create an API token for the caller.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "account",
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
        (status = 422, description = "Invalid input; the field is named", body = ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<ApiState>,
    principal: Principal,
    request: Body<NewTokenBody>,
) -> Result<Response, ApiError> {
    let request = body(request, "name", "{\"name\": \"…\"}")?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "1 to 100 characters"));
    }
    let Some(user) = &principal.number else {
        return Err(ApiError::invalid(
            "name",
            "the local administrator has no tokens; use konferenz token create --user",
        ));
    };
    let token = auth::secret(TOKEN_PREFIX);
    let stored = state
        .store
        .create_api_token(user, name, &auth::hash(&token))
        .await?;
    tracing::info!(user = %user, id = stored.id, "API token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: stored.id,
            name: stored.name,
            token,
        }),
    )
        .into_response())
}

/// The prefix of API tokens (so that secret scanners and people recognise them).
pub const TOKEN_PREFIX: &str = "kfz_";

#[derive(Deserialize, IntoParams)]
pub struct TokenIdPath {
    /// The token's id.
    id: i64,
}

/// Revoke one of the caller's tokens (administrators: anyone's).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(TokenIdPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 404, description = "No such item, or not one of yours", body = ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<ApiState>,
    principal: Principal,
    Path(TokenIdPath { id }): Path<TokenIdPath>,
) -> Result<StatusCode, ApiError> {
    let owner = if principal.admin {
        None
    } else {
        Some(principal.number.as_deref().unwrap_or_default())
    };
    if !state.store.revoke_api_token(id, owner).await? {
        return Err(ApiError::NotFound(format!("no token {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Trunk and dial-in settings (read-only; secrets left out).
#[utoipa::path(get, path = "/api/v1/settings", tag = "admin",
    responses(
        (status = 200, description = "OK", body = Object),
        (status = 401, description = "Not logged in, or an unknown token", body = ErrorBody), (status = 403, description = "Not allowed for this role", body = ErrorBody),
    ))]
pub async fn settings(
    State(state): State<ApiState>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require_admin()?;
    let t = &state.trunk;
    Ok(Json(serde_json::json!({
        "trunk": {
            "uri": crate::config::hide_url_password(&t.uri),
            "outbound_proxy": t.outbound_proxy.map(|a| a.to_string()),
            "transport": t.transport,
            "username": t.username,
            "password_set": t.password.is_some(),
            "caller_id": t.caller_id,
            "ring_timeout_secs": t.ring_timeout_secs,
            "register": t.register,
            "internal_numbers": t.internal_numbers,
            "internal_uri": t.internal_uri.as_deref().map(crate::config::hide_url_password),
            "external_prefix": t.external_prefix,
        },
        "dialin": {
            "shared_numbers": state.dialin.shared_numbers,
            "external_number": state.dialin.external_number,
        },
        "registrar": { "realm": state.realm },
    })))
}
