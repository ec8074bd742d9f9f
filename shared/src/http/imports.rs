//! CSV imports: create one (settings → upload link), follow it, list them,
//! and preview a file's mapping.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use utoipa::ToSchema;

use super::auth::{Actor, Workspace};
use super::extract::{ApiJson, PathParams, QueryPairs};
use super::problem::Problem;
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::import::job::{Counts, FileInfo, ImportJob, ImportStatus, Progress};
use crate::import::preview::{self, Preview};
use crate::import::service;
use crate::import::settings::ImportSettings;
use crate::query::PageRequest;
use crate::store::objects::attachment;

/// A new import, waiting for its CSV.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"import_id": "01JDQ5C3A1X8LY9N6P4Q7S0IMP", "status": "waiting_for_upload",
    "upload_url": "http://127.0.0.1:3000/objects/imports/dev/01JDQ5C3A1X8LY9N6P4Q7S0IMP.csv?expires=1795683600&signature=…",
    "upload_expires_at": "2026-11-25T09:00:00Z", "upload_content_type": "text/csv"}))]
pub struct CreatedImport {
    pub import_id: String,
    pub status: ImportStatus,
    /// `PUT` the CSV here, with `Content-Type: text/csv` and exactly the
    /// `file_size` bytes declared; the import then starts by itself.
    pub upload_url: String,
    pub upload_expires_at: DateTime<Utc>,
    /// The content type the upload must carry.
    pub upload_content_type: String,
}

/// An import: its settings, progress and outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportBody {
    pub import_id: String,
    pub status: ImportStatus,
    pub settings: ImportSettings,
    pub file: FileInfo,
    pub progress: Progress,
    pub counts: Counts,
    /// A link to the rejected rows as uploaded, with `error_row` and `error`
    /// columns; present once a finished import rejected rows.
    pub errors_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the import failed, for a person.
    pub failure: Option<String>,
}

impl ImportBody {
    /// The import as shown, with a fresh link to its error CSV.
    pub async fn new(state: &AppState, job: ImportJob) -> Result<Self> {
        let errors_url = service::errors_link(state, &job)
            .await?
            .map(|link| link.url);
        Ok(Self {
            import_id: job.id.to_string(),
            status: job.status,
            settings: job.settings,
            file: job.file,
            progress: job.progress,
            counts: job.counts,
            errors_url,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            failure: job.failure,
        })
    }
}

/// A page of imports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPage {
    pub items: Vec<ImportBody>,
    pub next_cursor: Option<String>,
}

/// Start an import: the settings are checked and stored beside where the CSV
/// goes; upload the CSV to `upload_url` and it runs by itself.
#[utoipa::path(
    post, path = "/v1/imports", operation_id = "createImport", tag = "imports",
    params(
        ("file_name" = Option<String>, Query, min_length = 1, max_length = 255,
            description = "the file's name, as the user knows it"),
        ("file_size" = u64, Query, minimum = 1, maximum = 52_428_800,
            description = "the CSV's size in bytes; the upload link takes exactly that many (50 MiB at most)"),
    ),
    request_body = ImportSettings,
    responses(
        (status = 201, description = "Waiting for the CSV", body = CreatedImport,
            links(
                ("get" = (operation_id = "getImport", parameters(("import_id" = "$response.body#/import_id")))),
            )),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    QueryPairs(pairs): QueryPairs,
    ApiJson(settings): ApiJson<ImportSettings>,
) -> Result<(StatusCode, Json<CreatedImport>)> {
    let (mut file_name, mut file_size) = (None, None);
    for (key, value) in &pairs {
        match key.as_str() {
            "file_name" => file_name = Some(value.as_str()),
            "file_size" => file_size = Some(value.as_str()),
            other => {
                return Err(Error::invalid(
                    other,
                    format!("unknown parameter {other:?}; use file_name and file_size"),
                ));
            }
        }
    }
    let (file_name, file_size) = service::announced_file(file_name, file_size)?;
    let job = service::create(
        &state,
        &state.audit(&workspace, &actor),
        settings,
        file_name,
    )
    .await?;
    let link = service::upload_link(&state, &job, file_size).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedImport {
            import_id: job.id.to_string(),
            status: job.status,
            upload_url: link.url,
            upload_expires_at: link.expires_at,
            upload_content_type: service::CSV_CONTENT_TYPE.to_owned(),
        }),
    ))
}

