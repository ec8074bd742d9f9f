//! IDs in console paths: a malformed one names nothing, shown as a page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{Console, Failure};
use crate::http::extract::ContactId;
use crate::model::MessagingId;

/// The contact a console path names.
pub struct PathContact(pub MessagingId);

impl FromRequestParts<Console> for PathContact {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Failure> {
        let ContactId(id) = ContactId::from_request_parts(parts, console).await?;
        Ok(Self(id))
    }
}
