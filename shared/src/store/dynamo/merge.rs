//! Merges on DynamoDB: the survivor, every merged contact, their history,
//! guards, memberships and counters in one transaction.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::items::{self, Item, version};
use super::{DynamoStore, TRANSACTION_WRITES};
use crate::error::{Error, Result};
use crate::model::{Contact, Merge, MessagingId, WorkspaceId};

/// Counter changes of one transaction, one write per counter item (a
/// transaction may not touch an item twice).
#[derive(Default)]
struct Counters(Vec<(Item, i64)>);

impl Counters {
    fn add(&mut self, key: Item, by: i64) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => *total += by,
            None => self.0.push((key, by)),
        }
    }
}

impl DynamoStore {
    /// Writes `merge` in one transaction, conditional on every version read.
    pub(super) async fn write_merge(&self, workspace: &WorkspaceId, merge: &Merge) -> Result<()> {
        let survivor = &merge.survivor;
        let (current, stored) = self
            .stored_at(workspace, &survivor.messaging_id, merge.survivor_version)
            .await?;
        let mut writes =
            vec![self.replace_write(workspace, survivor, &stored, merge.survivor_version)?];
        let mut counters = Counters::default();
        let shard = items::shard_of(&survivor.messaging_id);
        for list in &survivor.lists {
            writes.push(self.put(items::membership_item(workspace, survivor, list)?, None)?);
        }
        for list in survivor.lists.difference(&current.lists) {
            counters.add(items::member_count_key(workspace, list, shard), 1);
        }
        writes.extend(self.history_writes(workspace, survivor, &merge.history)?);
        for contact in &merge.merged {
            writes.extend(
                self.merged_writes(workspace, survivor, contact, &mut counters)
                    .await?,
            );
        }
        for (key, by) in counters.0.into_iter().filter(|(_, by)| *by != 0) {
            writes.push(self.counter_write(key, by)?);
        }
        if writes.len() > TRANSACTION_WRITES {
            return Err(Error::invalid(
                "merge",
                format!(
                    "this merge needs {} writes (contacts, their lists and history) and one \
                     transaction holds {TRANSACTION_WRITES}: merge fewer contacts at once",
                    writes.len()
                ),
            ));
        }
        let stale = Error::PreconditionFailed {
            expected: merge.survivor_version,
        };
        if !self
            .prepare_search(workspace, Some(&current), survivor)
            .await?
        {
            return Err(stale);
        }
        if self.transact(writes).await?.is_some() {
            return Err(stale);
        }
        self.settle_search(workspace, &current, Some(survivor))
            .await;
        self.note_duplicates(workspace, survivor, Some(&current))
            .await;
        for contact in &merge.merged {
            self.settle_search(workspace, contact, None).await;
        }
        Ok(())
    }

    /// The writes that merge `contact` into `survivor`: its deletion at the
    /// version read, the item naming its survivor, its guard and
    /// memberships dropped, and its history moved.
    async fn merged_writes(
        &self,
        workspace: &WorkspaceId,
        survivor: &Contact,
        contact: &Contact,
        counters: &mut Counters,
    ) -> Result<Vec<TransactWriteItem>> {
        let id = &contact.messaging_id;
        let (read, stored) = self.stored_at(workspace, id, contact.version).await?;
        let creation = items::creation_changes(&stored)?;
        let shard = items::shard_of(id);
        let mut writes = vec![
            self.delete_write(
                items::contact_key(workspace, id),
                "version = :v",
                &[(":v", version(read.version))],
            )?,
            self.put(
                items::merged_item(workspace, id, &survivor.messaging_id),
                None,
            )?,
        ];
        counters.add(items::usage_key(workspace, shard), -1);
        if let Some(external_id) = &read.external_id {
            writes.push(self.delete_write(
                items::guard_key(workspace, external_id),
                "holder = :h",
                &[(":h", AttributeValue::S(id.to_string()))],
            )?);
        }
        for list in &read.lists {
            writes.push(self.plain_delete(items::membership_key(workspace, id, list))?);
            counters.add(items::member_count_key(workspace, list, shard), -1);
        }
        // Each entry keeps its place in time; the suffix keeps it apart from
        // the survivor's own entries.
        let moved_key = |sk: &str| format!("{sk}#{id}");
        for (sk, change) in creation {
            let item =
                items::change_item(workspace, &survivor.messaging_id, moved_key(&sk), &change)?;
            writes.push(self.put(item, None)?);
        }
        for entry in self
            .partition(items::history_partition(workspace, id))
            .await?
        {
            let (sk, change) = items::change_from_item(entry.clone())?;
            let mut key = entry;
            key.retain(|name, _| name == "pk" || name == "sk");
            writes.push(self.plain_delete(key)?);
            let item =
                items::change_item(workspace, &survivor.messaging_id, moved_key(&sk), &change)?;
            writes.push(self.put(item, None)?);
        }
        Ok(writes)
    }

    /// The survivors of these merged-away Messaging IDs.
    pub(super) async fn survivors(
        &self,
        workspace: &WorkspaceId,
        ids: &[MessagingId],
    ) -> Result<Vec<(MessagingId, MessagingId)>> {
        let mut found = Vec::new();
        for id in ids {
            if let Some(item) = self.get_item(items::merged_key(workspace, id)).await? {
                found.push((id.clone(), items::survivor_from_item(&item)?));
            }
        }
        Ok(found)
    }
}