/// An import's status, progress and counts, with a link to its error CSV.
#[utoipa::path(
    get, path = "/v1/imports/{import_id}", operation_id = "getImport", tag = "imports",
    params(("import_id" = String, Path)),
    responses(
        (status = 200, description = "The import", body = ImportBody),
        (status = 404, description = "No such import", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    PathParams(raw): PathParams<String>,
) -> Result<Json<ImportBody>> {
    let job = service::get(&state, &workspace, &raw).await?;
    Ok(Json(ImportBody::new(&state, job).await?))
}

/// The example CSV ("Download example CSV"): every importable column and
/// the workspace's custom attributes as headers, and three sample rows that
/// import as they are.
#[utoipa::path(
    get, path = "/v1/imports/template", operation_id = "getImportTemplate", tag = "imports",
    responses((status = 200, description = "The example CSV", content_type = "text/csv", body = String,
        headers(("Content-Disposition" = String, description = "attachment; filename=\"contacts-template.csv\"")))),
)]
pub async fn template(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<axum::response::Response> {
    let catalog = Catalog::load(&state, &workspace).await?;
    Ok(template_file(&catalog))
}

/// The example CSV of a workspace as a download.
pub fn template_file(catalog: &Catalog) -> axum::response::Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                attachment(crate::import::template::FILE_NAME),
            ),
        ],
        crate::import::template::csv(catalog),
    )
        .into_response()
}

/// The workspace's imports, newest first, paged.
#[utoipa::path(
    get, path = "/v1/imports", operation_id = "listImports", tag = "imports",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of imports", body = ImportPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ImportPage>> {
    let page = PageRequest::from_pairs(&pairs)?;
    let found = state
        .import_ports()?
        .store
        .imports(&workspace, &page)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    for job in found.items {
        items.push(ImportBody::new(&state, job).await?);
    }
    Ok(Json(ImportPage {
        items,
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}

/// Preview the file of an import that has been uploaded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"import_id": "01JDQ3V6Y8M6F3XG2W5T9K0IMP"}))]
pub struct PreviewRequest {
    pub import_id: String,
}

/// The first bytes of a file (up to 1 MiB) as they are, a CSV or an .xlsx:
/// any bytes are a file to preview, well formed or not. Any content type
/// but JSON is read this way (`text/csv` too).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, example = "External ID,First Name,Email\ncrm-1,Ann,ann@example.com\n")]
pub struct CsvBytes(Bytes);

/// What to preview: the first bytes of a file (any content type but JSON),
/// or an uploaded import (`application/json`).
pub enum PreviewInput {
    Csv(CsvBytes),
    Import(PreviewRequest),
}

impl<S: Send + Sync> FromRequest<S> for PreviewInput {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        if json {
            let ApiJson(body) = ApiJson::<PreviewRequest>::from_request(request, state).await?;
            return Ok(Self::Import(body));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| Error::BodyTooLarge {
                limit: preview::MAX_BYTES,
            })?;
        if bytes.is_empty() {
            return Err(Error::invalid(
                "body",
                "send the first bytes of a file (text/csv) or {\"import_id\"} (application/json)",
            ));
        }
        Ok(Self::Csv(CsvBytes(bytes)))
    }
}

/// Preview a file's mapping: delimiter, encoding, headers, the proposed
/// attribute of each column (with why), sample rows, and per column how
/// many values would be invalid. Send up to 1 MiB of the file as it is
/// (`application/octet-stream`, or `text/csv`: any type but JSON), or
/// `{"import_id"}` of an uploaded import (its settings' mapping is used).
#[utoipa::path(
    post, path = "/v1/imports/preview", operation_id = "previewImport", tag = "imports",
    request_body(content(
        (CsvBytes = "application/octet-stream"),
        (PreviewRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "The proposed mapping", body = Preview),
        (status = 404, description = "No such import", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn preview(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    input: PreviewInput,
) -> Result<Json<Preview>> {
    let catalog = Catalog::load(&state, &workspace).await?;
    let (bytes, complete, settings) = match input {
        PreviewInput::Csv(CsvBytes(bytes)) => (bytes.to_vec(), true, ImportSettings::default()),
        PreviewInput::Import(request) => {
            let job = service::get(&state, &workspace, &request.import_id).await?;
            let ports = state.import_ports()?;
            let mut bytes = Vec::new();
            let reader = ports.objects.get(&job.csv_key()?).await?.ok_or_else(|| {
                Error::invalid("import_id", "the import's CSV has not been uploaded yet")
            })?;
            let limit = u64::try_from(preview::MAX_BYTES).unwrap_or(u64::MAX);
            reader
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| Error::Unexpected(e.into()))?;
            let complete = bytes.len() <= preview::MAX_BYTES;
            bytes.truncate(preview::MAX_BYTES);
            (bytes, complete, job.settings)
        }
    };
    let rules = settings.check(&catalog)?;
    Ok(Json(
        preview::preview(bytes.into(), complete, rules, catalog).await?,
    ))
}
