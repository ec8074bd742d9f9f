//! Create, read, edit and delete one contact.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::IntoResponse;

use super::auth::{Actor, Workspace};
use super::dto::{ContactBody, CreateContactRequest, EditContactRequest, ListRef};
use super::extract::{ApiJson, ContactId, IfMatch, etag};
use super::problem::Problem;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::{ConsentSource, MessagingId, WorkspaceId};
use crate::{AppState, service};

/// The response for one contact: its JSON and its `ETag`.
pub(super) fn contact_response(
    contact: &crate::model::Contact,
    catalog: &Catalog,
) -> impl IntoResponse + use<> {
    (
        etag(contact.version),
        Json(ContactBody::new(contact, catalog)),
    )
}

/// Create a contact.
#[utoipa::path(
    post, path = "/v1/contacts", operation_id = "createContact", tag = "contacts",
    request_body = CreateContactRequest,
    responses(
        (status = 201, description = "Created", body = ContactBody,
            headers(("ETag" = String), ("Location" = String)),
            links(
                ("get" = (operation_id = "getContact", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("edit" = (operation_id = "editContact", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("delete" = (operation_id = "deleteContact", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("consent" = (operation_id = "setConsent", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("consentHistory" = (operation_id = "getConsentHistory", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("lists" = (operation_id = "getContactLists", parameters(("messaging_id" = "$response.body#/messaging_id")))),
            )),
        (status = 403, description = "Contact limit reached", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "External ID already in use, or an identifier erased or suppressed (the problem names the field)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<CreateContactRequest>,
) -> Result<impl IntoResponse> {
    let catalog = Catalog::load(&state, &workspace).await?;
    let contact = crate::privacy::service::create(
        &state,
        &state.audit(&workspace, &actor),
        request.into_new_contact(&catalog)?,
        &ConsentSource::api(),
    )
    .await?;
    let location = [(LOCATION, format!("/v1/contacts/{}", contact.messaging_id))];
    Ok((
        StatusCode::CREATED,
        location,
        contact_response(&contact, &catalog),
    ))
}

/// A contact's details.
#[utoipa::path(
    get, path = "/v1/contacts/{messaging_id}", operation_id = "getContact", tag = "contacts",
    params(("messaging_id" = String, Path)),
    responses(
        (status = 200, description = "The contact", body = ContactBody, headers(("ETag" = String))),
        (status = 308, description = "The contact was merged into the one `Location` names (and `merged_into` in the body)", body = Problem,
            content_type = "application/problem+json", headers(("Location" = String))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ContactId(id): ContactId,
) -> Result<axum::response::Response> {
    let (found, catalog) = tokio::join!(
        service::get(state.contacts.as_ref(), &workspace, &id),
        Catalog::load(&state, &workspace)
    );
    match found {
        Ok(contact) => Ok(contact_response(&contact, &catalog?).into_response()),
        Err(merged @ Error::ContactMerged { .. }) => Ok(merged.redirect_merged()),
        Err(error) => Err(error),
    }
}

/// Edit generic attributes; `null` clears a field. With `If-Match`, a stale
/// version is refused with 412 and nothing changes.
#[utoipa::path(
    patch, path = "/v1/contacts/{messaging_id}", operation_id = "editContact", tag = "contacts",
    params(("messaging_id" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = EditContactRequest,
    responses(
        (status = 200, description = "The edited contact", body = ContactBody, headers(("ETag" = String))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "External ID already in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn edit(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ContactId(id): ContactId,
    IfMatch(if_match): IfMatch,
    ApiJson(request): ApiJson<EditContactRequest>,
) -> Result<impl IntoResponse> {
    let catalog = Catalog::load(&state, &workspace).await?;
    let changes = match request.into_changes(&catalog) {
        Ok(changes) => changes,
        // A missing contact is a 404 whatever the body says.
        Err(error) => return Err(absent_or(&state, &workspace, &id, error).await),
    };
    let audit = state.audit(&workspace, &actor);
    let contact = crate::privacy::service::edit(&state, &audit, &id, changes, if_match).await?;
    Ok(contact_response(&contact, &catalog))
}

/// `ContactNotFound` when the contact is missing, else `error`: an
/// operation on a contact that doesn't exist is a 404 before its body is a
/// 400.
pub(super) async fn absent_or(
    state: &AppState,
    workspace: &WorkspaceId,
    id: &MessagingId,
    error: Error,
) -> Error {
    match service::get(state.contacts.as_ref(), workspace, id).await {
        Ok(_) => error,
        Err(missing) => missing,
    }
}

/// Delete a contact permanently, with its consent history.
#[utoipa::path(
    delete, path = "/v1/contacts/{messaging_id}", operation_id = "deleteContact", tag = "contacts",
    params(("messaging_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ContactId(id): ContactId,
) -> Result<StatusCode> {
    service::delete(
        state.contacts.as_ref(),
        &state.audit(&workspace, &actor),
        &id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The lists a contact belongs to.
#[utoipa::path(
    get, path = "/v1/contacts/{messaging_id}/lists", operation_id = "getContactLists", tag = "contacts",
    params(("messaging_id" = String, Path)),
    responses(
        (status = 200, description = "Its lists, by name", body = Vec<ListRef>),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn lists(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ContactId(id): ContactId,
) -> Result<Json<Vec<ListRef>>> {
    let (contact, catalog) = tokio::try_join!(
        service::get(state.contacts.as_ref(), &workspace, &id),
        Catalog::load(&state, &workspace)
    )?;
    Ok(Json(
        catalog
            .existing_lists(&contact.lists)
            .map(|l| ListRef {
                id: l.id.to_string(),
                name: l.name.to_string(),
            })
            .collect(),
    ))
}
