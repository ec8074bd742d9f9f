//! Extractors that turn every kind of bad input into a clear [`Error`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError, Result};
use crate::model::{JsonObject, MessagingId};

/// The largest JSON body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON object body; bad JSON, wrong types and unknown fields name the
/// field. Every body of the API is an object, read as [`JsonObject`].
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        if !is_json(request.headers()) {
            return Err(Error::UnsupportedMediaType);
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection {
                    BytesRejection::FailedToBufferBody(_)
                        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                    {
                        Error::BodyTooLarge { limit: BODY_LIMIT }
                    }
                    other => Error::MalformedBody(other.body_text()),
                })?;
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        let JsonObject(value) =
            serde_path_to_error::deserialize(&mut *deserializer).map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if inner.is_data() {
                    let message = inner.to_string();
                    let message = message
                        .rsplit_once(" at line ")
                        .map_or(&*message, |(m, _)| m);
                    Error::Validation(vec![FieldError::new(path, message)])
                } else {
                    malformed(&inner)
                }
            })?;
        deserializer.end().map_err(|e| malformed(&e))?;
        Ok(Self(value))
    }
}

fn malformed(error: &serde_json::Error) -> Error {
    Error::MalformedBody(format!("the body is not valid JSON: {error}"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"))
}

/// The query string as ordered key-value pairs.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(|e| Error::invalid("query", format!("the query string is malformed: {e}")))
    }
}

/// The contact a path names; a malformed ID names no contact.
pub struct ContactId(pub MessagingId);

impl<S: Send + Sync> FromRequestParts<S> for ContactId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let PathParams(raw) = PathParams::<String>::from_request_parts(parts, state).await?;
        MessagingId::parse(&raw)
            .map(Self)
            .map_err(|_| Error::ContactNotFound(raw))
    }
}

/// The version an `If-Match` header requires, if any (`*` or an empty
/// header requires none).
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(Self(None));
        };
        let invalid = || {
            Error::invalid(
                "If-Match",
                "must be an ETag this API returned, like \"3\", or *",
            )
        };
        let text = value.to_str().map_err(|_| invalid())?.trim();
        // `*`, or an empty header (as if left out): no version required.
        if text == "*" || text.is_empty() {
            return Ok(Self(None));
        }
        text.trim_start_matches("W/")
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .and_then(|version| version.parse().ok())
            .map(|version| Self(Some(version)))
            .ok_or_else(invalid)
    }
}

/// The `ETag` header for a contact version.
pub fn etag(version: u64) -> [(HeaderName, String); 1] {
    [(ETAG, format!("\"{version}\""))]
}

/// Path parameters; a path that doesn't fit names nothing (404).
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(params)| Self(params))
            .map_err(|_| Error::RouteNotFound(parts.uri.path().to_owned()))
    }
}
