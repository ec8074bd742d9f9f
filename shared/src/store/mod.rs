//! The ports the domain needs from storage, and their adapters.
//!
//! Every method is scoped to one workspace, every write is conditional where a
//! race could lose data, and listings are paged with adapter-owned cursors, so
//! a key-value store can serve each call with a bounded number of requests.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{ConsentChange, Contact, ExternalId, MessagingId, WorkspaceId};
use crate::query::{ContactQuery, Page, PageRequest};

#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod embedded;
#[cfg(feature = "contract")]
pub mod object_contract;
pub mod objects;
#[cfg(feature = "aws")]
pub mod s3;

/// A new contact with the consent changes its creation records.
pub type NewRecord = (Contact, Vec<ConsentChange>);

/// Contacts and their consent history.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores a new contact and its consent history, atomically.
    ///
    /// Fails with `DuplicateExternalId` when another contact holds its External
    /// ID, and with `UsageLimitReached` when the workspace already has `limit`
    /// contacts. Nothing is stored on failure.
    async fn insert(
        &self,
        workspace: &WorkspaceId,
        record: &NewRecord,
        limit: Option<u64>,
    ) -> Result<()>;

    /// Stores many new contacts, each on its own terms as [`ContactStore::insert`]:
    /// one outcome per record, in order. An `Err` of the whole call means the
    /// store could not be reached; which records landed is then unknown, and
    /// inserting them again reports the landed ones as duplicates.
    async fn insert_batch(
        &self,
        workspace: &WorkspaceId,
        records: &[NewRecord],
        limit: Option<u64>,
    ) -> Result<Vec<Result<()>>>;

    /// The contact with this Messaging ID.
    async fn get(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<Option<Contact>>;

    /// The contact with this External ID.
    async fn get_by_external_id(
        &self,
        workspace: &WorkspaceId,
        id: &ExternalId,
    ) -> Result<Option<Contact>>;

    /// Replaces a contact whose stored version is `expected_version` and
    /// appends `consent` to its history, atomically.
    ///
    /// Fails with `PreconditionFailed` when the stored version differs,
    /// `ContactNotFound` when it is gone, and `DuplicateExternalId` when its new
    /// External ID is taken.
    async fn update(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        expected_version: u64,
        consent: &[ConsentChange],
    ) -> Result<()>;

    /// Deletes a contact and its history; `false` when there was none.
    async fn delete(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<bool>;

    /// One page of the contacts matching every filter, newest first.
    async fn list(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        page: &PageRequest,
    ) -> Result<Page<Contact>>;

    /// How many contacts the workspace holds.
    async fn count(&self, workspace: &WorkspaceId) -> Result<u64>;

    /// One page of a contact's consent changes, newest first.
    async fn consent_history(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        page: &PageRequest,
    ) -> Result<Page<ConsentChange>>;
}
