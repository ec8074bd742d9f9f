//! An import as the store keeps it: status, settings, progress, counts and
//! the checkpoint a resumed run continues from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settings::ImportSettings;
use crate::model::{InvalidValue, WorkspaceId};
use crate::store::objects::ObjectKey;

crate::jobs::job_id!(
    /// The ID of an import: a ULID, so imports sort by creation time.
    ImportId,
    "an import ID"
);

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Created; the CSV has not arrived yet.
    WaitingForUpload,
    /// The CSV arrived; waiting for the workspace's previous import to end.
    Queued,
    Running,
    Completed,
    Failed,
}

impl ImportStatus {
    /// Whether the import has ended, one way or the other.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// What an import did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// Data rows read (the header and blank lines are not rows).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    /// Rows that matched a contact and would change nothing.
    pub unchanged: u64,
    /// Rows matching an existing contact when updating is off.
    pub skipped_existing: u64,
    /// Rows refused; each is in the error CSV with its reason.
    pub rejected: u64,
    /// Invalid values cleared because `replace_invalid_values` is on.
    pub replaced_values: u64,
    /// Contacts deleted (or, in a dry run, that would be) by `remove`.
    pub removed: u64,
    /// Of the rejected rows, those with an email, phone or External ID that
    /// was erased or suppressed.
    #[serde(default)]
    pub suppressed: u64,
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, other: Counts) -> Counts {
        Counts {
            rows: self.rows + other.rows,
            created: self.created + other.created,
            updated: self.updated + other.updated,
            unchanged: self.unchanged + other.unchanged,
            skipped_existing: self.skipped_existing + other.skipped_existing,
            rejected: self.rejected + other.rejected,
            replaced_values: self.replaced_values + other.replaced_values,
            removed: self.removed + other.removed,
            suppressed: self.suppressed + other.suppressed,
        }
    }
}

/// How far an import has read its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub rows_done: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// The uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileInfo {
    pub name: String,
    /// Its size, once it has arrived.
    pub bytes: Option<u64>,
    /// What the file was found to be once its import started: `utf-8`,
    /// `windows-1252`, `utf-16le`, `utf-16be` or `xlsx` (its first sheet).
    #[serde(default)]
    pub encoding: Option<String>,
}

/// Which part of the work a run is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading rows.
    #[default]
    Rows,
    /// Every row is done; removing contacts the file did not identify.
    Removing,
    /// Writing the error CSV.
    Report,
}

/// Where a resumed run continues: committed with each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub phase: Phase,
    /// Byte offset of the first row not yet committed.
    pub byte_offset: u64,
    /// Line number (1-based) that row starts on.
    pub line: u64,
    /// The file's delimiter and header, fixed by the first run.
    pub delimiter: Option<u8>,
    pub headers: Vec<String>,
    /// The removal phase's position, an adapter's cursor.
    pub remove_cursor: Option<String>,
    /// The version of the file the first run read: later runs read only it.
    #[serde(default)]
    pub version: Option<String>,
    /// The version of the UTF-8 CSV copy the first run made of a file that
    /// is not UTF-8 CSV ([`ImportJob::converted_key`]); rows are read from it.
    #[serde(default)]
    pub converted: Option<String>,
}

pub use crate::jobs::Lease;

/// One import of one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: ImportId,
    pub workspace: String,
    pub status: ImportStatus,
    pub settings: ImportSettings,
    pub file: FileInfo,
    pub progress: Progress,
    pub counts: Counts,
    pub checkpoint: Checkpoint,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, for a person.
    pub failure: Option<String>,
    /// Where its CSV is when that is not `imports/<workspace>/<id>.csv`: a
    /// file put straight into the bucket.
    #[serde(default)]
    pub object: Option<String>,
    /// Who is running it (on AWS, where several invocations may try).
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Who started it; `None` for a file put straight into the bucket.
    #[serde(default)]
    pub actor: Option<String>,
}

impl ImportJob {
    /// The actor of an import started by a file put into the bucket.
    pub const BUCKET_ACTOR: &str = "bucket";

    /// Who started it, for the audit trail.
    pub fn actor(&self) -> &str {
        self.actor.as_deref().unwrap_or(Self::BUCKET_ACTOR)
    }

