//! Finding duplicates: the keys the stores noted, each with the contacts
//! that share it now, less the groups dismissed.

use futures::{StreamExt, TryStreamExt, stream};

use crate::error::Result;
use crate::model::similar::{self, Traits};
use crate::model::{
    Contact, ContactSet, DuplicateReason, Email, MAX_GROUP, MessagingId, PhoneNumber, WorkspaceId,
};
use crate::query::{ContactFilter, ContactQuery, Page, PageRequest};
use crate::store::ContactStore;
use crate::store::duplicates::DuplicateStore;

/// Groups looked up at once while reading a page.
const CONCURRENCY: usize = 8;

/// Contacts that are probably one person, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGroup {
    pub reason: DuplicateReason,
    /// What they share: the email (lower case) or the phone number; for
    /// similar names, the first Messaging ID of the group the scan found.
    pub value: String,
    /// Newest first, at most [`MAX_GROUP`].
    pub contacts: Vec<Contact>,
}

impl DuplicateGroup {
    /// Its contacts as a set, as dismissed.
    fn set(&self) -> Option<ContactSet> {
        ContactSet::new(self.contacts.iter().map(|c| c.messaging_id.clone())).ok()
    }
}

/// One page of groups: strongest reason first, then the most recently
/// joined. Keys whose contacts no longer share them, and dismissed groups,
/// are left out, so a page may hold fewer groups and still have a cursor.
pub async fn page(
    contacts: &dyn ContactStore,
    duplicates: &dyn DuplicateStore,
    workspace: &WorkspaceId,
    reason: Option<DuplicateReason>,
    page: &PageRequest,
) -> Result<Page<DuplicateGroup>> {
    let keys = duplicates.duplicate_keys(workspace, reason, page).await?;
    // By index: a stream of borrowed keys trips the compiler's lifetime
    // inference inside a handler's future.
    let groups: Vec<DuplicateGroup> = stream::iter(0..keys.items.len())
        .map(|i| {
            group_of(
                contacts,
                duplicates,
                workspace,
                keys.items[i].reason,
                &keys.items[i].value,
            )
        })
        .buffered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    Ok(Page {
        items: undismissed(duplicates, workspace, groups).await?,
        next_cursor: keys.next_cursor,
    })
}

/// The groups `contact` is in now: the contacts sharing its email, those
/// sharing its phone, and those the last scan found with a similar name,
/// unless dismissed.
pub async fn groups_of(
    contacts: &dyn ContactStore,
    duplicates: &dyn DuplicateStore,
    workspace: &WorkspaceId,
    contact: &Contact,
) -> Result<Vec<DuplicateGroup>> {
    let mut groups = Vec::new();
    for reason in DuplicateReason::SHARED_VALUES {
        if let Some(value) = reason.value_of(contact)
            && let Some(group) = group_of(contacts, duplicates, workspace, reason, &value).await?
        {
            groups.push(group);
        }
    }
    if let Some(key) = duplicates
        .similar_key_of(workspace, &contact.messaging_id)
        .await?
        && let Some(group) =
            group_of(contacts, duplicates, workspace, key.reason, &key.value).await?
        && group
            .contacts
            .iter()
            .any(|c| c.messaging_id == contact.messaging_id)
    {
        groups.push(group);
    }
    undismissed(duplicates, workspace, groups).await
}

/// Records that `ids` are not one person: their group stops showing (a
/// contact joining it later makes a new group, which shows).
pub async fn dismiss(
    duplicates: &dyn DuplicateStore,
    workspace: &WorkspaceId,
    ids: Vec<MessagingId>,
) -> Result<()> {
    let set =
        ContactSet::new(ids).map_err(|e| crate::error::Error::invalid("messaging_ids", e.0))?;
    duplicates.dismiss(workspace, &set).await
}

/// The contacts holding `value` for `reason` now, when more than one does.
async fn group_of(
    contacts: &dyn ContactStore,
    duplicates: &dyn DuplicateStore,
    workspace: &WorkspaceId,
    reason: DuplicateReason,
    value: &str,
) -> Result<Option<DuplicateGroup>> {
    let filter = match reason {
        DuplicateReason::SameEmail => ContactFilter::EmailIs(Email::parse(value)?),
        DuplicateReason::SamePhone => ContactFilter::PhoneIs(PhoneNumber::parse(value)?),
        DuplicateReason::SimilarName => {
            let members = duplicates.similar_group(workspace, value).await?;
            return Ok(similar_now(contacts, workspace, &members)
                .await?
                .map(|contacts| DuplicateGroup {
                    reason,
                    value: value.to_owned(),
                    contacts,
                }));
        }
    };
    let query = ContactQuery {
        filters: vec![filter],
    };
    let found = contacts
        .list(workspace, &query, &PageRequest::first(MAX_GROUP))
        .await?;
    Ok((found.items.len() > 1).then(|| DuplicateGroup {
        reason,
        value: value.to_owned(),
        contacts: found.items,
    }))
}

/// The contacts a scan found with similar names (`ids`) that still exist
/// and are still similar, newest first, when more than one are.
async fn similar_now(
    contacts: &dyn ContactStore,
    workspace: &WorkspaceId,
    ids: &[MessagingId],
) -> Result<Option<Vec<Contact>>> {
    let found = contacts.get_many(workspace, ids).await?;
    let (traits, mut people): (Vec<Traits>, Vec<Option<Contact>>) = found
        .into_iter()
        .filter_map(|contact| Some((Traits::of(&contact)?, Some(contact))))
        .unzip();
    let Some(largest) = similar::group(&traits)
        .groups
        .into_iter()
        .max_by_key(Vec::len)
    else {
        return Ok(None);
    };
    let mut group: Vec<Contact> = largest
        .into_iter()
        .filter_map(|i| people[i].take())
        .collect();
    group.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    Ok(Some(group))
}

async fn undismissed(
    duplicates: &dyn DuplicateStore,
    workspace: &WorkspaceId,
    groups: Vec<DuplicateGroup>,
) -> Result<Vec<DuplicateGroup>> {
    let sets: Vec<Option<ContactSet>> = groups.iter().map(DuplicateGroup::set).collect();
    let asked: Vec<ContactSet> = sets.iter().flatten().cloned().collect();
    let mut answers = duplicates.dismissed(workspace, &asked).await?.into_iter();
    Ok(groups
        .into_iter()
        .zip(sets)
        .filter(|(_, set)| !(set.is_some() && answers.next().unwrap_or(false)))
        .map(|(group, _)| group)
        .collect())
}
