//! The suppressions port: a workspace's secret for hashing identifiers,
//! the suppressions themselves, and erasing a contact together with
//! recording its suppression.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Contact, MessagingId, WorkspaceId};
use crate::privacy::suppression::{IdentifierHash, Suppression, SuppressionId, WorkspaceSecret};
use crate::query::{Page, PageRequest};

/// Where suppressions are kept. A hash is suppressed while any suppression
/// holding it stands.
#[async_trait]
pub trait SuppressionStore: Send + Sync {
    /// The workspace's secret, made on first use; every caller after gets
    /// the same one.
    async fn secret(&self, workspace: &WorkspaceId) -> Result<WorkspaceSecret>;

    /// Records `suppression`.
    async fn suppress(&self, workspace: &WorkspaceId, suppression: &Suppression) -> Result<()>;

    /// For each of `hashes`, in order, a suppression holding it (the oldest).
    async fn suppressed(
        &self,
        workspace: &WorkspaceId,
        hashes: &[IdentifierHash],
    ) -> Result<Vec<Option<Suppression>>>;

    /// The workspace's suppressions, newest first.
    async fn suppressions(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<Suppression>>;

    /// Lifts a suppression, so its identifiers may come back; false when
    /// there was none.
    async fn lift(&self, workspace: &WorkspaceId, id: &SuppressionId) -> Result<bool>;

    /// Deletes `contact` (as read: conditional on its version) as
    /// [`ContactStore::delete`](super::ContactStore::delete) does, and
    /// records `suppression`, all or nothing; false, writing nothing, when
    /// the contact changed or went since it was read. What can't be in the
    /// same write (on DynamoDB its history and search entries) is cleared
    /// after it, and left noted as pending until then, so that
    /// [`SuppressionStore::finish_erasure`] completes it.
    async fn erase(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        suppression: &Suppression,
    ) -> Result<bool>;

    /// Completes the erasure of `id` an interrupted [`SuppressionStore::erase`]
    /// left pending: the suppression it recorded, or `None` when no erasure
    /// of `id` is pending.
    async fn finish_erasure(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<Suppression>>;
}
