//! The bulk path for new contacts, in two steps per group of up to ~98:
//!
//! 1. One `TransactWriteItems` puts the group's External ID guards (each
//!    `attribute_not_exists`) and moves the counter shards the group moves
//!    (usage, list members), summed: all or nothing. A contact without an
//!    External ID has no guard: its item goes there instead, on the same
//!    condition, so it too is counted once however often the step repeats.
//! 2. `BatchWriteItem`s put the contact items and membership copies.
//!
//! Before step 1, `BatchWriteItem`s put the group's search entries, so no
//! contact item exists without them.
//!
//! A contact's ID is made from its import and row, so writing its item again
//! is harmless, and a guard already held by that very ID (a repeat of a
//! commit that stopped between the steps) was counted already: the contact's
//! item is written, its guard and counters are not. A guard held by another
//! contact loses that one row its creation (`DuplicateExternalId`); the rest
//! of the group is created all the same. A guard whose contact never came (a
//! run that died between the steps and never came back) is freed, with the
//! counts it moved, once it is older than [`ORPHAN_AGE`]: longer than any
//! run, so never under a run that is still going to write the contact. A
//! repeat that finds its own guard renews its time before writing the
//! contact, and freeing checks, in its transaction, that the contact is
//! still absent: a late repeat and a freeing create can't both win.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::{StreamExt, stream};

use super::imports::put_request;
use super::items::{self, Item};
use super::{DynamoStore, TRANSACTION_WRITES};
use crate::error::{Error, Result};
use crate::model::{Contact, ExternalId, MessagingId, WorkspaceId, now};
use crate::search::ContactWords;
use crate::store::NewRecord;

/// Transactions in flight at once.
const CONCURRENCY: usize = 8;
/// Tries of a group's guards while guards of its rows keep changing hands.
const GUARD_ATTEMPTS: usize = 4;
/// How old a guard without its contact must be to be freed.
pub(super) const ORPHAN_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The counter shards one contact moves, each with a name: its usage shard,
/// and a member shard per list.
fn contact_counters(workspace: &WorkspaceId, contact: &Contact) -> Vec<(String, Item)> {
    let shard = items::shard_of(&contact.messaging_id);
    std::iter::once((format!("U{shard}"), items::usage_key(workspace, shard)))
        .chain(contact.lists.iter().map(|list| {
            (
                format!("L{list}#{shard}"),
                items::member_count_key(workspace, list, shard),
            )
        }))
        .collect()
}

/// The counter shards `records` move, summed.
fn counters(workspace: &WorkspaceId, records: &[&NewRecord]) -> BTreeMap<String, (Item, i64)> {
    let mut counters: BTreeMap<String, (Item, i64)> = BTreeMap::new();
    for (contact, _) in records {
        for (name, key) in contact_counters(workspace, contact) {
            counters.entry(name).or_insert((key, 0)).1 += 1;
        }
    }
    counters
}

/// Splits `records` (sorted by usage shard) into groups whose guards and
/// counters fit one transaction.
fn groups<'a>(workspace: &WorkspaceId, records: Vec<&'a NewRecord>) -> Vec<Vec<&'a NewRecord>> {
    let mut groups: Vec<Vec<&NewRecord>> = Vec::new();
    // The counters the last group moves.
    let mut moved: HashSet<String> = HashSet::new();
    for record in records {
        let names: Vec<String> = contact_counters(workspace, &record.0)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let new = names.iter().filter(|name| !moved.contains(*name)).count();
        let fits = groups
            .last()
            .is_some_and(|group| group.len() + 1 + moved.len() + new <= TRANSACTION_WRITES);
        if !fits {
            groups.push(Vec::new());
            moved.clear();
        }
        moved.extend(names);
        if let Some(group) = groups.last_mut() {
            group.push(record);
        }
    }
    groups
}

