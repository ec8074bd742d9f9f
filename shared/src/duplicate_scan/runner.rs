//! Runs a scan: reads every contact of the workspace in batches (saving
//! its progress as it goes), groups the similar names and replaces the
//! workspace's `similar_name` keys with the groups.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::job::{ScanId, ScanJob, ScanStatus};
use crate::AppState;
use crate::error::{Error, Result};
use crate::jobs::{Budget, JobStore};
use crate::model::similar::{self, Traits};
use crate::model::{ContactSet, MessagingId, SimilarGroup, WorkspaceId, now};
use crate::query::{ContactQuery, Cursor};

/// Contacts read from the store at a time, unless configured otherwise.
pub const DEFAULT_BATCH: usize = 2_000;
/// Batches read between saves of the progress.
const PROGRESS_EVERY: u64 = 10;

/// Runs scans over the state's stores.
#[derive(Clone)]
pub struct ScanRunner {
    state: AppState,
    store: Arc<dyn JobStore<ScanJob>>,
    batch: usize,
}

/// The contacts a run compares: for each, its ID, its traits and when it
/// last changed.
#[derive(Default)]
struct Compared {
    ids: Vec<MessagingId>,
    traits: Vec<Traits>,
    changed: Vec<DateTime<Utc>>,
}

impl ScanRunner {
    /// A runner reading contacts through `state` and keeping scans in `store`.
    pub fn new(state: AppState, store: Arc<dyn JobStore<ScanJob>>) -> Self {
        Self {
            state,
            store,
            batch: DEFAULT_BATCH,
        }
    }

    /// The same runner reading `batch` contacts at a time.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Where it keeps scans.
    pub fn store(&self) -> &Arc<dyn JobStore<ScanJob>> {
        &self.store
    }

    /// Runs the scan from the start until it ends or `budget` runs out
    /// (counted in batches read; the scan is then left running, its keys
    /// untouched); returns its state.
    pub async fn run(
        &self,
        workspace: &WorkspaceId,
        id: &ScanId,
        budget: Budget,
    ) -> Result<ScanJob> {
        let mut job: ScanJob = self
            .store
            .job(workspace, id.as_ref())
            .await?
            .ok_or_else(|| Error::ScanNotFound(id.to_string()))?;
        if job.status.is_finished() {
            return Ok(job);
        }
        job.status = ScanStatus::Running;
        job.started_at.get_or_insert_with(now);
        job.contacts_total = self.state.contacts.count(workspace).await?;
        job.contacts_read = 0;
        job.contacts_named = 0;
        self.store.put_job(&job).await?;
        let mut compared = Compared::default();
        let (query, mut after, mut batches) = (ContactQuery::default(), None::<Cursor>, 0);
        loop {
            if budget.spent(batches) {
                self.store.put_job(&job).await?;
                return Ok(job);
            }
            let page = self
                .state
                .contacts
                .scan(workspace, &query, after.as_ref(), self.batch)
                .await?;
            job.contacts_read += page.items.len() as u64;
            for contact in page.items {
                if let Some(traits) = Traits::of(&contact) {
                    compared.ids.push(contact.messaging_id);
                    compared.traits.push(traits);
                    compared.changed.push(contact.updated_at);
                }
            }
            job.contacts_named = compared.ids.len() as u64;
            batches += 1;
            after = page.next_cursor;
            if after.is_none() {
                break;
            }
            if batches % PROGRESS_EVERY == 0 {
                self.store.put_job(&job).await?;
            }
        }
        let grouping = similar::group(&compared.traits);
        let groups: Vec<SimilarGroup> = grouping
            .groups
            .iter()
            .filter_map(|members| compared.group(members))
            .collect();
        self.state
            .duplicates
            .replace_similar(workspace, &groups)
            .await?;
        job.groups = groups.len() as u64;
        job.too_common = grouping.too_common as u64;
        job.status = ScanStatus::Completed;
        job.finished_at = Some(now());
        self.store.put_job(&job).await?;
        Ok(job)
    }
}

impl Compared {
    /// The group of `members` (indexes).
    fn group(&self, members: &[usize]) -> Option<SimilarGroup> {
        Some(SimilarGroup {
            members: ContactSet::new(members.iter().map(|&i| self.ids[i].clone())).ok()?,
            joined: members.iter().map(|&i| self.changed[i]).max()?,
        })
    }
}
