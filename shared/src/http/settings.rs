//! Workspace settings: the All Contacts table's visible columns.

use axum::Json;
use axum::extract::State;

use super::auth::{Actor, Workspace};
use super::dto::ColumnsBody;
use super::extract::ApiJson;
use crate::error::Result;
use crate::query::ColumnChoice;
use crate::{AppState, catalog};

fn body(columns: &[ColumnChoice]) -> ColumnsBody {
    ColumnsBody {
        columns: columns.iter().map(|c| c.name().to_owned()).collect(),
    }
}

/// The visible columns (the default until saved).
#[utoipa::path(
    get, path = "/v1/settings/columns", operation_id = "getColumns", tag = "settings",
    responses((status = 200, description = "The columns", body = ColumnsBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<Json<ColumnsBody>> {
    Ok(Json(body(&catalog::columns(&state, &workspace).await?)))
}

/// Save the visible columns: generic or custom attribute names, in order.
#[utoipa::path(
    put, path = "/v1/settings/columns", operation_id = "saveColumns", tag = "settings",
    request_body = ColumnsBody,
    responses(
        (status = 200, description = "Saved", body = ColumnsBody),
    ),
)]
pub async fn put(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<ColumnsBody>,
) -> Result<Json<ColumnsBody>> {
    let columns =
        catalog::save_columns(&state, &state.audit(&workspace, &actor), &request.columns).await?;
    Ok(Json(body(&columns)))
}
