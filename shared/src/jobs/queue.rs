//! Runs one kind of job inside this process (the local server): each
//! starts when it is created, one at a time per workspace, and unfinished
//! ones start again when the server does.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Budget, JobDocument, JobStore, Launcher, LocalJobs};
use crate::error::Result;
use crate::model::WorkspaceId;

/// What runs one kind of job from its stored state.
#[async_trait]
pub trait JobRunner: Clone + Send + Sync + 'static {
    type Job: JobDocument;

    /// Where the jobs are kept.
    fn store(&self) -> &Arc<dyn JobStore<Self::Job>>;

    /// Runs `job` until it ends or `budget` runs out; its state then.
    async fn run_job(
        &self,
        workspace: &WorkspaceId,
        job: &Self::Job,
        budget: Budget,
    ) -> Result<Self::Job>;

    /// Says how a run went (a log line, figures).
    fn ran(job: &Self::Job);
}

/// The in-process queue of `R`'s jobs. Cheap to clone.
#[derive(Clone)]
pub struct RunnerQueue<R> {
    runner: R,
    jobs: LocalJobs,
}

impl<R: JobRunner> RunnerQueue<R> {
    /// A queue whose runs each stop when `budget` is spent (or the queue stops).
    pub fn new(runner: R, budget: Budget) -> Self {
        Self {
            runner,
            jobs: LocalJobs::new(budget),
        }
    }

    fn start(&self, job: &R::Job) -> Result<()> {
        let workspace = WorkspaceId::parse(job.workspace())?;
        let (runner, job) = (self.runner.clone(), job.clone());
        self.jobs
            .spawn(&workspace.clone(), move |budget| async move {
                match runner.run_job(&workspace, &job, budget).await {
                    Ok(ran) => R::ran(&ran),
                    Err(error) => tracing::error!(
                        job = job.id(),
                        kind = ?<R::Job as JobDocument>::KIND,
                        error = ?error,
                        "a job's run failed"
                    ),
                }
            })
    }

    /// Starts every unfinished job again (after a restart).
    pub async fn resume(&self) -> Result<usize> {
        let unfinished: Vec<R::Job> = self.runner.store().unfinished_jobs().await?;
        for job in &unfinished {
            self.start(job)?;
        }
        Ok(unfinished.len())
    }

    /// Stops every run at its next checkpoint and waits for them.
    pub async fn stop(&self) {
        self.jobs.stop().await;
    }
}

#[async_trait]
impl<R: JobRunner> Launcher<R::Job> for RunnerQueue<R> {
    async fn launch(&self, job: &R::Job) -> Result<()> {
        self.start(job)
    }
}
