//! A scan as the store keeps it: status and progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::{JobKind, Lease};
use crate::model::WorkspaceId;

crate::jobs::job_id!(
    /// The ID of a scan for similar names: a ULID, so scans sort by creation time.
    ScanId,
    "a scan ID"
);

/// Where a scan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Queued,
    Running,
    Completed,
    Failed,
}

impl ScanStatus {
    /// Whether the scan has ended, one way or the other.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

/// One scan of one workspace for similar names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJob {
    pub id: ScanId,
    pub workspace: String,
    pub status: ScanStatus,
    /// The workspace's contacts when the run started.
    pub contacts_total: u64,
    /// Contacts read so far.
    pub contacts_read: u64,
    /// Of those, contacts with a full name (the others can't be compared).
    pub contacts_named: u64,
    /// Groups found (once completed).
    pub groups: u64,
    /// Contacts left out because their name was too common to be a sign.
    pub too_common: u64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, for a person.
    pub failure: Option<String>,
    /// Who is running it (on AWS, where several invocations may try).
    #[serde(default)]
    pub lease: Option<Lease>,
}

impl ScanJob {
    /// A new scan of `workspace`, queued.
    pub fn new(workspace: &WorkspaceId) -> Self {
        Self {
            id: ScanId::generate(),
            workspace: workspace.as_ref().to_owned(),
            status: ScanStatus::Queued,
            contacts_total: 0,
            contacts_read: 0,
            contacts_named: 0,
            groups: 0,
            too_common: 0,
            created_at: crate::model::now(),
            started_at: None,
            finished_at: None,
            failure: None,
            lease: None,
        }
    }

    /// Logs how a run went: its status, contacts read and groups found.
    pub fn log_run(&self) {
        tracing::info!(
            scan = %self.id,
            status = ?self.status,
            read = self.contacts_read,
            groups = self.groups,
            "scan for similar names ran"
        );
    }

    /// Marks the scan failed with a reason a person can act on.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.status = ScanStatus::Failed;
        self.failure = Some(reason.into());
        self.finished_at = Some(crate::model::now());
    }
}

crate::jobs::job_document!(ScanJob, JobKind::DuplicateScan);
