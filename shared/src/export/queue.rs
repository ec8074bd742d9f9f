//! Runs exports inside this process (the local server): each starts when
//! it is created, and unfinished ones continue from their checkpoint when
//! the server starts again.

use async_trait::async_trait;

use super::job::ExportJob;
use super::runner::ExportRunner;
use crate::error::Result;
use crate::jobs::Budget;
use crate::jobs::figures::RunFigures;
use crate::jobs::{Launcher, LocalJobs};
use crate::model::now;

/// The in-process export queue. Cheap to clone.
#[derive(Clone)]
pub struct ExportQueue {
    runner: ExportRunner,
    jobs: LocalJobs,
}

impl ExportQueue {
    /// A queue whose runs each stop when `budget` is spent (or the queue stops).
    pub fn new(runner: ExportRunner, budget: Budget) -> Self {
        Self {
            runner,
            jobs: LocalJobs::new(budget),
        }
    }

    fn start(&self, job: &ExportJob) -> Result<()> {
        let (workspace, id) = (job.workspace_id()?, job.id.clone());
        let runner = self.runner.clone();
        self.jobs
            .spawn(&workspace.clone(), move |budget| async move {
                match runner.run(&workspace, &id, budget).await {
                    Ok(job) => RunFigures::of_export(&job, now()).log(),
                    Err(error) => {
                        tracing::error!(export = %id, error = ?error, "export run failed")
                    }
                }
            })
    }

    /// Starts every unfinished export again (after a restart).
    pub async fn resume(&self) -> Result<usize> {
        let unfinished: Vec<ExportJob> = self.runner.store().unfinished_jobs().await?;
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
impl Launcher<ExportJob> for ExportQueue {
    async fn launch(&self, job: &ExportJob) -> Result<()> {
        self.start(job)
    }
}
