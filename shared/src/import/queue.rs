//! Runs imports inside this process (the local server): started when their
//! CSV lands, one at a time per workspace in arrival order, resumed from
//! their checkpoint when the server starts again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use super::job::{ImportId, ImportStatus};
use super::runner::{Budget, Runner};
use crate::error::Result;
use crate::model::WorkspaceId;
use crate::store::objects::ObjectKey;

/// The in-process import queue. Cheap to clone.
#[derive(Clone)]
pub struct ImportQueue {
    inner: Arc<Inner>,
}

struct Inner {
    runner: Runner,
    budget: Budget,
    stop: Arc<AtomicBool>,
    workspaces: Mutex<HashMap<WorkspaceId, Arc<tokio::sync::Mutex<()>>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl ImportQueue {
    /// A queue whose runs each stop when `budget` is spent (or the queue stops).
    pub fn new(runner: Runner, budget: Budget) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let budget = Budget {
            stop: Some(Arc::clone(&stop)),
            ..budget
        };
        Self {
            inner: Arc::new(Inner {
                runner,
                budget,
                stop,
                workspaces: Mutex::new(HashMap::new()),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Queues an import whose CSV has arrived; it runs once the workspace's
    /// earlier imports end.
    pub async fn submit(&self, workspace: &WorkspaceId, id: &ImportId) -> Result<()> {
        let store = &self.inner.runner.ports().store;
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
        let lock = Arc::clone(
            self.inner
                .workspaces
                .lock()
                .map_err(|_| anyhow::anyhow!("the import queue was poisoned"))?
                .entry(workspace.clone())
                .or_default(),
        );
        let inner = Arc::clone(&self.inner);
        let (workspace, id) = (workspace.clone(), id.clone());
        let task = tokio::spawn(async move {
            let _turn = lock.lock().await;
            if inner.stop.load(Ordering::Relaxed) {
                return;
            }
            match inner
                .runner
                .run(&workspace, &id, inner.budget.clone())
                .await
            {
                Ok(job) => tracing::info!(
                    import = %id,
                    status = ?job.status,
                    rows = job.counts.rows,
                    "import run ended"
                ),
                Err(error) => tracing::error!(import = %id, error = ?error, "import run failed"),
            }
        });
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
        Ok(())
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
        let ports = self.inner.runner.ports();
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
        self.inner.stop.store(true, Ordering::Relaxed);
        let tasks = self
            .inner
            .tasks
            .lock()
            .map(|mut tasks| std::mem::take(&mut *tasks))
            .unwrap_or_default();
        for task in tasks {
            let _ = task.await;
        }
    }
}
