//! The workspace's attribute schema: generic attributes (read-only) and
//! custom ones.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::auth::{Actor, Workspace};
use super::dto::{AttributeBody, CreateAttributeRequest, EditAttributeRequest};
use super::extract::{ApiJson, PathParams};
use super::problem::Problem;
use crate::error::{Error, Result};
use crate::model::{AttributeName, Column};
use crate::{AppState, catalog};

fn generic(column: Column) -> AttributeBody {
    let kind = match column {
        Column::CreatedAt | Column::UpdatedAt => "datetime",
        _ => "text",
    };
    AttributeBody {
        name: column.name().to_owned(),
        label: column.name().replace('_', " "),
        kind: kind.to_owned(),
        read_only: true,
    }
}

/// Every attribute: the generic ones (read-only), then the custom ones.
#[utoipa::path(
    get, path = "/v1/attributes", operation_id = "listAttributes", tag = "attributes",
    responses((status = 200, description = "The schema", body = Vec<AttributeBody>)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<Json<Vec<AttributeBody>>> {
    let custom = state.schema.attributes(&workspace).await?;
    Ok(Json(
        Column::ALL
            .into_iter()
            .map(generic)
            .chain(custom.iter().map(AttributeBody::from))
            .collect(),
    ))
}

/// Define a custom attribute.
#[utoipa::path(
    post, path = "/v1/attributes", operation_id = "createAttribute", tag = "attributes",
    request_body = CreateAttributeRequest,
    responses(
        (status = 201, description = "Defined", body = AttributeBody,
            links(
                ("edit" = (operation_id = "editAttribute", parameters(("name" = "$response.body#/name")))),
                ("delete" = (operation_id = "deleteAttribute", parameters(("name" = "$response.body#/name")))),
            )),
        (status = 409, description = "Name in use", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<CreateAttributeRequest>,
) -> Result<(StatusCode, Json<AttributeBody>)> {
    let (name, label, kind) = request.parse()?;
    let definition =
        catalog::create_attribute(&state, &state.audit(&workspace, &actor), name, label, kind)
            .await?;
    Ok((StatusCode::CREATED, Json(AttributeBody::from(&definition))))
}

fn custom_name(raw: &str) -> Result<AttributeName> {
    AttributeName::parse(raw).map_err(|_| Error::AttributeNotFound(raw.to_owned()))
}

/// Change a custom attribute's label or type. A type change is refused (409)
/// while contacts hold values of the attribute.
#[utoipa::path(
    patch, path = "/v1/attributes/{name}", operation_id = "editAttribute", tag = "attributes",
    params(("name" = String, Path)),
    request_body = EditAttributeRequest,
    responses(
        (status = 200, description = "Changed", body = AttributeBody),
        (status = 404, description = "No such attribute", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Values exist", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn edit(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(name): PathParams<String>,
    ApiJson(request): ApiJson<EditAttributeRequest>,
) -> Result<Json<AttributeBody>> {
    let name = custom_name(&name)?;
    let (label, kind) = request.parse()?;
    let definition =
        catalog::update_attribute(&state, &state.audit(&workspace, &actor), &name, label, kind)
            .await?;
    Ok(Json(AttributeBody::from(&definition)))
}

/// Delete a custom attribute. Its values stay stored with the contacts but
/// are never shown or filtered again (they are keyed by the definition's
/// internal ID), and a new attribute of the same name starts empty.
#[utoipa::path(
    delete, path = "/v1/attributes/{name}", operation_id = "deleteAttribute", tag = "attributes",
    params(("name" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such attribute", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(name): PathParams<String>,
) -> Result<StatusCode> {
    let name = custom_name(&name)?;
    catalog::delete_attribute(&state, &state.audit(&workspace, &actor), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
