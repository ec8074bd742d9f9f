//! The bulk path for new contacts: many contacts per `TransactWriteItems`,
//! each with its conditions, and the counters they move summed per
//! transaction.
//!
//! A transaction holds at most 100 writes: per contact its item and its
//! External ID guard (both `attribute_not_exists`) and its membership copies,
//! plus one `ADD` per counter shard the group moves (usage, list members).
//! Contacts are grouped by usage shard, so a group of 40 moves one or two
//! usage items instead of 40. A group whose condition fails (an External ID
//! taken since it was looked up) is written again one contact at a time,
//! which names the contact that lost.

use std::collections::BTreeMap;

use futures::{StreamExt, stream};

use super::DynamoStore;
use super::items::{self, Item};
use crate::error::Result;
use crate::model::WorkspaceId;
use crate::store::NewRecord;

/// DynamoDB's limit on writes in one transaction.
const TRANSACTION_WRITES: usize = 100;
/// Transactions in flight at once.
const CONCURRENCY: usize = 8;

/// The writes of one transaction, and the records they create.
#[derive(Default)]
struct Group<'a> {
    records: Vec<&'a NewRecord>,
    writes: usize,
    /// Counter shard → its key and how much the group adds to it.
    counters: BTreeMap<String, (Item, i64)>,
}

impl<'a> Group<'a> {
    /// The counter shards `record` moves (usage, and a member count per list).
    fn counters_of(workspace: &WorkspaceId, record: &NewRecord) -> Vec<(String, Item)> {
        let contact = &record.0;
        let shard = items::shard_of(&contact.messaging_id);
        let usage = items::usage_key(workspace, shard);
        std::iter::once((format!("U{shard}"), usage))
            .chain(contact.lists.iter().map(|list| {
                (
                    format!("L{list}#{shard}"),
                    items::member_count_key(workspace, list, shard),
                )
            }))
            .collect()
    }

    /// Adds `record` if its writes fit; false if they don't.
    fn add(&mut self, workspace: &WorkspaceId, record: &'a NewRecord) -> bool {
        let counters = Self::counters_of(workspace, record);
        let new_counters = counters
            .iter()
            .filter(|(name, _)| !self.counters.contains_key(name))
            .count();
        let needed = 2 + record.0.lists.len() + new_counters;
        if !self.records.is_empty()
            && self.writes + self.counters.len() + needed > TRANSACTION_WRITES
        {
            return false;
        }
        for (name, key) in counters {
            self.counters.entry(name).or_insert((key, 0)).1 += 1;
        }
        self.writes += 2 + record.0.lists.len();
        self.records.push(record);
        true
    }
}

impl DynamoStore {
    /// Creates `records` (whose External IDs were free when looked up) in
    /// grouped transactions. `DuplicateExternalId` names a contact whose ID
    /// was taken since; every other record is created all the same.
    pub(super) async fn insert_grouped(
        &self,
        workspace: &WorkspaceId,
        records: &[NewRecord],
    ) -> Result<()> {
        let mut sorted: Vec<&NewRecord> = records.iter().collect();
        sorted.sort_by_key(|(contact, _)| items::shard_of(&contact.messaging_id));
        let mut groups: Vec<Group<'_>> = Vec::new();
        for record in sorted {
            if !groups.last_mut().is_some_and(|g| g.add(workspace, record)) {
                let mut group = Group::default();
                group.add(workspace, record);
                groups.push(group);
            }
        }
        // Groups in flight together move different usage shards, so they
        // don't conflict on a counter: the first group of every shard, then
        // the second, and so on.
        let mut rank: BTreeMap<u32, usize> = BTreeMap::new();
        let mut ranked: Vec<(usize, u32, Group<'_>)> = groups
            .into_iter()
            .map(|group| {
                let shard = group
                    .records
                    .first()
                    .map_or(0, |(c, _)| items::shard_of(&c.messaging_id));
                let n = rank.entry(shard).or_default();
                *n += 1;
                (*n, shard, group)
            })
            .collect();
        ranked.sort_by_key(|(n, shard, _)| (*n, *shard));
        let groups: Vec<Group<'_>> = ranked.into_iter().map(|(_, _, group)| group).collect();
        // By index: a stream of borrowed groups trips the compiler's
        // lifetime inference inside `async_trait` futures.
        let outcomes: Vec<Result<()>> = stream::iter(0..groups.len())
            .map(|i| self.write_group(workspace, &groups[i]))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        outcomes.into_iter().collect()
    }

    async fn write_group(&self, workspace: &WorkspaceId, group: &Group<'_>) -> Result<()> {
        let absent: Option<(&str, &[(&str, aws_sdk_dynamodb::types::AttributeValue)])> =
            Some(("attribute_not_exists(pk)", &[]));
        let mut writes = Vec::with_capacity(TRANSACTION_WRITES);
        for (contact, consent) in &group.records {
            writes.push(self.put(
                items::new_contact_item(workspace, contact, consent)?,
                absent,
            )?);
            writes.push(self.put(items::guard_item(workspace, contact), absent)?);
            for list in &contact.lists {
                writes.push(self.put(items::membership_item(workspace, contact, list)?, None)?);
            }
        }
        for (key, by) in group.counters.values() {
            writes.push(self.counter_write(key.clone(), *by)?);
        }
        if self.transact(writes).await?.is_none() {
            return Ok(());
        }
        // A condition failed: one contact at a time, so each stands alone.
        let outcomes: Vec<Result<()>> = stream::iter(0..group.records.len())
            .map(|i| self.insert_unchecked(workspace, group.records[i]))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        outcomes
            .into_iter()
            .collect::<Result<Vec<()>>>()
            .map(|_| ())
    }
}
