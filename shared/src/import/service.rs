//! Starting an import: the same steps for the API and the command line.

use std::time::Duration;

use super::job::ImportJob;
use super::settings::ImportSettings;
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::WorkspaceId;
use crate::store::objects::PresignedUrl;

/// How long an upload link works.
pub const UPLOAD_LINK: Duration = Duration::from_secs(60 * 60);
/// How long a link to the error CSV works.
pub const ERRORS_LINK: Duration = Duration::from_secs(60 * 60);
/// The content type an upload link is signed for.
pub const CSV_CONTENT_TYPE: &str = "text/csv";

/// Checks the settings against the workspace, stores them as the sidecar
/// beside where the CSV goes, and records the import as waiting for it.
pub async fn create(
    state: &AppState,
    workspace: &WorkspaceId,
    settings: ImportSettings,
    file_name: Option<String>,
) -> Result<ImportJob> {
    let ports = state.import_ports()?;
    let catalog = Catalog::load(state, workspace).await?;
    settings.check(&catalog)?;
    let mut job = ImportJob::new(workspace, settings, String::new());
    job.file.name = file_name.unwrap_or_else(|| format!("{}.csv", job.id));
    let sidecar =
        serde_json::to_vec_pretty(&job.settings).map_err(|e| Error::Unexpected(e.into()))?;
    ports
        .objects
        .put(
            &job.sidecar_key()?,
            Box::pin(std::io::Cursor::new(sidecar)),
            "application/json",
        )
        .await?;
    ports.store.create_import(&job).await?;
    Ok(job)
}

/// The import `raw` names in the workspace, or `ImportNotFound`.
pub async fn get(state: &AppState, workspace: &WorkspaceId, raw: &str) -> Result<ImportJob> {
    let missing = || Error::ImportNotFound(raw.to_owned());
    let id = super::ImportId::parse(raw).map_err(|_| missing())?;
    state
        .import_ports()?
        .store
        .import(workspace, &id)
        .await?
        .ok_or_else(missing)
}

/// A link to upload the import's CSV (with `Content-Type: text/csv`).
pub async fn upload_link(state: &AppState, job: &ImportJob) -> Result<PresignedUrl> {
    state
        .import_ports()?
        .objects
        .presign_put(&job.csv_key()?, CSV_CONTENT_TYPE, UPLOAD_LINK)
        .await
}

/// A link to the import's error CSV, when it has one.
pub async fn errors_link(state: &AppState, job: &ImportJob) -> Result<Option<PresignedUrl>> {
    if job.counts.rejected == 0 || !job.status.is_finished() {
        return Ok(None);
    }
    let objects = &state.import_ports()?.objects;
    let key = job.errors_key()?;
    if objects.head(&key).await?.is_none() {
        return Ok(None);
    }
    let stem = job.file.name.strip_suffix(".csv").unwrap_or(&job.file.name);
    objects
        .presign_get(&key, ERRORS_LINK, Some(&format!("{stem}.errors.csv")))
        .await
        .map(Some)
}
