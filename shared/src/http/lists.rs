//! Contact lists and their members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::auth::{Actor, Workspace};
use super::dto::{ContactPage, ListBody, ListNameRequest, MembersRequest, MembersResult};
use super::extract::{ApiJson, PathParams, QueryPairs};
use super::listing::page_of;
use super::problem::Problem;
use crate::catalog::{self, Catalog};
use crate::error::{Error, Result};
use crate::model::{ContactList, ListId, MessagingId, WorkspaceId};
use crate::query::{ContactFilter, ListRequest};
use crate::{AppState, service};

/// The most contacts one request may add to a list.
pub const MAX_MEMBERS_PER_REQUEST: usize = 500;

fn list_id(raw: &str) -> Result<ListId> {
    ListId::parse(raw).map_err(|_| Error::ListNotFound(raw.to_owned()))
}

async fn body(state: &AppState, workspace: &WorkspaceId, list: &ContactList) -> Result<ListBody> {
    let members = state.lists.member_count(workspace, &list.id).await?;
    Ok(ListBody::new(list, members))
}

/// Every list of the workspace, by name, with member counts.
#[utoipa::path(
    get, path = "/v1/lists", operation_id = "listLists", tag = "lists",
    responses((status = 200, description = "The lists", body = Vec<ListBody>)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<Json<Vec<ListBody>>> {
    let mut bodies = Vec::new();
    for list in state.lists.lists(&workspace).await? {
        bodies.push(body(&state, &workspace, &list).await?);
    }
    Ok(Json(bodies))
}

/// Create a list; names are unique in the workspace, ignoring case.
#[utoipa::path(
    post, path = "/v1/lists", operation_id = "createList", tag = "lists",
    request_body = ListNameRequest,
    responses(
        (status = 201, description = "Created", body = ListBody,
            links(
                ("get" = (operation_id = "getList", parameters(("id" = "$response.body#/id")))),
                ("rename" = (operation_id = "renameList", parameters(("id" = "$response.body#/id")))),
                ("delete" = (operation_id = "deleteList", parameters(("id" = "$response.body#/id")))),
                ("members" = (operation_id = "listMembers", parameters(("id" = "$response.body#/id")))),
                ("addMembers" = (operation_id = "addMembers", parameters(("id" = "$response.body#/id")))),
                ("removeMember" = (operation_id = "removeMember", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 409, description = "Name in use", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<ListNameRequest>,
) -> Result<(StatusCode, Json<ListBody>)> {
    let list =
        catalog::create_list(&state, &state.audit(&workspace, &actor), request.parse()?).await?;
    Ok((StatusCode::CREATED, Json(ListBody::new(&list, 0))))
}

/// A list and its member count.
#[utoipa::path(
    get, path = "/v1/lists/{id}", operation_id = "getList", tag = "lists",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The list", body = ListBody),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    PathParams(id): PathParams<String>,
) -> Result<Json<ListBody>> {
    let list = catalog::get_list(&state, &workspace, &list_id(&id)?).await?;
    Ok(Json(body(&state, &workspace, &list).await?))
}

/// Rename a list.
#[utoipa::path(
    patch, path = "/v1/lists/{id}", operation_id = "renameList", tag = "lists",
    params(("id" = String, Path)),
    request_body = ListNameRequest,
    responses(
        (status = 200, description = "Renamed", body = ListBody),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name in use", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn rename(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(id): PathParams<String>,
    ApiJson(request): ApiJson<ListNameRequest>,
) -> Result<Json<ListBody>> {
    let id = list_id(&id)?;
    let name = request.parse()?;
    catalog::rename_list(&state, &state.audit(&workspace, &actor), &id, &name).await?;
    let list = catalog::get_list(&state, &workspace, &id).await?;
    Ok(Json(body(&state, &workspace, &list).await?))
}

/// Delete a list: its memberships go, its contacts stay.
#[utoipa::path(
    delete, path = "/v1/lists/{id}", operation_id = "deleteList", tag = "lists",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode> {
    let id = list_id(&id)?;
    catalog::delete_list(&state, &state.audit(&workspace, &actor), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The list's members, newest first, with the same filters, columns and
/// paging as `GET /v1/contacts`.
#[utoipa::path(
    get, path = "/v1/lists/{id}/contacts", operation_id = "listMembers", tag = "lists",
    params(("id" = String, Path), ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"), ("cursor" = Option<String>, Query)),
    responses(
        (status = 200, description = "A page of members", body = ContactPage),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn members(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    PathParams(id): PathParams<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ContactPage>> {
    let id = list_id(&id)?;
    let catalog = Catalog::load(&state, &workspace).await?;
    if catalog.list(&id).is_none() {
        return Err(Error::ListNotFound(id.to_string()));
    }
    if pairs.iter().any(|(key, _)| key == "list") {
        return Err(Error::invalid("list", "the list is given by the path"));
    }
    let mut request = ListRequest::from_pairs(&pairs, &catalog.attributes)?;
    request.query.filters.insert(0, ContactFilter::InList(id));
    page_of(&state, &workspace, &catalog, request).await
}

/// Add contacts to a list (at most 500 a request); contacts already in it
/// stay, unknown IDs are reported.
#[utoipa::path(
    post, path = "/v1/lists/{id}/contacts", operation_id = "addMembers", tag = "lists",
    params(("id" = String, Path)),
    request_body = MembersRequest,
    responses(
        (status = 200, description = "What was added", body = MembersResult),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn add_members(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(id): PathParams<String>,
    ApiJson(request): ApiJson<MembersRequest>,
) -> Result<Json<MembersResult>> {
    let id = list_id(&id)?;
    catalog::get_list(&state, &workspace, &id).await?;
    if request.messaging_ids.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(Error::invalid(
            "messaging_ids",
            format!("at most {MAX_MEMBERS_PER_REQUEST} a request"),
        ));
    }
    let mut result = MembersResult {
        added: Vec::new(),
        not_found: Vec::new(),
    };
    let audit = state.audit(&workspace, &actor);
    for raw in request.messaging_ids {
        let Ok(contact) = MessagingId::parse(&raw) else {
            result.not_found.push(raw);
            continue;
        };
        match service::add_to_list(state.contacts.as_ref(), &audit, &contact, &id).await {
            Ok(_) => result.added.push(contact.to_string()),
            Err(Error::ContactNotFound(_)) => result.not_found.push(raw),
            Err(error) => return Err(error),
        }
    }
    Ok(Json(result))
}

/// Remove a contact from a list.
#[utoipa::path(
    delete, path = "/v1/lists/{id}/contacts/{messaging_id}", operation_id = "removeMember", tag = "lists",
    params(("id" = String, Path), ("messaging_id" = String, Path)),
    responses(
        (status = 204, description = "Removed (or was not a member)"),
        (status = 404, description = "No such list or contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams((id, contact)): PathParams<(String, String)>,
) -> Result<StatusCode> {
    let id = list_id(&id)?;
    catalog::get_list(&state, &workspace, &id).await?;
    let contact = MessagingId::parse(&contact).map_err(|_| Error::ContactNotFound(contact))?;
    service::remove_from_list(
        state.contacts.as_ref(),
        &state.audit(&workspace, &actor),
        &contact,
        &id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
