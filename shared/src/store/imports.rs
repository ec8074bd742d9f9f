//! The import port: imports and their checkpoints, the bulk lookups and
//! writes an import runs on, and what it must remember between batches.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::NewRecord;
use crate::error::Result;
use crate::import::job::{ImportId, ImportJob};
use crate::model::{
    ConsentChange, Contact, Email, ExternalId, MessagingId, PhoneNumber, WorkspaceId,
};
use crate::query::{Page, PageRequest};

/// Identifiers to find contacts by, all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    pub external_ids: Vec<ExternalId>,
    pub messaging_ids: Vec<MessagingId>,
    /// Matched ignoring case.
    pub emails: Vec<Email>,
    pub phones: Vec<PhoneNumber>,
}

/// A row the import refused: as uploaded, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub cells: Vec<String>,
    pub error: String,
}

/// A contact replaced conditionally on the version that was read, by the
/// row at `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub contact: Contact,
    pub expected_version: u64,
    pub consent: Vec<ConsentChange>,
    pub line: u64,
}

/// The key a store that writes a batch's updates one by one remembers with
/// each update, in the same write: a plan made again after some of them
/// were applied (a lost race, a crash) tells those rows from unchanged ones.
pub fn applied_key(line: u64) -> String {
    format!("u:{line}")
}

/// One batch of an import's work, with the checkpoint it reaches.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The import as it stands after this batch (counts, checkpoint).
    pub job: ImportJob,
    pub creates: Vec<NewRecord>,
    pub updates: Vec<Update>,
    pub deletes: Vec<MessagingId>,
    /// Keys the import must remember (identifiers seen, contacts identified),
    /// with the line that first gave each.
    pub seen: Vec<(String, u64)>,
    pub rejected: Vec<Rejected>,
}

/// Imports and the bulk path they write through.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Stores a new import unless one with its ID exists; false, changing
    /// nothing, if one does.
    async fn create_import(&self, job: &ImportJob) -> Result<bool>;

    /// Replaces an import's state.
    async fn save_import(&self, job: &ImportJob) -> Result<()>;

    /// Saves `job`, which carries a new lease, if the stored import's lease
    /// token is `from` (`None`: it has no lease); false, saving nothing, if
    /// not (another run took it first).
    async fn hand_over(&self, job: &ImportJob, from: Option<&str>) -> Result<bool>;

    /// Claims the version `version` of the object at `object` for `import`,
    /// unless an import has claimed it already; returns the import that
    /// holds the claim. An upload delivered twice is claimed once.
    async fn claim(
        &self,
        workspace: &WorkspaceId,
        object: &str,
        version: &str,
        import: &ImportId,
    ) -> Result<ImportId>;

    /// One import of the workspace.
    async fn import(&self, workspace: &WorkspaceId, id: &ImportId) -> Result<Option<ImportJob>>;

    /// The workspace's imports, newest first.
    async fn imports(&self, workspace: &WorkspaceId, page: &PageRequest)
    -> Result<Page<ImportJob>>;

    /// Imports of every workspace that have not finished, oldest first.
    async fn unfinished_imports(&self) -> Result<Vec<ImportJob>>;

    /// Every contact of the workspace that any of the identifiers names.
    async fn lookup(&self, workspace: &WorkspaceId, keys: &Lookup) -> Result<Vec<Contact>>;

    /// Which of `keys` the import has remembered, with their lines.
    async fn seen(
        &self,
        workspace: &WorkspaceId,
        import: &ImportId,
        keys: &[String],
    ) -> Result<HashMap<String, u64>>;

    /// Applies a batch: creates (each within `limit`), conditional updates,
    /// deletes, remembered keys, rejected rows and the import's new state,
    /// all or nothing where the store allows. A create whose External ID is
    /// taken fails with `DuplicateExternalId` (or `ExternalIdsTaken`, naming
    /// every one, where the rest of the batch was written), a stale update with
    /// `PreconditionFailed` or `ContactNotFound`, a create over the limit with
    /// `UsageLimitReached`.
    async fn commit(
        &self,
        workspace: &WorkspaceId,
        commit: Arc<Commit>,
        limit: Option<u64>,
    ) -> Result<()>;

    /// Contacts created before `before` whose Messaging ID the import has not
    /// remembered as identified, after the position `after`; with the
    /// position to continue from (`None` when done).
    async fn unseen(
        &self,
        workspace: &WorkspaceId,
        import: &ImportId,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<MessagingId>, Option<String>)>;

    /// The import's rejected rows after line `after`, in file order.
    async fn rejected(
        &self,
        workspace: &WorkspaceId,
        import: &ImportId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Rejected>>;

    /// Drops what the import remembered (keys, rejected rows) once it ends;
    /// an adapter may leave the remembered keys to expire instead.
    async fn forget(&self, workspace: &WorkspaceId, import: &ImportId) -> Result<()>;

    /// How many of `creates` (the External ID, if any, and the Messaging ID
    /// a row would create) were counted already by a commit of theirs that
    /// was interrupted: those that hold their External ID, and those without
    /// one that exist. None, where a commit is all or nothing.
    async fn counted_already(
        &self,
        _workspace: &WorkspaceId,
        _creates: &[(Option<ExternalId>, MessagingId)],
    ) -> Result<u64> {
        Ok(0)
    }

    /// Whether lookups by email and phone may miss contacts written moments
    /// ago (they read an eventually consistent index).
    fn reach_lookups_lag(&self) -> bool {
        false
    }

    /// How long what an import remembers is kept after it is written
    /// (`None`: until it is forgotten). An import can't continue exactly
    /// once the keys of its first batches may be gone.
    fn remembers_for(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Import documents and rejected rows are kept as JSON by both adapters.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| crate::error::Error::Unexpected(e.into()))
}

/// A value [`to_json`] stored.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| crate::error::Error::Unexpected(e.into()))
}
