//! A run's turn on a job carried by queue messages (exports, scans): a
//! job runs only in the invocation holding its lease, which ends a little
//! after that invocation's deadline. A message that finds the lease held
//! comes back when it can't be; one that finds it expired takes the job
//! over, unless [`ATTEMPTS`](super::import::ATTEMPTS) runs in a row died
//! holding it, which fails the job.

use std::time::Duration;

use serde::Serialize;

use super::continuations::ContinuationQueue;
use super::import::{ATTEMPTS, Deadline, LEASE_SLACK, Outcome, to_delta};
use crate::error::Result;
use crate::jobs::{JobDocument, JobStore, Lease};
use crate::model::{WorkspaceId, now};

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
