//! Starting an import: the same steps for the API and the command line.

use std::time::Duration;

use super::csvfile::MAX_BYTES;
use super::job::ImportJob;
use super::settings::ImportSettings;
use crate::AppState;
use crate::audit::Audit;
use crate::catalog::Catalog;
use crate::error::{Error, FieldError, Result};
use crate::model::{Contact, WorkspaceId};
use crate::query::{Cursor, PageRequest};
use crate::store::objects::PresignedUrl;

/// How long an upload link works.
pub const UPLOAD_LINK: Duration = Duration::from_secs(60 * 60);
/// How long a link to the error CSV works.
pub const ERRORS_LINK: Duration = Duration::from_secs(60 * 60);
/// The content type an upload link is signed for.
pub const CSV_CONTENT_TYPE: &str = "text/csv";

/// The name of an import's file as the user knows it: 1 to 255
/// characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// The most characters a file name may have.
    pub const MAX_CHARS: usize = 255;

    /// Validates a file name (the error names the field `file_name`).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 || length > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "file_name",
                format!(
                    "must be 1-{} characters without control characters",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(name.to_owned()))
    }
}

/// The size in bytes of the file a client is about to upload: the upload
/// link takes exactly that many, so it can't be used to store more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSize(u64);

impl FileSize {
    /// Validates a declared size: 1 byte up to [`MAX_BYTES`] (the error
    /// names the field `file_size`).
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        let invalid = |message: String| FieldError::new("file_size", message);
        let raw = raw.ok_or_else(|| {
            invalid(
                "required: the size of the CSV in bytes; its upload link takes exactly that many"
                    .into(),
            )
        })?;
        let bytes: u64 = raw
            .trim()
            .parse()
            .map_err(|_| invalid(format!("{raw:?} is not a whole number of bytes")))?;
        match bytes {
            0 => Err(invalid("the file is empty".into())),
            n if n > MAX_BYTES => Err(invalid(format!(
                "the file has {n} bytes; a CSV import takes files up to {MAX_BYTES} bytes (50 MiB)"
            ))),
            n => Ok(Self(n)),
        }
    }
}

/// The file a client announces before uploading it: its name, if given,
/// and its size; every bad field reported at once.
pub fn announced_file(
    name: Option<&str>,
    size: Option<&str>,
) -> Result<(Option<FileName>, FileSize)> {
    match (name.map(FileName::parse).transpose(), FileSize::parse(size)) {
        (Ok(name), Ok(size)) => Ok((name, size)),
        (name, size) => Err(Error::Validation(
            [name.err(), size.err()].into_iter().flatten().collect(),
        )),
    }
}

/// Checks the settings against the workspace, stores them as the sidecar
/// beside where the CSV goes, and records the import as waiting for it.
pub async fn create(
    state: &AppState,
    audit: &Audit<'_>,
    settings: ImportSettings,
    file_name: Option<FileName>,
) -> Result<ImportJob> {
    let workspace = audit.workspace();
    let ports = state.import_ports()?;
    let catalog = Catalog::load(state, workspace).await?;
    settings.check(&catalog)?;
    let mut job = ImportJob::new(workspace, settings, String::new());
    job.actor = Some(audit.actor().to_owned());
    job.file.name = file_name.map_or_else(|| format!("{}.csv", job.id), |name| name.0);
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
    if !ports.store.create_import(&job).await? {
        return Err(Error::Unexpected(anyhow::anyhow!(
            "a new import's ID {} is taken",
            job.id
        )));
    }
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

/// The import that created `contact`, where one did and imports are
/// served: its Messaging ID names the import's millisecond and a hash of
/// its ID ([`super::plan::created_line`]), so one page of the imports made
/// in that millisecond finds it.
pub async fn creator(
    state: &AppState,
    workspace: &WorkspaceId,
    contact: &Contact,
) -> Result<Option<ImportJob>> {
    let (Some(ports), Some((at_ms, _))) = (&state.imports, contact.messaging_id.parts()) else {
        return Ok(None);
    };
    let after = ulid::Ulid::from_parts(at_ms + 1, 0).to_string();
    let page = PageRequest {
        limit: PageRequest::DEFAULT_LIMIT,
        cursor: Some(Cursor(after)),
    };
    let made = ports.store.imports(workspace, &page).await?;
    Ok(made
        .items
        .into_iter()
        .find(|job| super::plan::created_line(&job.id, contact).is_some()))
}

/// A link to upload the import's CSV: `size` bytes with
/// `Content-Type: text/csv`.
pub async fn upload_link(
    state: &AppState,
    job: &ImportJob,
    size: FileSize,
) -> Result<PresignedUrl> {
    state
        .import_ports()?
        .objects
        .presign_put(&job.csv_key()?, CSV_CONTENT_TYPE, size.0, UPLOAD_LINK)
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
