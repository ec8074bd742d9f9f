//! Every error leaves the API here, once, as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError};

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong in this case, for a person.
    pub detail: String,
    /// Each invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The contact the problem is about: the one that already holds a
    /// duplicate External ID, or the one of a merge that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messaging_id: Option<String>,
    /// The contact a merged-away Messaging ID now names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

impl Error {
    /// The HTTP status and the title of this error.
    pub fn status_and_title(&self) -> (StatusCode, &'static str) {
        let (status, _, title) = self.status_and_kind();
        (status, title)
    }

    fn status_and_kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Error::Validation(_) => (StatusCode::BAD_REQUEST, "validation", "Invalid input"),
            Error::MalformedBody(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
            ),
            Error::BodyTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
            ),
            Error::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Error::ContactNotFound(_) => (
                StatusCode::NOT_FOUND,
                "contact-not-found",
                "Contact not found",
            ),
            Error::ContactMerged { .. } => {
                (StatusCode::NOT_FOUND, "contact-merged", "Contact merged")
            }
            Error::ListNotFound(_) => (StatusCode::NOT_FOUND, "list-not-found", "List not found"),
            Error::ImportNotFound(_) => (
                StatusCode::NOT_FOUND,
                "import-not-found",
                "Import not found",
            ),
            Error::ExportNotFound(_) => (
                StatusCode::NOT_FOUND,
                "export-not-found",
                "Export not found",
            ),
            Error::ScanNotFound(_) => (StatusCode::NOT_FOUND, "scan-not-found", "Scan not found"),
            Error::AttributeNotFound(_) => (
                StatusCode::NOT_FOUND,
                "attribute-not-found",
                "Attribute not found",
            ),
            Error::NameTaken { .. } => (StatusCode::CONFLICT, "name-taken", "Name already in use"),
            Error::AttributeHasValues(_) => (
                StatusCode::CONFLICT,
                "attribute-has-values",
                "Attribute has values",
            ),
            Error::LinkRefused(_) => (StatusCode::FORBIDDEN, "link-refused", "Link refused"),
            Error::UnknownHost(_) => (
                StatusCode::MISDIRECTED_REQUEST,
                "unknown-host",
                "Unknown host",
            ),
            Error::RouteNotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Error::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Error::Suppressed { .. } => {
                (StatusCode::CONFLICT, "suppressed", "Erased or suppressed")
            }
            Error::SuppressionNotFound(_) => (
                StatusCode::NOT_FOUND,
                "suppression-not-found",
                "Suppression not found",
            ),
            Error::DuplicateExternalId { .. } | Error::ExternalIdsTaken(_) => (
                StatusCode::CONFLICT,
                "duplicate-external-id",
                "External ID already in use",
            ),
            Error::PreconditionFailed { .. } | Error::ContactChanged { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Contact changed since it was read",
            ),
            Error::UsageLimitReached { .. } => (
                StatusCode::FORBIDDEN,
                "usage-limit-reached",
                "Contact limit reached",
            ),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Error::Unexpected(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, _, _) = self.status_and_kind();
        self.respond(status)
    }
}

impl Error {
    /// A merged-away contact read: 308 to the contact it was merged into,
    /// with the problem document that says so. Any other error as usual.
    pub fn redirect_merged(self) -> Response {
        let Error::ContactMerged { into, .. } = &self else {
            return self.into_response();
        };
        let location = HeaderValue::from_str(&format!("/v1/contacts/{into}"));
        let mut response = self.respond(StatusCode::PERMANENT_REDIRECT);
        if let Ok(location) = location {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }

    fn respond(self, status: StatusCode) -> Response {
        let (_, kind, title) = self.status_and_kind();
        let detail = match &self {
            Error::Unexpected(cause) => {
                tracing::error!(error = ?cause, "request failed");
                "something went wrong on our side; the request may be retried".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            axum::Json(Problem {
                kind: format!("/problems/{kind}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail,
                messaging_id: match &self {
                    Error::DuplicateExternalId { holder: id, .. }
                    | Error::ContactChanged { id, .. } => Some(id.to_string()),
                    _ => None,
                },
                merged_into: match &self {
                    Error::ContactMerged { into, .. } => Some(into.to_string()),
                    _ => None,
                },
                errors: match self {
                    Error::Validation(errors) => errors,
                    other => other.suppressed_field().into_iter().collect(),
                },
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
