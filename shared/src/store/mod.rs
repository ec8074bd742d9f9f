//! The ports the domain needs from storage, and their adapters.
//!
//! Every method is scoped to one workspace, every write is conditional where a
//! race could lose data, and listings are paged with adapter-owned cursors, so
//! a key-value store can serve each call with a bounded number of requests.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{
    AttributeDefinition, AttributeId, AttributeName, ConsentChange, Contact, ContactList,
    ExternalId, ListId, ListName, Merge, MessagingId, WorkspaceId,
};
use crate::query::{ContactQuery, Cursor, Page, PageRequest};

pub mod audit;
#[cfg(feature = "contract")]
pub mod audit_contract;
#[cfg(feature = "contract")]
pub mod contract;
pub mod duplicates;
#[cfg(feature = "contract")]
pub mod duplicates_contract;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod embedded;
pub mod folder;
#[cfg(feature = "contract")]
pub mod import_contract;
pub mod imports;
#[cfg(feature = "contract")]
pub mod merge_contract;
#[cfg(feature = "contract")]
pub mod object_contract;
pub mod objects;
#[cfg(feature = "aws")]
pub mod s3;
pub mod suppressions;
#[cfg(feature = "contract")]
pub mod suppressions_contract;

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

    /// The contacts with these Messaging IDs that exist, in no particular
    /// order (a few reads, however many IDs).
    async fn get_many(&self, workspace: &WorkspaceId, ids: &[MessagingId]) -> Result<Vec<Contact>>;

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

    /// Writes a merge, all or nothing: the survivor's next version and its
    /// new history entries; for each merged contact, its history moved to
    /// the survivor, its External ID freed, its memberships and its place in
    /// the usage count dropped, and its Messaging ID left naming the survivor.
    ///
    /// Conditional on every contact's version as read: fails with
    /// `PreconditionFailed` when one changed and `ContactNotFound` when one
    /// is gone, and then writes nothing.
    async fn merge(&self, workspace: &WorkspaceId, merge: &Merge) -> Result<()>;

    /// The contact each of these merged-away Messaging IDs was merged into
    /// (one step: that contact may have been merged since). IDs that were
    /// never merged are left out.
    async fn merged_into(
        &self,
        workspace: &WorkspaceId,
        ids: &[MessagingId],
    ) -> Result<Vec<(MessagingId, MessagingId)>>;

    /// Deletes a contact and its history; `false` when there was none.
    async fn delete(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<bool>;

    /// One page of the contacts matching every filter, newest first.
    async fn list(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        page: &PageRequest,
    ) -> Result<Page<Contact>>;

    /// Every contact matching every filter, about `batch` at a time, in an
    /// order of the store's choosing (for reading them all: exports). Start
    /// with `after: None`, then pass each batch's `next_cursor` until it is
    /// `None`; a batch may be short, even empty, and still have one.
    async fn scan(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        after: Option<&Cursor>,
        batch: usize,
    ) -> Result<Page<Contact>> {
        let page = PageRequest {
            limit: batch.max(1),
            cursor: after.cloned(),
        };
        self.list(workspace, query, &page).await
    }

    /// How many contacts the workspace holds.
    async fn count(&self, workspace: &WorkspaceId) -> Result<u64>;

    /// Whether any contact of the workspace holds a value of the attribute.
    async fn holds_attribute(&self, workspace: &WorkspaceId, id: &AttributeId) -> Result<bool>;

    /// One page of a contact's consent changes, newest first.
    async fn consent_history(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        page: &PageRequest,
    ) -> Result<Page<ConsentChange>>;
}

/// Custom attribute definitions and the workspace's settings.
#[async_trait]
pub trait SchemaStore: Send + Sync {
    /// Every custom attribute of the workspace, by name.
    async fn attributes(&self, workspace: &WorkspaceId) -> Result<Vec<AttributeDefinition>>;

    /// Adds a definition; `NameTaken` when the name is in use.
    async fn create_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()>;

    /// Replaces the label and type of the definition with this name;
    /// `AttributeNotFound` when there is none.
    async fn update_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()>;

    /// Removes a definition; `false` when there was none.
    async fn delete_attribute(&self, workspace: &WorkspaceId, name: &AttributeName)
    -> Result<bool>;

    /// The saved table columns, by name; `None` when never saved.
    async fn columns(&self, workspace: &WorkspaceId) -> Result<Option<Vec<String>>>;

    /// Saves the table columns.
    async fn save_columns(&self, workspace: &WorkspaceId, columns: &[String]) -> Result<()>;
}

/// Contact lists. Membership is part of the contact (`Contact::lists`).
#[async_trait]
pub trait ListStore: Send + Sync {
    /// Every list of the workspace, by name.
    async fn lists(&self, workspace: &WorkspaceId) -> Result<Vec<ContactList>>;

    /// Adds a list; `NameTaken` when its name (ignoring case) is in use.
    async fn create_list(&self, workspace: &WorkspaceId, list: &ContactList) -> Result<()>;

    /// Renames a list; `ListNotFound`, `NameTaken`.
    async fn rename_list(
        &self,
        workspace: &WorkspaceId,
        id: &ListId,
        name: &ListName,
    ) -> Result<()>;

    /// Deletes a list and its memberships, never its contacts; `false` when
    /// there was none.
    async fn delete_list(&self, workspace: &WorkspaceId, id: &ListId) -> Result<bool>;

    /// How many contacts belong to the list.
    async fn member_count(&self, workspace: &WorkspaceId, id: &ListId) -> Result<u64>;
}
