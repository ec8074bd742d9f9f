//! Runs scans inside this process (the local server): each starts when it
//! is created, and unfinished ones start again when the server does.

use std::sync::Arc;

use async_trait::async_trait;

use super::job::ScanJob;
use super::runner::ScanRunner;
use crate::error::Result;
use crate::jobs::queue::{JobRunner, RunnerQueue};
use crate::jobs::{Budget, JobStore};
use crate::model::WorkspaceId;

/// The in-process scan queue. Cheap to clone.
pub type ScanQueue = RunnerQueue<ScanRunner>;

#[async_trait]
impl JobRunner for ScanRunner {
    type Job = ScanJob;

    fn store(&self) -> &Arc<dyn JobStore<ScanJob>> {
        ScanRunner::store(self)
    }

    async fn run_job(
        &self,
        workspace: &WorkspaceId,
        job: &ScanJob,
        budget: Budget,
    ) -> Result<ScanJob> {
        self.run(workspace, &job.id, budget).await
    }

    fn ran(job: &ScanJob) {
        job.log_run();
    }
}