impl DynamoStore {
    /// Creates `records` (whose External IDs were free when looked up).
    /// `ExternalIdsTaken` names every record whose ID another contact took
    /// since, with its holder; every other record is created all the same.
    pub(super) async fn insert_grouped(
        &self,
        workspace: &WorkspaceId,
        records: &[NewRecord],
    ) -> Result<()> {
        let mut sorted: Vec<&NewRecord> = records.iter().collect();
        sorted.sort_by_key(|(contact, _)| items::shard_of(&contact.messaging_id));
        // Groups in flight together move different usage shards, so they
        // don't conflict on a counter: the first group of every shard, then
        // the second, and so on.
        let mut rank: BTreeMap<u32, usize> = BTreeMap::new();
        let mut ranked: Vec<(usize, u32, Vec<&NewRecord>)> = groups(workspace, sorted)
            .into_iter()
            .map(|group| {
                let shard = group
                    .first()
                    .map_or(0, |(c, _)| items::shard_of(&c.messaging_id));
                let n = rank.entry(shard).or_default();
                *n += 1;
                (*n, shard, group)
            })
            .collect();
        ranked.sort_by_key(|(n, shard, _)| (*n, *shard));
        let groups: Vec<Vec<&NewRecord>> = ranked.into_iter().map(|(_, _, g)| g).collect();
        // By index: a stream of borrowed groups trips the compiler's
        // lifetime inference inside `async_trait` futures.
        let outcomes: Vec<Result<Vec<(String, MessagingId)>>> = stream::iter(0..groups.len())
            .map(|i| self.write_group(workspace, &groups[i]))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut taken = Vec::new();
        for outcome in outcomes {
            taken.extend(outcome?);
        }
        if taken.is_empty() {
            Ok(())
        } else {
            Err(Error::ExternalIdsTaken(taken))
        }
    }

    /// Writes one group; returns the External IDs its records lost, with
    /// their holders. The search entries go first: a contact item is never
    /// written before its entries (an entry whose contact never comes finds
    /// nothing, and searches test the contacts they read).
    async fn write_group(
        &self,
        workspace: &WorkspaceId,
        group: &[&NewRecord],
    ) -> Result<Vec<(String, MessagingId)>> {
        let mut entries = Vec::new();
        for (contact, _) in group {
            let words = ContactWords::of(contact);
            for key in items::search_keys(&words) {
                entries.push(put_request(items::search_entry(
                    workspace, contact, &words, &key,
                ))?);
            }
        }
        self.write_batches(entries).await?;
        let (guarded, lost) = self.guard(workspace, group.to_vec()).await?;
        let mut puts = Vec::new();
        for (contact, consent) in guarded {
            if contact.external_id.is_some() {
                puts.push(put_request(items::new_contact_item(
                    workspace, contact, consent,
                )?)?);
            }
            for list in &contact.lists {
                puts.push(put_request(items::membership_item(
                    workspace, contact, list,
                )?)?);
            }
        }
        self.write_batches(puts).await?;
        Ok(lost)
    }

