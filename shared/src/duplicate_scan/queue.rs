//! Runs scans inside this process (the local server): each starts when it
//! is created, and unfinished ones start again when the server does.

use async_trait::async_trait;

use super::job::ScanJob;
use super::runner::ScanRunner;
use crate::error::Result;
use crate::jobs::{Budget, Launcher, LocalJobs};

/// The in-process scan queue. Cheap to clone.
#[derive(Clone)]
pub struct ScanQueue {
    runner: ScanRunner,
    jobs: LocalJobs,
}

impl ScanQueue {
    /// A queue over `runner` (runs stop when the queue does).
    pub fn new(runner: ScanRunner) -> Self {
        Self {
            runner,
            jobs: LocalJobs::new(Budget::default()),
        }
    }

    fn start(&self, job: &ScanJob) -> Result<()> {
        let (workspace, id) = (job.workspace_id()?, job.id.clone());
        let runner = self.runner.clone();
        self.jobs
            .spawn(&workspace.clone(), move |budget| async move {
                match runner.run(&workspace, &id, budget).await {
                    Ok(job) => tracing::info!(
                        scan = %id,
                        status = ?job.status,
                        read = job.contacts_read,
                        groups = job.groups,
                        "scan for similar names ran"
                    ),
                    Err(error) => tracing::error!(scan = %id, error = ?error, "scan run failed"),
                }
            })
    }

    /// Starts every unfinished scan again (after a restart).
    pub async fn resume(&self) -> Result<usize> {
        let unfinished: Vec<ScanJob> = self.runner.store().unfinished_jobs().await?;
        for job in &unfinished {
            self.start(job)?;
        }
        Ok(unfinished.len())
    }

    /// Stops every run at its next batch and waits for them.
    pub async fn stop(&self) {
        self.jobs.stop().await;
    }
}

#[async_trait]
impl Launcher<ScanJob> for ScanQueue {
    async fn launch(&self, job: &ScanJob) -> Result<()> {
        self.start(job)
    }
}
