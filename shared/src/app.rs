//! What every handler shares: the store ports, how requests map to
//! workspaces, and the workspace limits.

use std::sync::Arc;

use crate::http::auth::WorkspaceResolver;
use crate::store::{ContactStore, ListStore, SchemaStore};

/// The state behind every router; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub contacts: Arc<dyn ContactStore>,
    pub schema: Arc<dyn SchemaStore>,
    pub lists: Arc<dyn ListStore>,
    pub auth: Arc<dyn WorkspaceResolver>,
    /// The most contacts one workspace may hold; `None` for no limit.
    pub usage_limit: Option<u64>,
}

impl AppState {
    /// State over one store that serves every port.
    pub fn over<S>(store: S, auth: Arc<dyn WorkspaceResolver>, usage_limit: Option<u64>) -> Self
    where
        S: ContactStore + SchemaStore + ListStore + 'static,
    {
        let store = Arc::new(store);
        Self {
            contacts: store.clone(),
            schema: store.clone(),
            lists: store,
            auth,
            usage_limit,
        }
    }
}
