//! Merging duplicates: read every contact, decide the survivor, write it all
//! at once conditionally on what was read.

use std::collections::HashMap;

use futures::future::try_join_all;

use super::{EDIT_ATTEMPTS, get};
use crate::audit::{Audit, Change, Operation, changed_fields};
use crate::error::{Error, Result};
use crate::model::{Contact, LastChanges, Merge, MergeRequest, MessagingId, WorkspaceId, now};
use crate::query::PageRequest;
use crate::store::ContactStore;

/// How many merges a Messaging ID is followed through to a live contact.
const MERGE_HOPS: usize = 16;

/// History entries read per request while looking for each channel's latest.
const HISTORY_PAGE: usize = 100;

/// Merges the request's contacts into its survivor and returns the survivor.
///
/// A contact whose version was given and has changed is refused with
/// `ContactChanged`; otherwise a merge that lost a race to an edit or another
/// merge is planned again from a fresh read, so neither is ever lost.
pub async fn merge(
    store: &dyn ContactStore,
    audit: &Audit<'_>,
    request: &MergeRequest,
) -> Result<Contact> {
    let workspace = audit.workspace();
    for _ in 0..EDIT_ATTEMPTS {
        let MergePreview { contacts, plan } = preview(store, workspace, request).await?;
        match store.merge(workspace, &plan).await {
            Ok(()) => {
                record(audit, contacts.first(), &plan).await;
                return Ok(plan.survivor);
            }
            Err(Error::PreconditionFailed { .. } | Error::ContactNotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Err(anyhow::anyhow!("the merge kept losing races to concurrent edits").into())
}

/// Records a merge: one entry for the survivor (naming the merged
/// contacts) and one for each contact merged into it.
async fn record(audit: &Audit<'_>, survivor_as_read: Option<&Contact>, plan: &Merge) {
    let survivor = &plan.survivor.messaging_id;
    let merged: Vec<String> = plan
        .merged
        .iter()
        .map(|c| c.messaging_id.to_string())
        .collect();
    let fields = changed_fields(survivor_as_read, Some(&plan.survivor));
    audit
        .record(
            Change::contact(Operation::ContactMerged, survivor, fields).naming(merged.join(",")),
        )
        .await;
    for contact in &plan.merged {
        let away = Change::contact(
            Operation::ContactMergedAway,
            &contact.messaging_id,
            Vec::new(),
        );
        audit.record(away.naming(survivor)).await;
    }
}

/// What a merge would do, from the contacts as read now.
#[derive(Debug, Clone)]
pub struct MergePreview {
    /// The contacts as read, the survivor first.
    pub contacts: Vec<Contact>,
    pub plan: Merge,
}

/// Reads the request's contacts and plans their merge without writing it;
/// `ContactChanged` when a version given is no longer current.
pub async fn preview(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    request: &MergeRequest,
) -> Result<MergePreview> {
    request.check()?;
    let contacts = try_join_all(request.contacts().map(|id| get(store, workspace, id))).await?;
    for contact in &contacts {
        if let Some(&expected) = request
            .versions
            .get(&contact.messaging_id)
            .filter(|&&v| v != contact.version)
        {
            return Err(Error::ContactChanged {
                id: contact.messaging_id.clone(),
                expected,
            });
        }
    }
    let last: HashMap<MessagingId, LastChanges> = try_join_all(
        contacts
            .iter()
            .map(|c| last_changes(store, workspace, &c.messaging_id)),
    )
    .await?
    .into_iter()
    .zip(&contacts)
    .map(|(last, c)| (c.messaging_id.clone(), last))
    .collect();
    let Some((survivor, merged)) = contacts.split_first() else {
        return Err(Error::invalid("merge", "no contacts to merge"));
    };
    let plan = Merge::plan(survivor, merged, &request.fields, &last, now())?;
    Ok(MergePreview { contacts, plan })
}

/// The live contact a merged-away Messaging ID leads to, through every
/// merge since; `None` for an ID that was never merged.
pub async fn survivor_of(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    id: &MessagingId,
) -> Result<Option<MessagingId>> {
    let mut survivor = None;
    let mut current = id.clone();
    for _ in 0..MERGE_HOPS {
        match store
            .merged_into(workspace, &[current.clone()])
            .await?
            .pop()
        {
            Some((_, into)) => {
                current = into.clone();
                survivor = Some(into);
            }
            None => break,
        }
    }
    Ok(survivor)
}

/// When each channel's consent was last recorded for contact `id`.
async fn last_changes(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    id: &MessagingId,
) -> Result<LastChanges> {
    let mut last = LastChanges::default();
    let mut page = PageRequest {
        limit: HISTORY_PAGE,
        cursor: None,
    };
    loop {
        let found = store.consent_history(workspace, id, &page).await?;
        found.items.iter().for_each(|change| last.note(change));
        match found.next_cursor {
            Some(cursor) if !last.complete() => page.cursor = Some(cursor),
            _ => return Ok(last),
        }
    }
}
