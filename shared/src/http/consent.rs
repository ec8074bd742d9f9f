//! Per-channel consent and its history.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;

use super::auth::{Actor, Workspace};
use super::dto::{ConsentHistoryPage, ConsentRequest, ContactBody};
use super::extract::{ApiJson, ContactId, IfMatch, QueryPairs};
use super::problem::Problem;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::model::ConsentSource;
use crate::query::PageRequest;
use crate::{AppState, service};

/// Record consent: each of `sms`, `whatsapp`, `email` may be `subscribed` or
/// `unsubscribed`; a channel left out is unchanged.
#[utoipa::path(
    put, path = "/v1/contacts/{messaging_id}/consent", operation_id = "setConsent", tag = "consent",
    params(("messaging_id" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ConsentRequest,
    responses(
        (status = 200, description = "The contact", body = ContactBody, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn put(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ContactId(id): ContactId,
    IfMatch(if_match): IfMatch,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<impl IntoResponse> {
    let choices = match request.into_update() {
        Ok(choices) => choices,
        Err(error) => return Err(super::contacts::absent_or(&state, &workspace, &id, error).await),
    };
    let catalog = Catalog::load(&state, &workspace).await?;
    let contact = service::record_consent(
        state.contacts.as_ref(),
        &state.audit(&workspace, &actor),
        &id,
        &choices,
        &ConsentSource::api(),
        if_match,
    )
    .await?;
    Ok(super::contacts::contact_response(&contact, &catalog))
}

/// A contact's consent changes, newest first.
#[utoipa::path(
    get, path = "/v1/contacts/{messaging_id}/consent-history", operation_id = "getConsentHistory", tag = "consent",
    params(
        ("messaging_id" = String, Path),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The history", body = ConsentHistoryPage),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn history(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ContactId(id): ContactId,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ConsentHistoryPage>> {
    let page = PageRequest::from_pairs(&pairs)?;
    service::get(state.contacts.as_ref(), &workspace, &id).await?;
    let history = state
        .contacts
        .consent_history(&workspace, &id, &page)
        .await?;
    Ok(Json(history.into()))
}
