//! A run's turn on a job carried by queue messages (exports, scans): a
//! job runs only in the invocation holding its lease, which ends a little
//! after that invocation's deadline. A message that finds the lease held
//! comes back when it can't be; one that finds it expired takes the job
//! over, unless [`ATTEMPTS`](super::import::ATTEMPTS) runs in a row died
//! holding it, which fails the job.

use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use super::continuations::ContinuationQueue;
use super::import::{ATTEMPTS, DEFAULT_MARGIN, Deadline, LEASE_SLACK, Outcome, to_delta};
use crate::AppState;
use crate::error::Result;
use crate::jobs::{JobDocument, JobStore, Lease};
use crate::model::{WorkspaceId, now};

/// What a function run by a queue reads from its environment, once per
/// cold start.
pub(super) struct QueuedEnv {
    pub(super) state: AppState,
    pub(super) queue: ContinuationQueue,
    /// Contacts read at a time.
    pub(super) batch: usize,
    /// Time kept before each deadline.
    pub(super) margin: Duration,
}

impl QueuedEnv {
    /// The HTTP functions' state, the queue `<prefix>_QUEUE` names, and
    /// `<prefix>_BATCH` and `<prefix>_MARGIN_SECONDS` if set (else `batch`
    /// and the default margin).
    pub(super) async fn load(prefix: &str, batch: usize) -> anyhow::Result<Self> {
        let config = aws_config::from_env()
            .retry_config(super::import::retry_config())
            .load()
            .await;
        let state = super::state_over(&config)?;
        let name = format!("{prefix}_QUEUE");
        let queue = std::env::var(&name).with_context(|| format!("{name} is not set"))?;
        let batch = super::env_number(&format!("{prefix}_BATCH"), batch as u64)?;
        let margin = super::env_number(
            &format!("{prefix}_MARGIN_SECONDS"),
            DEFAULT_MARGIN.as_secs(),
        )?;
        Ok(Self {
            state,
            queue: ContinuationQueue::new(aws_sdk_sqs::Client::new(&config), queue),
            batch: usize::try_from(batch).unwrap_or(usize::MAX),
            margin: Duration::from_secs(margin),
        })
    }
}

/// What a message may do with its job.
pub(super) enum Turn<D> {
    /// Run it, holding this lease.
    Mine(D, Lease),
    /// Nothing more: why.
    Over(Outcome),
}

/// The job `id` of `workspace`, with its lease taken for a run until
/// `deadline`, or why this message may not run it. A run that finds the
/// lease held sends `asked` again for when it ends; `died` is the failure
/// of a job whose last runs all died.
pub(super) async fn take_turn<D: JobDocument, M: Serialize + Sync>(
    store: &dyn JobStore<D>,
    queue: &ContinuationQueue,
    asked: &M,
    (workspace, id): (&WorkspaceId, &str),
    deadline: Deadline,
    died: &str,
) -> Result<Turn<D>> {
    let Some(mut job) = store.job(workspace, id).await? else {
        return Ok(Turn::Over(Outcome::Ignored));
    };
    if job.is_finished() {
        return Ok(Turn::Over(Outcome::Finished));
    }
    let held = job.lease().cloned();
    if let Some(lease) = held.as_ref().filter(|l| !l.expired(now())) {
        // Its holder may still be running: look again when it can't be.
        let wait: Duration = (lease.until - now()).to_std().unwrap_or_default();
        queue.send(asked, wait).await?;
        return Ok(Turn::Over(Outcome::Waiting));
    }
    let from = held.as_ref().map(|l| l.token.as_str());
    if held.as_ref().is_some_and(|l| l.runs >= ATTEMPTS) {
        job.set_lease(None);
        job.mark_failed(died.to_owned());
        store.hand_over_job(&job, from).await?;
        return Ok(Turn::Over(Outcome::Failed));
    }
    let mine = Lease::after(held.as_ref(), deadline.at + to_delta(LEASE_SLACK));
    job.set_lease(Some(mine.clone()));
    if !store.hand_over_job(&job, from).await? {
        return Ok(Turn::Over(Outcome::Running));
    }
    Ok(Turn::Mine(job, mine))
}
