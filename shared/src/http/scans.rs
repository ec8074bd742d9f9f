//! Scans for similar names: start one, follow it, list them (the first is
//! the last run).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Workspace;
use super::extract::{PathParams, QueryPairs};
use super::problem::Problem;
use crate::AppState;
use crate::duplicate_scan::{ScanJob, ScanStatus, service};
use crate::error::Result;
use crate::query::PageRequest;

/// A scan of the workspace for contacts with similar names, and how far it got.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "scan_id": "01JDQ5C3A1X8LY9N6P4Q7S0U2W", "status": "running",
    "contacts_total": 120000, "contacts_read": 46000, "contacts_named": 41000,
    "groups": 0, "too_common": 0, "created_at": "2026-12-02T10:00:00Z",
    "started_at": "2026-12-02T10:00:01Z", "finished_at": null, "failure": null
}))]
pub struct ScanBody {
    pub scan_id: String,
    pub status: ScanStatus,
    /// The workspace's contacts when the scan started.
    pub contacts_total: u64,
    /// Contacts read so far.
    pub contacts_read: u64,
    /// Of those, contacts with a full name (only those are compared).
    pub contacts_named: u64,
    /// Groups of similar names found (once completed).
    pub groups: u64,
    /// Contacts left out because their name is too common to be a sign.
    pub too_common: u64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the scan failed, for a person.
    pub failure: Option<String>,
}

impl From<ScanJob> for ScanBody {
    fn from(job: ScanJob) -> Self {
        Self {
            scan_id: job.id.to_string(),
            status: job.status,
            contacts_total: job.contacts_total,
            contacts_read: job.contacts_read,
            contacts_named: job.contacts_named,
            groups: job.groups,
            too_common: job.too_common,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            failure: job.failure,
        }
    }
}

/// A page of scans, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanPage {
    pub items: Vec<ScanBody>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Scan the workspace for contacts with similar names (the same name once
/// folded, or one typing slip apart, and a country, email domain or phone
/// ending in common). It runs by itself; when it completes, its groups
/// replace those of the last scan in `GET /v1/duplicates` (reason
/// `similar_name`). While a scan is queued or running, this answers that
/// scan (200) instead of starting another.
#[utoipa::path(
    post, path = "/v1/duplicates/scans", operation_id = "startDuplicateScan", tag = "duplicates",
    responses(
        (status = 202, description = "Queued", body = ScanBody,
            links(("get" = (operation_id = "getDuplicateScan", parameters(("scan_id" = "$response.body#/scan_id")))))),
        (status = 200, description = "A scan already queued or running", body = ScanBody),
    ),
)]
pub async fn start(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<(StatusCode, Json<ScanBody>)> {
    let (job, new) = service::start(&state, &workspace).await?;
    let status = if new {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(job.into())))
}

/// A scan's status and progress.
#[utoipa::path(
    get, path = "/v1/duplicates/scans/{scan_id}", operation_id = "getDuplicateScan", tag = "duplicates",
    params(("scan_id" = String, Path)),
    responses(
        (status = 200, description = "The scan", body = ScanBody),
        (status = 404, description = "No such scan", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    PathParams(raw): PathParams<String>,
) -> Result<Json<ScanBody>> {
    Ok(Json(service::get(&state, &workspace, &raw).await?.into()))
}

/// The workspace's scans, newest first (the first is the last run), paged.
#[utoipa::path(
    get, path = "/v1/duplicates/scans", operation_id = "listDuplicateScans", tag = "duplicates",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of scans", body = ScanPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ScanPage>> {
    let page = PageRequest::from_pairs(&pairs)?;
    let found = service::list(&state, &workspace, &page).await?;
    Ok(Json(ScanPage {
        items: found.items.into_iter().map(ScanBody::from).collect(),
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}
