//! What every handler shares: the store ports, how requests map to
//! workspaces, and the workspace limits.

use std::sync::Arc;

use crate::http::auth::WorkspaceResolver;
use crate::store::ContactStore;

/// The state behind every router; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub contacts: Arc<dyn ContactStore>,
    pub auth: Arc<dyn WorkspaceResolver>,
    /// The most contacts one workspace may hold; `None` for no limit.
    pub usage_limit: Option<u64>,
}