    /// A new import waiting for its CSV.
    pub fn new(workspace: &WorkspaceId, settings: ImportSettings, file_name: String) -> Self {
        Self {
            id: ImportId::generate(),
            workspace: workspace.as_ref().to_owned(),
            status: ImportStatus::WaitingForUpload,
            settings,
            file: FileInfo {
                name: file_name,
                bytes: None,
                encoding: None,
            },
            progress: Progress::default(),
            counts: Counts::default(),
            checkpoint: Checkpoint::default(),
            created_at: crate::model::now(),
            started_at: None,
            finished_at: None,
            failure: None,
            object: None,
            lease: None,
            actor: None,
        }
    }

    /// The workspace it belongs to.
    pub fn workspace_id(&self) -> Result<WorkspaceId, InvalidValue> {
        WorkspaceId::parse(&self.workspace)
    }

    /// Where its CSV goes: `imports/<workspace>/<id>.csv`, unless it was
    /// put into the bucket under a name of its own.
    pub fn csv_key(&self) -> Result<ObjectKey, InvalidValue> {
        match &self.object {
            Some(key) => ObjectKey::parse(key),
            None => ObjectKey::parse(&format!("imports/{}/{}.csv", self.workspace, self.id)),
        }
    }

    /// Where the UTF-8 CSV copy of a file that is not UTF-8 CSV goes:
    /// `converted/<workspace>/<id>.csv` (outside `imports/`, whose new CSVs
    /// start imports).
    pub fn converted_key(&self) -> Result<ObjectKey, InvalidValue> {
        ObjectKey::parse(&format!("converted/{}/{}.csv", self.workspace, self.id))
    }

    /// The object its rows are read from, and its version: the converted
    /// copy once there is one, else the file as uploaded.
    pub fn rows_source(&self) -> Result<(ObjectKey, Option<&str>), InvalidValue> {
        match &self.checkpoint.converted {
            Some(version) => Ok((self.converted_key()?, Some(version))),
            None => Ok((self.csv_key()?, self.checkpoint.version.as_deref())),
        }
    }

    /// Where its settings go, beside the CSV: `imports/<workspace>/<id>.json`.
    pub fn sidecar_key(&self) -> Result<ObjectKey, InvalidValue> {
        ObjectKey::parse(&format!("imports/{}/{}.json", self.workspace, self.id))
    }

    /// Where its error CSV goes: `reports/<workspace>/<id>.errors.csv`
    /// (outside `imports/`, whose new CSVs start imports).
    pub fn errors_key(&self) -> Result<ObjectKey, InvalidValue> {
        ObjectKey::parse(&format!(
            "reports/{}/{}.errors.csv",
            self.workspace, self.id
        ))
    }

    /// The import a CSV key belongs to: `imports/<workspace>/<id>.csv`.
    pub fn parse_csv_key(key: &ObjectKey) -> Option<(WorkspaceId, ImportId)> {
        let upload = Upload::parse(key)?;
        Some((upload.workspace, ImportId::parse(&upload.name).ok()?))
    }

    /// Marks the import failed with a reason a person can act on.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.status = ImportStatus::Failed;
        self.failure = Some(reason.into());
        self.finished_at = Some(crate::model::now());
    }
}

crate::jobs::job_document!(ImportJob, crate::jobs::JobKind::Import);

/// A CSV (or .xlsx workbook) under `imports/<workspace>/`: an import's
/// upload (named by its ID) or a file put into the bucket directly (any
/// other name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub key: ObjectKey,
    pub workspace: WorkspaceId,
    /// The file name without `.csv` or `.xlsx`.
    pub name: String,
    /// The file name.
    pub file: String,
}

impl Upload {
    /// The upload at `key`, if the key is `imports/<workspace>/<name>.csv`
    /// or `.xlsx`.
    pub fn parse(key: &ObjectKey) -> Option<Self> {
        let rest = key.as_ref().strip_prefix("imports/")?;
        let (workspace, file) = rest.split_once('/')?;
        let name = file
            .strip_suffix(".csv")
            .or_else(|| file.strip_suffix(".xlsx"))
            .filter(|n| !n.contains('/'))?;
        Some(Self {
            key: key.clone(),
            workspace: WorkspaceId::parse(workspace).ok()?,
            name: name.to_owned(),
            file: file.to_owned(),
        })
    }

    /// Where its settings are: `imports/<workspace>/<name>.json`.
    pub fn sidecar_key(&self) -> Result<ObjectKey, InvalidValue> {
        ObjectKey::parse(&format!(
            "imports/{}/{}.json",
            self.workspace.as_ref(),
            self.name
        ))
    }

    /// The import it belongs to when it is named by an import ID.
    pub fn import_id(&self) -> Option<ImportId> {
        ImportId::parse(&self.name).ok()
    }
}
