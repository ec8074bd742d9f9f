//! What every handler shares: the store ports, how requests map to
//! workspaces, and the workspace limits.

use std::sync::Arc;

use crate::audit::{Audit, Retention};
use crate::duplicate_scan::ScanJob;
use crate::error::{Error, Result};
use crate::export::ExportJob;
use crate::http::auth::WorkspaceResolver;
use crate::import::queue::ImportQueue;
use crate::jobs::JobStore;
use crate::jobs::Launcher;
use crate::model::WorkspaceId;
use crate::store::audit::AuditStore;
use crate::store::duplicates::DuplicateStore;
use crate::store::imports::ImportStore;
use crate::store::objects::ObjectStore;
use crate::store::suppressions::SuppressionStore;
use crate::store::{ContactStore, ListStore, SchemaStore};

/// The state behind every router; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub contacts: Arc<dyn ContactStore>,
    pub schema: Arc<dyn SchemaStore>,
    pub lists: Arc<dyn ListStore>,
    pub duplicates: Arc<dyn DuplicateStore>,
    pub suppressions: Arc<dyn SuppressionStore>,
    pub audit: Arc<dyn AuditStore>,
    /// How long audit entries are kept.
    pub audit_retention: Retention,
    pub auth: Arc<dyn WorkspaceResolver>,
    /// The most contacts one workspace may hold; `None` for no limit.
    pub usage_limit: Option<u64>,
    /// Imports, where this deployment serves them.
    pub imports: Option<ImportPorts>,
    /// Exports, where this deployment serves them.
    pub exports: Option<ExportPorts>,
    /// Scans for similar names, where this deployment serves them.
    pub scans: Option<ScanPorts>,
}

/// What scans for similar names need beyond the contact stores.
#[derive(Clone)]
pub struct ScanPorts {
    pub store: Arc<dyn JobStore<ScanJob>>,
    /// Starts a new scan's run.
    pub launcher: Arc<dyn Launcher<ScanJob>>,
}

/// What exports need beyond the contact stores.
#[derive(Clone)]
pub struct ExportPorts {
    pub store: Arc<dyn JobStore<ExportJob>>,
    pub objects: Arc<dyn ObjectStore>,
    /// Starts a new export's first run.
    pub launcher: Arc<dyn Launcher<ExportJob>>,
}

/// What imports need beyond the contact stores.
#[derive(Clone)]
pub struct ImportPorts {
    pub store: Arc<dyn ImportStore>,
    pub objects: Arc<dyn ObjectStore>,
    /// Runs imports in this process when their CSV lands (the local server);
    /// `None` where an upload event starts them (AWS).
    pub queue: Option<ImportQueue>,
}

impl AppState {
    /// State over one store that serves every port.
    pub fn over<S>(store: S, auth: Arc<dyn WorkspaceResolver>, usage_limit: Option<u64>) -> Self
    where
        S: ContactStore
            + SchemaStore
            + ListStore
            + DuplicateStore
            + SuppressionStore
            + AuditStore
            + 'static,
    {
        let store = Arc::new(store);
        Self {
            contacts: store.clone(),
            schema: store.clone(),
            lists: store.clone(),
            duplicates: store.clone(),
            suppressions: store.clone(),
            audit: store,
            audit_retention: Retention::default(),
            auth,
            usage_limit,
            imports: None,
            exports: None,
            scans: None,
        }
    }

    /// The same state keeping audit entries for `retention`.
    pub fn with_audit_retention(mut self, retention: Retention) -> Self {
        self.audit_retention = retention;
        self
    }

    /// Records the changes `actor` makes in `workspace`.
    pub fn audit<'a>(&'a self, workspace: &'a WorkspaceId, actor: &'a str) -> Audit<'a> {
        Audit::new(self.audit.as_ref(), self.audit_retention, workspace, actor)
    }

    /// The same state serving imports through `store` and `objects`.
    pub fn with_imports(
        mut self,
        store: Arc<dyn ImportStore>,
        objects: Arc<dyn ObjectStore>,
    ) -> Self {
        self.imports = Some(ImportPorts {
            store,
            objects,
            queue: None,
        });
        self
    }

    /// The same state with imports run by `queue` in this process.
    pub fn with_queue(mut self, queue: ImportQueue) -> Self {
        if let Some(ports) = &mut self.imports {
            ports.queue = Some(queue);
        }
        self
    }

    /// The same state serving exports through `ports`.
    pub fn with_exports(mut self, ports: ExportPorts) -> Self {
        self.exports = Some(ports);
        self
    }

    /// The export ports, or an error where exports are not served.
    pub fn export_ports(&self) -> Result<&ExportPorts> {
        self.exports.as_ref().ok_or_else(|| {
            Error::Unexpected(anyhow::anyhow!(
                "exports are not configured in this deployment"
            ))
        })
    }

    /// The same state serving scans for similar names through `ports`.
    pub fn with_scans(mut self, ports: ScanPorts) -> Self {
        self.scans = Some(ports);
        self
    }

    /// The scan ports, or an error where scans are not served.
    pub fn scan_ports(&self) -> Result<&ScanPorts> {
        self.scans.as_ref().ok_or_else(|| {
            Error::Unexpected(anyhow::anyhow!(
                "scans for similar names are not configured in this deployment"
            ))
        })
    }

    /// The import ports, or an error where imports are not served.
    pub fn import_ports(&self) -> Result<&ImportPorts> {
        self.imports.as_ref().ok_or_else(|| {
            Error::Unexpected(anyhow::anyhow!(
                "imports are not configured in this deployment"
            ))
        })
    }
}
