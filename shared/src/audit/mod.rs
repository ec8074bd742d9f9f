//! The audit trail: who changed what, and when. Every change to a contact,
//! a list, an attribute definition, a suppression or the saved columns,
//! and every import (one entry with its counts), records an [`AuditEntry`]
//! naming the fields it changed, never their values. Entries are kept for
//! the deployment's retention ([`Retention`]).

mod entry;

use chrono::Duration;

pub use entry::{AuditEntry, AuditId, AuditQuery, Change, Operation, changed_fields};

use crate::model::{WorkspaceId, now};
use crate::store::audit::AuditStore;

/// How long audit entries are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(Duration);

impl Retention {
    /// Kept unless configured otherwise.
    pub const DEFAULT_DAYS: u32 = 400;

    /// A retention of `days` days (at least one).
    pub fn days(days: u32) -> Self {
        Self(Duration::days(i64::from(days.max(1))))
    }

    /// Reads `CONTACTS_AUDIT_RETENTION_DAYS` as `lookup` finds it, else
    /// the default.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        match lookup("CONTACTS_AUDIT_RETENTION_DAYS") {
            None => Ok(Self::default()),
            Some(raw) => raw.trim().parse().map(Self::days).map_err(|_| {
                anyhow::anyhow!(
                    "CONTACTS_AUDIT_RETENTION_DAYS={raw:?} is not a whole number of days"
                )
            }),
        }
    }

    /// The retention as a duration.
    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::days(Self::DEFAULT_DAYS)
    }
}

/// Records the changes one actor makes in one workspace.
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    store: &'a dyn AuditStore,
    retention: Retention,
    workspace: &'a WorkspaceId,
    actor: &'a str,
}

impl<'a> Audit<'a> {
    /// Records into `store`, kept for `retention`.
    pub fn new(
        store: &'a dyn AuditStore,
        retention: Retention,
        workspace: &'a WorkspaceId,
        actor: &'a str,
    ) -> Self {
        Self {
            store,
            retention,
            workspace,
            actor,
        }
    }

    /// The workspace whose changes it records.
    pub fn workspace(&self) -> &'a WorkspaceId {
        self.workspace
    }

    /// Who makes the changes.
    pub fn actor(&self) -> &'a str {
        self.actor
    }

    /// Records `change`, made now. The change is made when it is recorded,
    /// so a failure to record it is logged (with the entry), not returned.
    pub async fn record(&self, change: Change) {
        let at = now();
        let entry = AuditEntry {
            id: AuditId::generate(),
            at,
            expires_at: at + self.retention.duration(),
            actor: self.actor.to_owned(),
            operation: change.operation,
            contact: change.contact,
            target: change.target,
            fields: change.fields,
            counts: change.counts,
        };
        if let Err(error) = self.store.record(self.workspace, &entry).await {
            tracing::error!(
                workspace = self.workspace.as_ref(),
                entry = ?entry,
                error = ?error,
                "an audit entry was not recorded"
            );
        }
    }
}
