//! Runs exports inside this process (the local server): each starts when
//! it is created, and unfinished ones continue from their checkpoint when
//! the server starts again.

use std::sync::Arc;

use async_trait::async_trait;

use super::job::ExportJob;
use super::runner::ExportRunner;
use crate::error::Result;
use crate::jobs::figures::RunFigures;
use crate::jobs::queue::{JobRunner, RunnerQueue};
use crate::jobs::{Budget, JobStore};
use crate::model::{WorkspaceId, now};

/// The in-process export queue. Cheap to clone.
pub type ExportQueue = RunnerQueue<ExportRunner>;

#[async_trait]
impl JobRunner for ExportRunner {
    type Job = ExportJob;

    fn store(&self) -> &Arc<dyn JobStore<ExportJob>> {
        ExportRunner::store(self)
    }

    async fn run_job(
        &self,
        workspace: &WorkspaceId,
        job: &ExportJob,
        budget: Budget,
    ) -> Result<ExportJob> {
        self.run(workspace, &job.id, budget).await
    }

    fn ran(job: &ExportJob) {
        RunFigures::of_export(job, now()).log();
    }
}
