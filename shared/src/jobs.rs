//! Long work done in steps (imports, exports): how much one run may do, who
//! may run it, and the port that keeps its document between runs.

pub mod figures;
pub mod queue;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::WorkspaceId;
use crate::query::{Page, PageRequest};

/// How much one run may do before it stops at a checkpoint (the rest is
/// left for the next run).
#[derive(Debug, Clone, Default)]
pub struct Budget {
    /// Stop once this moment has passed.
    pub deadline: Option<Instant>,
    /// Stop after this many checkpoints.
    pub batches: Option<u64>,
    /// Stop once this is set (the process is shutting down).
    pub stop: Option<Arc<AtomicBool>>,
}

impl Budget {
    /// Whether a run that has reached `checkpoints` checkpoints must stop now.
    pub fn spent(&self, checkpoints: u64) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
            || self.batches.is_some_and(|b| checkpoints >= b)
            || self
                .stop
                .as_ref()
                .is_some_and(|stop| stop.load(Ordering::Relaxed))
    }
}

/// Who may run a job now: the holder of `token`, until `until`. A run
/// ends before its lease does, so an expired lease has no live holder; a
/// lease handed to a continuation is released at once (`until` = the
/// moment of handing over) for the bearer of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
    /// Runs in a row that took the job over without one handing it on
    /// from a checkpoint (0 for a lease handed on).
    #[serde(default)]
    pub runs: u32,
}

impl Lease {
    /// A new lease, with a token never issued before.
    pub fn new(until: DateTime<Utc>) -> Self {
        Self {
            token: ulid::Ulid::new().to_string(),
            until,
            runs: 0,
        }
    }

    /// The lease `token` given up at `now`, by a run that reached a
    /// checkpoint: any message carrying the token may take it over at once.
    pub fn released(token: &str, now: DateTime<Utc>) -> Self {
        Self {
            token: token.to_owned(),
            until: now,
            runs: 0,
        }
    }

    /// The lease of a run that takes over from `held` (none: the first run).
    pub fn after(held: Option<&Lease>, until: DateTime<Utc>) -> Self {
        Self {
            runs: held.map_or(0, |l| l.runs) + 1,
            ..Self::new(until)
        }
    }

    /// Whether `now` is past it.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.until <= now
    }
}

/// A new ULID, greater than every one this process issued before, so jobs
/// list in the order they were made.
pub fn next_ulid() -> String {
    static GENERATOR: std::sync::LazyLock<std::sync::Mutex<ulid::Generator>> =
        std::sync::LazyLock::new(|| std::sync::Mutex::new(ulid::Generator::new()));
    let next = GENERATOR
        .lock()
        .ok()
        .and_then(|mut generator| generator.generate().ok());
    match next {
        Some(id) => id.to_string(),
        // The random part overflowed within one millisecond: start afresh.
        None => ulid::Ulid::new().to_string(),
    }
}

