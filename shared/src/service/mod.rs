//! The contact use cases, over the store port.

use crate::audit::{Audit, Change, Operation, changed_fields};
use crate::error::{Error, Result};
use crate::model::{
    Channel, ConsentChange, ConsentChoice, ConsentSource, Contact, ContactChanges, ListId,
    MessagingId, NewContact, WorkspaceId, now,
};
use crate::store::ContactStore;

pub mod duplicates;
mod merge;

pub use merge::{MergePreview, merge, preview as merge_preview, survivor_of};

/// How often an unconditional edit re-reads and retries after losing a race.
const EDIT_ATTEMPTS: usize = 5;

/// Creates a contact, recording its initial consent as coming from `source`.
pub async fn create(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    new: NewContact,
    source: &ConsentSource,
    limit: Option<u64>,
) -> Result<Contact> {
    let record = Contact::create(new, source, now())?;
    store.insert(audit.workspace(), &record, limit).await?;
    let contact = record.0;
    audit
        .record(Change::contact(
            Operation::ContactCreated,
            &contact.messaging_id,
            changed_fields(None, Some(&contact)),
        ))
        .await;
    Ok(contact)
}

/// The contact with this Messaging ID; `ContactMerged` when it was merged
/// into another, else `ContactNotFound`.
pub async fn get(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    id: &MessagingId,
) -> Result<Contact> {
    match store.get(workspace, id).await? {
        Some(contact) => Ok(contact),
        None => Err(absent(store, workspace, id).await),
    }
}

/// Why no contact has this Messaging ID: it was merged into another, or it
/// never existed (or was deleted).
pub async fn absent(store: &dyn ContactStore, workspace: &WorkspaceId, id: &MessagingId) -> Error {
    match survivor_of(store, workspace, id).await {
        Ok(Some(into)) => Error::ContactMerged {
            id: id.clone(),
            into,
        },
        Ok(None) => Error::ContactNotFound(id.to_string()),
        Err(error) => error,
    }
}

/// Edits a contact's generic attributes.
pub async fn edit(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    id: &MessagingId,
    changes: ContactChanges,
    if_match: Option<u64>,
) -> Result<Contact> {
    modify(
        store,
        audit,
        Operation::ContactUpdated,
        id,
        if_match,
        |current| Ok((current.edited(changes.clone(), now())?, Vec::new())),
    )
    .await
}

/// Adds a contact to a list (a contact already in it stays as it is).
pub async fn add_to_list(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    id: &MessagingId,
    list: &ListId,
) -> Result<Contact> {
    change_lists(store, audit, id, |lists| {
        lists.insert(list.clone());
    })
    .await
}

/// Removes a contact from a list.
pub async fn remove_from_list(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    id: &MessagingId,
    list: &ListId,
) -> Result<Contact> {
    change_lists(store, audit, id, |lists| {
        lists.remove(list);
    })
    .await
}

async fn change_lists(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    id: &MessagingId,
    change: impl Fn(&mut std::collections::BTreeSet<ListId>),
) -> Result<Contact> {
    modify(
        store,
        audit,
        Operation::ContactUpdated,
        id,
        None,
        |current| {
            let mut lists = current.lists.clone();
            change(&mut lists);
            if lists == current.lists {
                return Ok((current.clone(), Vec::new()));
            }
            let changes = ContactChanges {
                lists: Some(lists),
                ..ContactChanges::default()
            };
            Ok((current.edited(changes, now())?, Vec::new()))
        },
    )
    .await
}

/// Records consent choices; unchanged channels leave no history.
pub async fn record_consent(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    id: &MessagingId,
    choices: &[(Channel, ConsentChoice)],
    source: &ConsentSource,
    if_match: Option<u64>,
) -> Result<Contact> {
    modify(
        store,
        audit,
        Operation::ConsentChanged,
        id,
        if_match,
        |current| Ok(current.with_consent(choices, source, now())),
    )
    .await
}

/// Deletes a contact, or reports why there is none to delete.
pub async fn delete(store: &dyn ContactStore, audit: &Audit<'_>, id: &MessagingId) -> Result<()> {
    let workspace = audit.workspace();
    if store.delete(workspace, id).await? {
        audit
            .record(Change::contact(Operation::ContactDeleted, id, Vec::new()))
            .await;
        Ok(())
    } else {
        Err(absent(store, workspace, id).await)
    }
}

/// Read, change, write conditionally on the version read. With `if_match`
/// the caller's version must be current; without it a lost race is retried
/// on a fresh read, so no concurrent edit is ever overwritten. A write that
/// changed fields is recorded in the audit trail as `operation`, naming
/// them.
async fn modify(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    operation: Operation,
    id: &MessagingId,
    if_match: Option<u64>,
    change: impl Fn(&Contact) -> Result<(Contact, Vec<ConsentChange>)>,
) -> Result<Contact> {
    let workspace = audit.workspace();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let current = get(store, workspace, id).await?;
        if let Some(expected) = if_match.filter(|&v| v != current.version) {
            return Err(Error::PreconditionFailed { expected });
        }
        let (next, consent) = change(&current)?;
        if next == current {
            return Ok(current);
        }
        match store
            .update(workspace, &next, current.version, &consent)
            .await
        {
            Err(Error::PreconditionFailed { .. })
                if if_match.is_none() && attempts < EDIT_ATTEMPTS =>
            {
                continue;
            }
            Err(Error::PreconditionFailed { .. }) => {
                return Err(Error::PreconditionFailed {
                    expected: current.version,
                });
            }
            // Deleted or merged away since it was read.
            Err(Error::ContactNotFound(_)) => return Err(absent(store, workspace, id).await),
            Err(other) => return Err(other),
            Ok(()) => {
                let fields = changed_fields(Some(&current), Some(&next));
                if !fields.is_empty() {
                    audit.record(Change::contact(operation, id, fields)).await;
                }
                return Ok(next);
            }
        }
    }
}
