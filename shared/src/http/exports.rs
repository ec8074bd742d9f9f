//! CSV exports: start one (filter and columns), follow it, get a fresh
//! download link, list them.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Workspace;
use super::extract::{ApiJson, PathParams, QueryPairs};
use super::problem::Problem;
use crate::AppState;
use crate::error::{Error, Result};
use crate::export::job::{ExportJob, ExportStatus};
use crate::export::request::ExportRequest;
use crate::export::service::{self, DEFAULT_LINK, MAX_LINK, MIN_LINK};
use crate::query::PageRequest;

/// A new export, queued.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"export_id": "01JDQ5C3A1X8LY9N6P4Q7S0U2W", "status": "queued"}))]
pub struct CreatedExport {
    pub export_id: String,
    pub status: ExportStatus,
}

/// An export: what it was asked for, its progress, and (once completed) a
/// link to its file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportBody {
    pub export_id: String,
    pub status: ExportStatus,
    pub filter: BTreeMap<String, String>,
    /// The file's columns, by name, in file order.
    pub columns: Vec<String>,
    /// Contacts written (so far, while running).
    pub rows: u64,
    /// Bytes written (so far, while running).
    pub bytes: u64,
    /// The name a download saves the file as.
    pub file_name: String,
    /// A fresh link to download the file; present once completed.
    pub download_url: Option<String>,
    /// When `download_url` stops working.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the export failed, for a person.
    pub failure: Option<String>,
}

impl ExportBody {
    /// The export as shown, with a link valid for `expires_in`.
    async fn new(state: &AppState, job: ExportJob, expires_in: Duration) -> Result<Self> {
        let link = service::download_link(state, &job, expires_in).await?;
        Ok(Self {
            export_id: job.id.to_string(),
            status: job.status,
            file_name: job.file_name(),
            filter: job.filter,
            columns: job.columns,
            rows: job.rows,
            bytes: job.bytes,
            download_url: link.as_ref().map(|l| l.url.clone()),
            expires_at: link.map(|l| l.expires_at),
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            failure: job.failure,
        })
    }
}

/// A page of exports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportPage {
    pub items: Vec<ExportBody>,
    pub next_cursor: Option<String>,
}

/// Start an export of the contacts matching `filter`, with `columns`; it
/// runs by itself: follow it with `GET /v1/exports/{export_id}`.
#[utoipa::path(
    post, path = "/v1/exports", operation_id = "createExport", tag = "exports",
    request_body = ExportRequest,
    responses(
        (status = 202, description = "Queued", body = CreatedExport,
            links(
                ("get" = (operation_id = "getExport", parameters(("export_id" = "$response.body#/export_id")))),
            )),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<(StatusCode, Json<CreatedExport>)> {
    let job = service::create(&state, &workspace, request).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CreatedExport {
            export_id: job.id.to_string(),
            status: job.status,
        }),
    ))
}

/// `expires_in` (seconds) from the query, or the default.
fn link_lifetime(pairs: &[(String, String)]) -> Result<Duration> {
    let mut lifetime = DEFAULT_LINK;
    for (key, value) in pairs {
        match key.as_str() {
            "expires_in" => {
                lifetime = value
                    .parse::<u64>()
                    .ok()
                    .map(Duration::from_secs)
                    .filter(|d| (MIN_LINK..=MAX_LINK).contains(d))
                    .ok_or_else(|| {
                        Error::invalid(
                            "expires_in",
                            format!(
                                "must be a whole number of seconds from {} to {} (7 days)",
                                MIN_LINK.as_secs(),
                                MAX_LINK.as_secs()
                            ),
                        )
                    })?;
            }
            other => {
                return Err(Error::invalid(
                    other,
                    format!("unknown parameter {other:?}; use expires_in"),
                ));
            }
        }
    }
    Ok(lifetime)
}

/// An export's status and progress; once completed, a new link to its
/// file each time (15 minutes unless `expires_in` says otherwise).
#[utoipa::path(
    get, path = "/v1/exports/{export_id}", operation_id = "getExport", tag = "exports",
    params(
        ("export_id" = String, Path),
        ("expires_in" = Option<u64>, Query, minimum = 60, maximum = 604800,
            description = "seconds the download link works: 60 to 604800 (7 days), default 900"),
    ),
    responses(
        (status = 200, description = "The export", body = ExportBody),
        (status = 404, description = "No such export", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    PathParams(raw): PathParams<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ExportBody>> {
    let lifetime = link_lifetime(&pairs)?;
    let job = service::get(&state, &workspace, &raw).await?;
    Ok(Json(ExportBody::new(&state, job, lifetime).await?))
}

/// The workspace's exports, newest first, paged.
#[utoipa::path(
    get, path = "/v1/exports", operation_id = "listExports", tag = "exports",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of exports", body = ExportPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ExportPage>> {
    let page = PageRequest::from_pairs(&pairs)?;
    let found = state.export_ports()?.store.jobs(&workspace, &page).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for job in found.items {
        items.push(ExportBody::new(&state, job, DEFAULT_LINK).await?);
    }
    Ok(Json(ExportPage {
        items,
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}
