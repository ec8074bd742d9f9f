//! An export as the store keeps it: what was asked, status, progress and
//! the checkpoint a resumed run continues from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::{JobKind, Lease};
use crate::model::{InvalidValue, WorkspaceId};
use crate::store::objects::{ObjectKey, PartUpload};

crate::jobs::job_id!(
    /// The ID of an export: a ULID, so exports sort by creation time.
    ExportId,
    "an export ID"
);

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Running,
    Completed,
    Failed,
}

impl ExportStatus {
    /// Whether the export has ended, one way or the other.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// Where a resumed run continues: saved with each part sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The store's scan position after the last contact sent.
    pub cursor: Option<String>,
    /// The upload the parts go to, once the first part has been sent.
    pub upload: Option<PartUpload>,
    /// The object where rows written after the last part wait (a run
    /// stopped before they filled a part): a new one at each stop, so a
    /// run that dies while writing one never spoils the last.
    #[serde(default)]
    pub pending: Option<String>,
    /// Every row has been sent; the upload only waits to be completed.
    #[serde(default)]
    pub sent: bool,
}

/// The kind of file an export makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// UTF-8 CSV, every cell quoted, formula-safe.
    #[default]
    Csv,
    /// An Excel workbook, every cell text, so that a spreadsheet keeps
    /// `00123` and `+12025550143` as they are.
    Xlsx,
}

impl ExportFormat {
    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// One export of one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub id: ExportId,
    pub workspace: String,
    pub status: ExportStatus,
    /// The filter, as `GET /v1/contacts` query parameters.
    pub filter: BTreeMap<String, String>,
    /// The columns by name, in file order.
    pub columns: Vec<String>,
    #[serde(default)]
    pub format: ExportFormat,
    /// Contacts written (so far, while running).
    pub rows: u64,
    /// Bytes written (so far, while running).
    pub bytes: u64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, for a person.
    pub failure: Option<String>,
    pub checkpoint: Checkpoint,
    /// Who is running it (on AWS, where several invocations may try).
    #[serde(default)]
    pub lease: Option<Lease>,
}

impl ExportJob {
    /// A new export, queued.
    pub fn new(
        workspace: &WorkspaceId,
        filter: BTreeMap<String, String>,
        columns: Vec<String>,
        format: ExportFormat,
    ) -> Self {
        Self {
            id: ExportId::generate(),
            workspace: workspace.as_ref().to_owned(),
            status: ExportStatus::Queued,
            filter,
            columns,
            format,
            rows: 0,
            bytes: 0,
            created_at: crate::model::now(),
            started_at: None,
            finished_at: None,
            failure: None,
            checkpoint: Checkpoint::default(),
            lease: None,
        }
    }

    /// Where its rows go as CSV: `exports/<workspace>/<id>.csv`.
    pub fn csv_key(&self) -> Result<ObjectKey, InvalidValue> {
        ObjectKey::parse(&format!("exports/{}/{}.csv", self.workspace, self.id))
    }

    /// Where the file to download is: the CSV, or the workbook made from it
    /// (`exports/<workspace>/<id>.xlsx`).
    pub fn file_key(&self) -> Result<ObjectKey, InvalidValue> {
        match self.format {
            ExportFormat::Csv => self.csv_key(),
            ExportFormat::Xlsx => {
                ObjectKey::parse(&format!("exports/{}/{}.xlsx", self.workspace, self.id))
            }
        }
    }

    /// The name a download saves the file as: `contacts-<date>.csv` (or
    /// `.xlsx`).
    pub fn file_name(&self) -> String {
        format!(
            "contacts-{}.{}",
            self.created_at.format("%Y-%m-%d"),
            self.format.extension()
        )
    }

    /// Marks the export failed with a reason a person can act on.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.status = ExportStatus::Failed;
        self.failure = Some(reason.into());
        self.finished_at = Some(crate::model::now());
    }
}

crate::jobs::job_document!(ExportJob, JobKind::Export);
