//! Starting a scan and reading how scans went.

use super::job::{ScanId, ScanJob};
use crate::AppState;
use crate::error::{Error, Result};
use crate::model::WorkspaceId;
use crate::query::{Page, PageRequest};

/// Starts a scan of the workspace, or, while one has not finished, answers
/// that one (a second would read the same contacts); `true` when new.
pub async fn start(state: &AppState, workspace: &WorkspaceId) -> Result<(ScanJob, bool)> {
    let ports = state.scan_ports()?;
    let latest = ports.store.jobs(workspace, &PageRequest::first(1)).await?;
    if let Some(running) = latest
        .items
        .into_iter()
        .find(|job| !job.status.is_finished())
    {
        return Ok((running, false));
    }
    let job = ScanJob::new(workspace);
    ports.store.put_job(&job).await?;
    ports.launcher.launch(&job).await?;
    Ok((job, true))
}

/// The scan `raw` names in the workspace, or `ScanNotFound`.
pub async fn get(state: &AppState, workspace: &WorkspaceId, raw: &str) -> Result<ScanJob> {
    let missing = || Error::ScanNotFound(raw.to_owned());
    let id = ScanId::parse(raw).map_err(|_| missing())?;
    state
        .scan_ports()?
        .store
        .job(workspace, id.as_ref())
        .await?
        .ok_or_else(missing)
}

/// The workspace's scans, newest first.
pub async fn list(
    state: &AppState,
    workspace: &WorkspaceId,
    page: &PageRequest,
) -> Result<Page<ScanJob>> {
    state.scan_ports()?.store.jobs(workspace, page).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::jobs::Launcher;
    use crate::store::embedded::EmbeddedStore;

    /// Launches nothing: scans stay queued.
    struct Held;

    #[async_trait]
    impl Launcher<ScanJob> for Held {
        async fn launch(&self, _: &ScanJob) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn starting_a_scan_while_one_is_unfinished_answers_that_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let jobs = Arc::new(store.clone());
        let auth = Arc::new(crate::http::auth::BearerTokens::parse("t=w").unwrap());
        let state = AppState::over(store, auth, None).with_scans(crate::ScanPorts {
            store: jobs.clone(),
            launcher: Arc::new(Held),
        });
        let w = WorkspaceId::parse("w").unwrap();
        let (first, new) = start(&state, &w).await.unwrap();
        assert!(new);
        let (second, new) = start(&state, &w).await.unwrap();
        assert!(!new);
        assert_eq!(second.id, first.id);
        let mut done = first.clone();
        done.fail("stopped");
        crate::jobs::JobStore::put_job(jobs.as_ref(), &done)
            .await
            .unwrap();
        let (third, new) = start(&state, &w).await.unwrap();
        assert!(new);
        assert_ne!(third.id, first.id);
    }
}
