//! The one error type callers branch on; `http::problem` maps it to HTTP.

use crate::model::MessagingId;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid input, named by the field (a JSON path, a query parameter, or
/// later a CSV row and column) it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Where the bad value was found, e.g. `phone` or `consent.sms`.
    pub field: String,
    /// What is wrong with it, written for a person.
    pub message: String,
}

impl FieldError {
    /// A field error from anything that names a field and a message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in the contacts domain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was rejected; every bad field is listed.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// The request body could not be read as the expected JSON document.
    #[error("{0}")]
    MalformedBody(String),
    /// The request body is larger than the API accepts.
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The request body is not JSON.
    #[error("the request body must be sent as application/json")]
    UnsupportedMediaType,
    /// No contact with this Messaging ID exists in the workspace.
    #[error("no contact has Messaging ID {0}")]
    ContactNotFound(String),
    /// The contact with this Messaging ID was merged into another.
    #[error("contact {id} was merged into contact {into}")]
    ContactMerged { id: MessagingId, into: MessagingId },
    /// No list with this ID exists in the workspace.
    #[error("no list has ID {0}")]
    ListNotFound(String),
    /// No import with this ID exists in the workspace.
    #[error("no import has ID {0}")]
    ImportNotFound(String),
    /// No export with this ID exists in the workspace.
    #[error("no export has ID {0}")]
    ExportNotFound(String),
    /// No suppression with this ID exists in the workspace.
    #[error("no suppression has ID {0}")]
    SuppressionNotFound(String),
    /// An identifier a standing suppression holds.
    #[error("{field} was {} on {}", reason_word(.reason), .since.format("%Y-%m-%d"))]
    Suppressed {
        field: &'static str,
        reason: crate::privacy::suppression::SuppressionReason,
        since: chrono::DateTime<chrono::Utc>,
    },
    /// No scan for similar names with this ID exists in the workspace.
    #[error("no scan has ID {0}")]
    ScanNotFound(String),
    /// No custom attribute has this name in the workspace.
    #[error("no custom attribute is named {0:?}")]
    AttributeNotFound(String),
    /// Another list or attribute of the workspace already has this name.
    #[error("a {kind} named {name:?} already exists")]
    NameTaken { kind: &'static str, name: String },
    /// Contacts hold values of this attribute, so its type can't change.
    #[error(
        "contacts hold values of attribute {0:?}, which its new type could make invalid; \
         clear them (or create a new attribute) first"
    )]
    AttributeHasValues(String),
    /// A shared link was tampered with, has expired, or is used for another
    /// method or content type than it was made for.
    #[error("{0}")]
    LinkRefused(String),
    /// The request names a host this server does not answer for (a web
    /// page reaching a local server through DNS rebinding names its own).
    #[error(
        "this server does not answer for the host {0:?}; add it to CONTACTS_ALLOWED_HOSTS to allow it"
    )]
    UnknownHost(String),
    /// The path names nothing this API serves.
    #[error("no such resource: {0}")]
    RouteNotFound(String),
    /// The path exists, but not for this method.
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// Another contact of the workspace already holds this External ID.
    #[error("external ID {external_id:?} is already used by contact {holder}")]
    DuplicateExternalId {
        external_id: String,
        holder: MessagingId,
    },
    /// Other contacts hold these External IDs (each with its holder): the
    /// creates of a batch that lost them; the rest of the batch was written.
    #[error("{} External IDs are already used by other contacts", .0.len())]
    ExternalIdsTaken(Vec<(String, MessagingId)>),
    /// The write was conditional on a version that is no longer current.
    #[error("the contact has changed since version {expected} was read")]
    PreconditionFailed { expected: u64 },
    /// A contact of a merge has changed since the version the caller saw.
    #[error("contact {id} has changed since version {expected} was shown")]
    ContactChanged { id: MessagingId, expected: u64 },
    /// The workspace holds as many contacts as its plan allows.
    #[error("the workspace has reached its limit of {limit} contacts")]
    UsageLimitReached { limit: u64 },
    /// The request carried no credentials, or unknown ones.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Anything the caller cannot act on; logged, never shown.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    /// The error for a person: each invalid field with its message, or the
    /// error itself.
    pub fn in_words(&self) -> String {
        match self {
            Error::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }

    /// The field error of a `Suppressed`: the field, and "erased on <date>".
    pub fn suppressed_field(&self) -> Option<FieldError> {
        match self {
            Error::Suppressed {
                field,
                reason,
                since,
            } => Some(FieldError::new(
                *field,
                format!("{} on {}", reason_word(reason), since.format("%Y-%m-%d")),
            )),
            _ => None,
        }
    }

    /// A validation error about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

/// How a suppression came to be, in a sentence.
fn reason_word(reason: &crate::privacy::suppression::SuppressionReason) -> &'static str {
    match reason {
        crate::privacy::suppression::SuppressionReason::Erased => "erased",
        crate::privacy::suppression::SuppressionReason::Requested => "suppressed",
    }
}

/// Collects field errors so that a request reports every bad field at once.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    /// Keeps the value of `result`, or records its message under `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|e| self.errors.push(FieldError::new(field, e.to_string())))
            .ok()
    }

    /// Records a message under `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Keeps the value of `result`, or records its field errors.
    pub fn merge<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Error::Validation(errors)) => {
                self.errors.extend(errors);
                None
            }
            Err(other) => {
                self.errors.push(FieldError::new("", other.to_string()));
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else every recorded error.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

/// A stored value that no longer passes validation is the store's fault.
impl From<crate::model::InvalidValue> for Error {
    fn from(value: crate::model::InvalidValue) -> Self {
        Error::Unexpected(anyhow::anyhow!(
            "a stored value is no longer valid: {value}"
        ))
    }
}
