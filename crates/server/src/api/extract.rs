//! The request extractors of the API, each answering a malformed request with an
//! [`ApiError`] (the JSON error body) instead of axum's plain-text rejection: [`Path`] (a
//! path parameter that does not parse → 400 naming it), [`Query`] (→ 422 naming the query
//! parameter), [`Body`] with [`body`] (a JSON body → 422 naming the field the handler
//! gives) and [`RawBody`] (an upload; too large → 413). Messages say what was expected in
//! the API's terms — never axum's wording or the names of Rust types.

use std::error::Error as _;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use serde::de::DeserializeOwned;

use super::ApiError;

/// `axum::extract::Path`, with a malformed parameter answered as `400 bad_request` whose
/// `field` is the parameter's name (`call`, `id`, …).
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_error(rejection)),
        }
    }
}

/// What a path parameter of this Rust type must look like, in words.
fn expected(rust_type: &str) -> &'static str {
    match rust_type {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "bool" => "true or false",
        _ => "a valid value",
    }
}

fn path_error(rejection: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
        // No parameters for the matched route: a mistake in our routes.
        return ApiError::Internal(rejection.body_text());
    };
    match failed.into_kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => {
            let message = format!("expected {}, not {value:?}", expected(expected_type));
            ApiError::bad_path(key, message)
        }
        ErrorKind::DeserializeError { key, value, .. } => {
            ApiError::bad_path(key, format!("{value:?} is not valid here"))
        }
        ErrorKind::InvalidUtf8InPathParam { key } => {
            ApiError::bad_path(key, "is not valid UTF-8 once percent-decoded")
        }
        ErrorKind::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        }
        | ErrorKind::ParseError {
            value,
            expected_type,
        } => ApiError::BadPath {
            field: None,
            message: format!(
                "a path parameter: expected {}, not {value:?}",
                expected(expected_type)
            ),
        },
        // The wrong number of parameters, an unsupported type: a mistake in our routes.
        other => ApiError::Internal(other.to_string()),
    }
}

/// `axum::extract::Query`, with a query string that does not fit answered as
/// `422 invalid` naming the parameter at fault (when one alone is).
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_error::<T>(&parts.uri, &rejection)),
        }
    }
}

/// The query's error, naming the first parameter that does not parse on its own.
pub fn query_error<T: DeserializeOwned>(uri: &Uri, rejection: &QueryRejection) -> ApiError {
    let detail = match rejection {
        QueryRejection::FailedToDeserializeQueryString(e) => e.source().map(ToString::to_string),
        _ => None,
    };
    let detail = public(&detail.unwrap_or_else(|| "not a valid query string".to_owned()));
    let culprit = uri.query().unwrap_or_default().split('&').find_map(|pair| {
        let alone: Uri = format!("/?{pair}").parse().ok()?;
        axum::extract::Query::<T>::try_from_uri(&alone).err()?;
        let axum::extract::Query(named) =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&alone).ok()?;
        named.into_iter().next().map(|(key, _)| key)
    });
    match culprit {
        Some(key) => {
            let message = detail
                .strip_prefix(&format!("{key}: "))
                .unwrap_or(&detail)
                .to_owned();
            ApiError::invalid(key, message)
        }
        None => ApiError::invalid("query", detail),
    }
}

/// A JSON body, or why it could not be read; [`body`] turns the latter into an
/// [`ApiError`]. (Taken as a `Result` so that a handler can check the caller's rights
/// before it looks at the body.)
pub type Body<T> = Result<Json<T>, JsonRejection>;

/// The body, or an error naming `field` and the `expected` shape: `422 invalid` for a
/// missing `Content-Type: application/json`, JSON that does not parse or does not fit;
/// `413 too_large` past the size limit.
pub fn body<T>(body: Body<T>, field: &'static str, expected: &str) -> Result<T, ApiError> {
    let rejection = match body {
        Ok(Json(value)) => return Ok(value),
        Err(rejection) => rejection,
    };
    let problem = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send it as JSON (Content-Type: application/json)".to_owned()
        }
        JsonRejection::JsonSyntaxError(e) => format!(
            "not valid JSON ({})",
            e.source()
                .map_or_else(|| "syntax error".to_owned(), |s| public(&s.to_string()))
        ),
        JsonRejection::JsonDataError(e) => e
            .source()
            .map_or_else(|| "does not fit".to_owned(), |s| public(&s.to_string())),
        JsonRejection::BytesRejection(e) => return Err(bytes_error(e)),
        _ => "cannot be read".to_owned(),
    };
    Err(ApiError::invalid(
        field,
        format!("expected {expected}: {problem}"),
    ))
}

/// The request body as bytes (an upload); past the size limit `413 too_large`.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(|e| bytes_error(&e))
    }
}

fn bytes_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(super::MAX_BODY_BYTES)
    } else {
        ApiError::BadBody
    }
}

/// A deserialisation message as clients may see it: serde names the Rust types it
/// expected (`expected struct NewRoomBody with 5 elements`, `… untagged enum Participant`);
/// those become what they are in JSON.
pub fn public(message: &str) -> String {
    const QUALIFIERS: &[&str] = &[
        "unit",
        "tuple",
        "newtype",
        "untagged",
        "internally",
        "adjacently",
        "tagged",
    ];
    let words: Vec<&str> = message.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        // [qualifiers] struct|enum|variant Name[punctuation]
        let mut j = i;
        while j < words.len() && QUALIFIERS.contains(&words[j]) {
            j += 1;
        }
        let kind = words.get(j).copied().unwrap_or_default();
        let name = words.get(j + 1).copied().unwrap_or_default();
        let is_type = matches!(kind, "struct" | "enum" | "variant")
            && name.starts_with(|c: char| c.is_ascii_uppercase());
        if !is_type {
            out.push(words[i].to_owned());
            i += 1;
            continue;
        }
        let mut tail =
            name.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        i = j + 2;
        // `with 5 elements`: serde would take the fields from an array, too.
        if words.get(i) == Some(&"with")
            && words.get(i + 2).is_some_and(|w| w.starts_with("element"))
        {
            tail = words[i + 2].trim_start_matches(char::is_alphabetic);
            i += 3;
        }
        let shown = if kind == "struct" {
            "an object"
        } else {
            "one of the documented forms"
        };
        out.push(format!("{shown}{tail}"));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_type_names_do_not_reach_clients() {
        for (serde, shown) in [
            (
                "invalid length 0, expected struct NewRoomBody with 5 elements at line 1 column 2",
                "invalid length 0, expected an object at line 1 column 2",
            ),
            (
                "numbers[0]: invalid type: string \"5\", expected struct NumberJson at line 1 column 29",
                "numbers[0]: invalid type: string \"5\", expected an object at line 1 column 29",
            ),
            (
                "invalid type: integer `1`, expected struct LoginBody",
                "invalid type: integer `1`, expected an object",
            ),
            (
                "participants[0]: data did not match any variant of untagged enum Participant at line 1 column 40",
                "participants[0]: data did not match any variant of one of the documented forms at line 1 column 40",
            ),
            (
                "invalid type: null, expected unit struct Marker",
                "invalid type: null, expected an object",
            ),
            (
                "missing field `login` at line 1 column 2",
                "missing field `login` at line 1 column 2",
            ),
            (
                "unknown variant `fr`, expected `en` or `de`",
                "unknown variant `fr`, expected `en` or `de`",
            ),
        ] {
            assert_eq!(public(serde), shown, "{serde}");
        }
    }
}
