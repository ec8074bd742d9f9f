//! The audit port: where audit entries are kept and read back.

use async_trait::async_trait;

use crate::audit::{AuditEntry, AuditQuery};
use crate::error::Result;
use crate::model::WorkspaceId;
use crate::query::{Page, PageRequest};

/// Where audit entries are kept.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records `entry`.
    async fn record(&self, workspace: &WorkspaceId, entry: &AuditEntry) -> Result<()>;

    /// Entries `query` asks for, newest first, leaving out those past
    /// their `expires_at`.
    async fn audit(
        &self,
        workspace: &WorkspaceId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>>;
}