    /// Step 1: the guards and counters of `pending`. Returns the records
    /// whose guards they now hold, and the External IDs of those that lost
    /// theirs to another contact, with that contact.
    async fn guard<'a>(
        &self,
        workspace: &WorkspaceId,
        mut pending: Vec<&'a NewRecord>,
    ) -> Result<(Vec<&'a NewRecord>, Vec<(String, MessagingId)>)> {
        let absent: Option<(&str, &[(&str, AttributeValue)])> =
            Some(("attribute_not_exists(pk)", &[]));
        let at = now().timestamp_micros();
        let mut guarded = Vec::new();
        let mut lost = Vec::new();
        for _ in 0..GUARD_ATTEMPTS {
            if pending.is_empty() {
                return Ok((guarded, lost));
            }
            // A contact without an External ID has no guard: its item goes
            // in the guard's place, counted with it, once.
            let mut writes = pending
                .iter()
                .map(
                    |(c, consent)| match items::pending_guard_item(workspace, c, at) {
                        Some(guard) => self.put(guard, absent),
                        None => self.put(items::new_contact_item(workspace, c, consent)?, absent),
                    },
                )
                .collect::<Result<Vec<_>>>()?;
            for (key, by) in counters(workspace, &pending).into_values() {
                writes.push(self.counter_write(key, by)?);
            }
            let Some(failed) = self.transact(writes).await? else {
                guarded.append(&mut pending);
                return Ok((guarded, lost));
            };
            if !failed.iter().take(pending.len()).any(|f| *f) {
                return Err(
                    anyhow::anyhow!("a group of guards was refused, no condition failing").into(),
                );
            }
            let mut again = Vec::new();
            for (record, failed) in pending.into_iter().zip(failed) {
                let contact = &record.0;
                if !failed {
                    again.push(record);
                    continue;
                }
                // Without a guard, the contact itself is there: an earlier
                // attempt at this commit wrote and counted it.
                let Some(external_id) = &contact.external_id else {
                    guarded.push(record);
                    continue;
                };
                match self.holder(workspace, external_id).await? {
                    // Held since an earlier attempt at this very commit: the
                    // guard's time is renewed first, so that it is not freed
                    // as abandoned while its contact is written.
                    Some(holder)
                        if holder == contact.messaging_id
                            && self
                                .renew_guard(workspace, external_id, contact, at)
                                .await? =>
                    {
                        guarded.push(record)
                    }
                    Some(holder) if holder == contact.messaging_id => again.push(record),
                    Some(holder)
                        if !self
                            .free_orphan_guard(workspace, external_id, &holder)
                            .await? =>
                    {
                        lost.push((external_id.to_string(), holder));
                    }
                    // Freed, or released since: try again.
                    _ => again.push(record),
                }
            }
            pending = again;
        }
        Err(anyhow::anyhow!("guards of new contacts kept changing hands").into())
    }

    /// Sets the time of `contact`'s guard to `at` if the guard still names
    /// it; false if it doesn't (freed since).
    async fn renew_guard(
        &self,
        workspace: &WorkspaceId,
        external_id: &ExternalId,
        contact: &Contact,
        at: i64,
    ) -> Result<bool> {
        let renewed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::guard_key(workspace, external_id)))
            .update_expression("SET #at = :at")
            .condition_expression("holder = :h")
            .expression_attribute_names("#at", items::GUARD_AT)
            .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
            .expression_attribute_values(":h", AttributeValue::S(contact.messaging_id.to_string()))
            .send()
            .await;
        match renewed {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(super::unexpected(error)),
        }
    }

    /// Frees the External ID `id` if its guard names `holder`, a contact
    /// that doesn't exist, and an import wrote the guard more than
    /// [`ORPHAN_AGE`] ago: deletes the guard (conditional on both, and on
    /// the contact still being absent, as a late repeat may write it at any
    /// moment) and takes back the counts it moved, in one transaction. True
    /// when freed.
    pub(super) async fn free_orphan_guard(
        &self,
        workspace: &WorkspaceId,
        id: &ExternalId,
        holder: &MessagingId,
    ) -> Result<bool> {
        let Some(guard) = self.get_item(items::guard_key(workspace, id)).await? else {
            return Ok(false);
        };
        let Some(AttributeValue::N(at)) = guard.get(items::GUARD_AT).cloned() else {
            return Ok(false);
        };
        let written = at
            .parse::<i64>()
            .ok()
            .and_then(chrono::DateTime::from_timestamp_micros);
        let old = written.is_some_and(|written| now() - written > ORPHAN_AGE);
        if !old
            || self
                .get_item(items::contact_key(workspace, holder))
                .await?
                .is_some()
        {
            return Ok(false);
        }
        let shard = items::shard_of(holder);
        let mut writes = vec![
            self.delete_write(
                items::guard_key(workspace, id),
                "holder = :h AND guarded_at = :at",
                &[
                    (":h", AttributeValue::S(holder.to_string())),
                    (":at", AttributeValue::N(at)),
                ],
            )?,
            self.absent_check(items::contact_key(workspace, holder))?,
        ];
        writes.push(self.counter_write(items::usage_key(workspace, shard), -1)?);
        if let Some(AttributeValue::Ss(lists)) = guard.get(items::GUARD_LISTS) {
            for list in lists {
                let list = crate::model::ListId::from_stored(list.clone());
                writes.push(
                    self.counter_write(items::member_count_key(workspace, &list, shard), -1)?,
                );
            }
        }
        Ok(self.transact(writes).await?.is_none())
    }
}
