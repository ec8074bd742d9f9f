//! Runs imports inside this process (the local server): started when their
//! CSV lands, one at a time per workspace in arrival order, resumed from
//! their checkpoint when the server starts again.

use std::sync::Arc;

use super::job::{ImportId, ImportStatus};
use super::runner::{Budget, Runner};
use crate::error::Result;
use crate::jobs::LocalJobs;
use crate::jobs::figures::RunFigures;
use crate::model::{WorkspaceId, now};
use crate::store::objects::ObjectKey;

/// The in-process import queue. Cheap to clone.
#[derive(Clone)]
pub struct ImportQueue {
    runner: Arc<Runner>,
    jobs: LocalJobs,
}

impl ImportQueue {
    /// A queue whose runs each stop when `budget` is spent (or the queue stops).
    pub fn new(runner: Runner, budget: Budget) -> Self {
        Self {
            runner: Arc::new(runner),
            jobs: LocalJobs::new(budget),
        }
    }

    /// Queues an import whose CSV has arrived; it runs once the workspace's
    /// earlier imports end.
    pub async fn submit(&self, workspace: &WorkspaceId, id: &ImportId) -> Result<()> {
        let store = &self.runner.ports().store;
        let Some(mut job) = store.import(workspace, id).await? else {
            return Ok(());
        };
        if job.status.is_finished() {
            return Ok(());
        }
        if job.status == ImportStatus::WaitingForUpload {
            job.status = ImportStatus::Queued;
            store.save_import(&job).await?;
        }
        let runner = Arc::clone(&self.runner);
        let (workspace, id) = (workspace.clone(), id.clone());
        self.jobs
            .spawn(&workspace.clone(), move |budget| async move {
                match runner.run(&workspace, &id, budget).await {
                    Ok(job) => RunFigures::of_import(&job, now()).log(),
                    Err(error) => {
                        tracing::error!(import = %id, error = ?error, "import run failed")
                    }
                }
            })
    }

    /// Queues the import whose CSV just landed at `key`, if it is one.
    pub fn uploaded(&self, key: &ObjectKey) {
        let Some((workspace, id)) = super::job::ImportJob::parse_csv_key(key) else {
            return;
        };
        let queue = self.clone();
        tokio::spawn(async move {
            if let Err(error) = queue.submit(&workspace, &id).await {
                tracing::error!(import = %id, error = ?error, "could not queue the import");
            }
        });
    }

    /// Queues every unfinished import whose CSV has arrived (after a restart).
    pub async fn resume(&self) -> Result<usize> {
        let ports = self.runner.ports();
        let mut resumed = 0;
        for job in ports.store.unfinished_imports().await? {
            let arrived = match job.status {
                ImportStatus::WaitingForUpload => {
                    ports.objects.head(&job.csv_key()?).await?.is_some()
                }
                _ => true,
            };
            if arrived {
                self.submit(&job.workspace_id()?, &job.id).await?;
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Stops every run at its next checkpoint and waits for them.
    pub async fn stop(&self) {
        self.jobs.stop().await;
    }
}
