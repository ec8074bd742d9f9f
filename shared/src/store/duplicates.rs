//! The duplicates port: the keys contacts were found sharing when written,
//! and the groups people said are not one person.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::{
    ContactSet, DuplicateKey, DuplicateReason, MessagingId, SimilarGroup, WorkspaceId,
};
use crate::query::{Cursor, Page, PageRequest};

/// Where duplicates may be. Stores note a key whenever they write a
/// contact that holds a value (an email, a phone) another contact holds.
#[async_trait]
pub trait DuplicateStore: Send + Sync {
    /// One page of the keys noted, strongest reason first, then the most
    /// recently joined; `reason` keeps one reason. A key's contacts may
    /// have changed since it was noted: callers look them up.
    async fn duplicate_keys(
        &self,
        workspace: &WorkspaceId,
        reason: Option<DuplicateReason>,
        page: &PageRequest,
    ) -> Result<Page<DuplicateKey>>;

    /// Replaces the workspace's `similar_name` groups with `groups`, those a
    /// scan found.
    async fn replace_similar(&self, workspace: &WorkspaceId, groups: &[SimilarGroup])
    -> Result<()>;

    /// The contacts of the `similar_name` group whose key's value is
    /// `anchor`; none when there is no such group.
    async fn similar_group(
        &self,
        workspace: &WorkspaceId,
        anchor: &str,
    ) -> Result<Vec<MessagingId>>;

    /// The `similar_name` key of the group the last scan put `id` in.
    async fn similar_key_of(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<DuplicateKey>>;

    /// Records that the contacts of `set` are not one person.
    async fn dismiss(&self, workspace: &WorkspaceId, set: &ContactSet) -> Result<()>;

    /// Whether each of `sets` was dismissed.
    async fn dismissed(&self, workspace: &WorkspaceId, sets: &[ContactSet]) -> Result<Vec<bool>>;
}

/// The cursor after `key`.
pub fn position_cursor(key: &DuplicateKey) -> Cursor {
    Cursor::at("dup", &key.position())
}

/// The position a cursor continues after; `None` for the first page.
pub fn cursor_position(cursor: Option<&Cursor>) -> Result<Option<String>> {
    match Cursor::position(cursor, "dup")? {
        Some(position) if DuplicateKey::from_position(&position).is_none() => Err(Error::invalid(
            "cursor",
            "is not a cursor this listing returned",
        )),
        found => Ok(found),
    }
}

/// The range of positions a page reads: after the cursor, within `reason`.
pub fn position_range(
    reason: Option<DuplicateReason>,
    cursor: Option<&Cursor>,
) -> Result<(String, String)> {
    let (low, high) = match reason {
        Some(reason) => (format!("{}#", reason.rank()), format!("{}$", reason.rank())),
        None => ("0".to_owned(), "~".to_owned()),
    };
    let after = cursor_position(cursor)?.map_or(low.clone(), |p| p.max(low));
    Ok((after, high))
}

/// A page of `keys`, read one past `limit` to tell whether another follows.
pub fn page_of_keys(mut keys: Vec<DuplicateKey>, limit: usize) -> Page<DuplicateKey> {
    let next_cursor = if keys.len() > limit {
        keys.truncate(limit);
        keys.last().map(position_cursor)
    } else {
        None
    };
    Page {
        items: keys,
        next_cursor,
    }
}
