//! Starting an export and linking to its file.

use std::time::Duration;

use super::job::ExportJob;
use super::request::{self, ExportRequest};
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::WorkspaceId;
use crate::query::ColumnChoice;
use crate::store::objects::PresignedUrl;

/// How long a download link works unless asked otherwise.
pub const DEFAULT_LINK: Duration = Duration::from_secs(15 * 60);
/// The shortest link that may be asked for.
pub const MIN_LINK: Duration = Duration::from_secs(60);
/// The longest link that may be asked for (S3's limit for presigned URLs).
pub const MAX_LINK: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Checks the request against the workspace, records the export and
/// launches it.
pub async fn create(
    state: &AppState,
    workspace: &WorkspaceId,
    asked: ExportRequest,
) -> Result<ExportJob> {
    let ports = state.export_ports()?;
    let catalog = Catalog::load(state, workspace).await?;
    let query = request::query(&asked.filter, &catalog);
    let columns = request::columns(asked.columns.as_deref(), &catalog);
    let (columns, errors) = match (query, columns) {
        (Ok(_), Ok(columns)) => (columns, Vec::new()),
        (query, columns) => {
            let errors = [query.err(), columns.err()]
                .into_iter()
                .flatten()
                .flat_map(|error| match error {
                    Error::Validation(errors) => errors,
                    other => vec![crate::FieldError::new("filter", other.in_words())],
                })
                .collect();
            (Vec::new(), errors)
        }
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let names = columns.iter().map(ColumnChoice::name).map(str::to_owned);
    let job = ExportJob::new(workspace, asked.filter, names.collect(), asked.format);
    ports.store.put_job(&job).await?;
    ports.launcher.launch(&job).await?;
    Ok(job)
}

/// The export `raw` names in the workspace, or `ExportNotFound`.
pub async fn get(state: &AppState, workspace: &WorkspaceId, raw: &str) -> Result<ExportJob> {
    let missing = || Error::ExportNotFound(raw.to_owned());
    let id = super::ExportId::parse(raw).map_err(|_| missing())?;
    state
        .export_ports()?
        .store
        .job(workspace, id.as_ref())
        .await?
        .ok_or_else(missing)
}

/// A link to download a completed export's file for `expires_in`.
pub async fn download_link(
    state: &AppState,
    job: &ExportJob,
    expires_in: Duration,
) -> Result<Option<PresignedUrl>> {
    if job.status != super::ExportStatus::Completed {
        return Ok(None);
    }
    let objects = &state.export_ports()?.objects;
    let key = job.file_key()?;
    if objects.head(&key).await?.is_none() {
        // Files are kept for a week (the longest a link may last).
        return Ok(None);
    }
    objects
        .presign_get(&key, expires_in, Some(&job.file_name()))
        .await
        .map(Some)
}