/// Declares the ID type of a kind of job: a ULID (so jobs sort by creation
/// time), with `generate`, `parse` (naming `$what` when it fails) and a
/// `Deserialize` that checks it.
macro_rules! job_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        crate::model::string_type!($(#[$meta])* $name);

        impl $name {
            /// A new, never-before-issued ID, greater than every ID this
            /// process issued before.
            pub fn generate() -> Self {
                Self(crate::jobs::next_ulid())
            }

            /// Checks that `raw` has the form of such an ID.
            pub fn parse(raw: &str) -> Result<Self, crate::model::InvalidValue> {
                ulid::Ulid::from_string(raw)
                    .map(|id| Self::from_stored(id.to_string()))
                    .map_err(|_| crate::model::InvalidValue(format!("{raw:?} is not {}", $what)))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use job_id;

/// The kinds of job documents; each adapter keeps a kind apart (a table, a
/// key prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Import,
    Export,
    DuplicateScan,
}

/// A job as a store keeps it: one JSON document per job, found by workspace
/// and ID (a ULID), with its lease for compare-and-set hand-overs.
pub trait JobDocument: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Where documents of this type are kept.
    const KIND: JobKind;
    /// The workspace it belongs to, as stored.
    fn workspace(&self) -> &str;
    /// Its ID, a ULID.
    fn id(&self) -> &str;
    /// Whether it has ended, one way or the other.
    fn is_finished(&self) -> bool;
    /// Who may run it now, if anyone.
    fn lease(&self) -> Option<&Lease>;
    /// Gives it `lease`.
    fn set_lease(&mut self, lease: Option<Lease>);
    /// Marks it failed with a reason a person can act on.
    fn mark_failed(&mut self, reason: String);

    /// The token of its lease, if any.
    fn lease_token(&self) -> Option<&str> {
        self.lease().map(|l| l.token.as_str())
    }
}

/// Implements [`JobDocument`] for a job type with `workspace`, `id`,
/// `status` (which tells `is_finished`) and `lease` fields and a `fail`
/// method, kept as `$kind`.
macro_rules! job_document {
    ($job:ty, $kind:expr) => {
        impl crate::jobs::JobDocument for $job {
            const KIND: crate::jobs::JobKind = $kind;

            fn workspace(&self) -> &str {
                &self.workspace
            }

            fn id(&self) -> &str {
                self.id.as_ref()
            }

            fn is_finished(&self) -> bool {
                self.status.is_finished()
            }

            fn lease(&self) -> Option<&crate::jobs::Lease> {
                self.lease.as_ref()
            }

            fn set_lease(&mut self, lease: Option<crate::jobs::Lease>) {
                self.lease = lease;
            }

            fn mark_failed(&mut self, reason: String) {
                self.fail(reason);
            }
        }
    };
}
pub(crate) use job_document;

/// Keeps job documents of type `D`.
#[async_trait]
pub trait JobStore<D: JobDocument>: Send + Sync {
    /// Stores the job, replacing its earlier state.
    async fn put_job(&self, job: &D) -> Result<()>;

    /// Stores a new job unless one with its ID exists; false, changing
    /// nothing, if one does (a repeated delivery created it first).
    async fn create_job(&self, job: &D) -> Result<bool>;

    /// Saves `job`, which carries a new lease, if the stored job's lease
    /// token is `from` (`None`: it has no lease); false, saving nothing, if
    /// not (another run took it first).
    async fn hand_over_job(&self, job: &D, from: Option<&str>) -> Result<bool>;

    /// One job of the workspace.
    async fn job(&self, workspace: &WorkspaceId, id: &str) -> Result<Option<D>>;

    /// The workspace's jobs, newest first.
    async fn jobs(&self, workspace: &WorkspaceId, page: &PageRequest) -> Result<Page<D>>;

    /// Jobs of every workspace that have not finished, oldest first.
    async fn unfinished_jobs(&self) -> Result<Vec<D>>;
}

/// Starts a job's first run: in this process, or through a queue.
#[async_trait]
pub trait Launcher<D: JobDocument>: Send + Sync {
    /// Has `job` run soon; returns once that is arranged.
    async fn launch(&self, job: &D) -> Result<()>;
}

/// The position before `cursor` in a newest-first listing of jobs: the
/// cursor is the last ID of the previous page.
pub(crate) fn jobs_before(page: &PageRequest) -> Result<String> {
    match &page.cursor {
        Some(cursor) => ulid::Ulid::from_string(&cursor.0)
            .map(|id| id.to_string())
            .map_err(|_| crate::Error::invalid("cursor", "is not a cursor this listing returned")),
        None => Ok("~".to_owned()),
    }
}

/// The page of `items` (read one past the limit): trimmed, with the cursor
/// after its last item.
pub(crate) fn jobs_page<D: JobDocument>(items: Vec<D>, page: &PageRequest) -> Page<D> {
    Page::one_past(items, page.limit, |job| job.id().to_owned())
}

/// Runs jobs on tasks of this process (the local server): one at a time
/// per workspace, in the order they were spawned; [`LocalJobs::stop`]
/// makes each stop at its next checkpoint. Cheap to clone.
#[derive(Clone)]
pub struct LocalJobs {
    inner: Arc<LocalInner>,
}

struct LocalInner {
    budget: Budget,
    stop: Arc<AtomicBool>,
    workspaces: Mutex<HashMap<WorkspaceId, Arc<tokio::sync::Mutex<()>>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl LocalJobs {
    /// Jobs whose runs each stop when `budget` is spent (or on `stop`).
    pub fn new(budget: Budget) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let budget = Budget {
            stop: Some(Arc::clone(&stop)),
            ..budget
        };
        Self {
            inner: Arc::new(LocalInner {
                budget,
                stop,
                workspaces: Mutex::new(HashMap::new()),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `job` with the budget once the workspace's earlier jobs end
    /// (unless the jobs are stopping by then).
    pub fn spawn<F, Fut>(&self, workspace: &WorkspaceId, job: F) -> Result<()>
    where
        F: FnOnce(Budget) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let turn = Arc::clone(
            self.inner
                .workspaces
                .lock()
                .map_err(|_| anyhow::anyhow!("the job queue was poisoned"))?
                .entry(workspace.clone())
                .or_default(),
        );
        let inner = Arc::clone(&self.inner);
        let task = tokio::spawn(async move {
            let _turn = turn.lock().await;
            if !inner.stop.load(Ordering::Relaxed) {
                job(inner.budget.clone()).await;
            }
        });
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
        Ok(())
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
