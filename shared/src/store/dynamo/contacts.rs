//! [`ContactStore`] over DynamoDB.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnConsumedCapacity, TransactWriteItem, Update,
};
use futures::{StreamExt, stream};

use super::items::{self, Item, version};
use super::meter::Units;
use super::{DynamoStore, TRANSACTION_WRITES, listing, unexpected};
use crate::error::{Error, Result};
use crate::model::{
    AttributeId, ConsentChange, Contact, ExternalId, ListId, Merge, MessagingId, WorkspaceId,
};
use crate::query::{ContactQuery, Cursor, Page, PageRequest};
use crate::store::{ContactStore, NewRecord};

/// Transactions in flight at once during a batch insert.
const BATCH_CONCURRENCY: usize = 16;
/// Attempts at a transaction that lost to a concurrent one.
const TRANSACT_ATTEMPTS: u32 = 8;

impl DynamoStore {
    /// Records the items a read evaluated, when metering.
    pub(super) fn record_items(&self, operation: &'static str, items: i32) {
        if let Some(meter) = &self.meter {
            meter.record_items(operation, u64::try_from(items).unwrap_or(0));
        }
    }

    pub(super) fn capacity(&self) -> Option<ReturnConsumedCapacity> {
        self.meter.as_ref().map(|_| ReturnConsumedCapacity::Total)
    }

    pub(super) fn record<'a>(
        &self,
        units: Units,
        operation: &'static str,
        consumed: impl IntoIterator<Item = &'a aws_sdk_dynamodb::types::ConsumedCapacity>,
    ) {
        if let Some(meter) = &self.meter {
            meter.record(units, operation, consumed);
        }
    }

    /// Replaces `contact` if its stored version is `expected_version`,
    /// with its guard, memberships and consent history, and `marker` (an
    /// item written in the same transaction), all or nothing.
    pub(super) async fn update_with(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        expected_version: u64,
        consent: &[ConsentChange],
        marker: Option<Item>,
    ) -> Result<()> {
        let id = &contact.messaging_id;
        let (current, stored) = self.stored_at(workspace, id, expected_version).await?;
        let mut writes = vec![self.replace_write(workspace, contact, &stored, expected_version)?];
        // The index of the new External ID's guard among the writes.
        let mut new_guard = None;
        if current.external_id != contact.external_id {
            if let Some(old) = &current.external_id {
                let holder = AttributeValue::S(id.to_string());
                writes.push(self.delete_write(
                    items::guard_key(workspace, old),
                    "holder = :h",
                    &[(":h", holder)],
                )?);
            }
            if let Some(guard) = items::guard_item(workspace, contact) {
                new_guard = Some(writes.len());
                writes.push(self.put(guard, Some(("attribute_not_exists(pk)", &[])))?);
            }
        }
        let kept = contact
            .lists
            .intersection(&current.lists)
            .cloned()
            .collect();
        let added = contact.lists.difference(&current.lists).cloned().collect();
        let removed = current.lists.difference(&contact.lists).cloned().collect();
        writes.extend(self.membership_writes(workspace, contact, &kept, &added, &removed)?);
        writes.extend(self.history_writes(workspace, contact, consent)?);
        if let Some(marker) = marker {
            writes.push(self.put(marker, None)?);
        }
        if writes.len() > TRANSACTION_WRITES {
            return Err(Error::invalid(
                "lists",
                format!(
                    "this edit needs {} writes and one transaction holds {TRANSACTION_WRITES}: \
                     change fewer lists at once",
                    writes.len()
                ),
            ));
        }
        if !self
            .prepare_search(workspace, Some(&current), contact)
            .await?
        {
            return Err(Error::PreconditionFailed {
                expected: expected_version,
            });
        }
        match self.transact(writes).await? {
            None => {
                self.settle_search(workspace, &current, Some(contact)).await;
                self.note_duplicates(workspace, contact, Some(&current))
                    .await;
                Ok(())
            }
            Some(failed) if failed.first() == Some(&true) => match self.get(workspace, id).await? {
                None => Err(Error::ContactNotFound(id.to_string())),
                Some(_) => Err(Error::PreconditionFailed {
                    expected: expected_version,
                }),
            },
            Some(failed)
                if new_guard.is_some_and(|i| failed.get(i) == Some(&true))
                    && let Some(external_id) = &contact.external_id =>
            {
                Err(self.duplicate(workspace, external_id).await)
            }
            Some(_) => Err(Error::PreconditionFailed {
                expected: expected_version,
            }),
        }
    }

    /// The put that replaces `stored` (at version `expected`) with
    /// `contact`, keeping the consent it was created with.
    pub(super) fn replace_write(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        stored: &Item,
        expected: u64,
    ) -> Result<TransactWriteItem> {
        let mut item = items::contact_item(workspace, contact)?;
        if let Some(creation) = stored.get(items::CREATION_CONSENT) {
            item.insert(items::CREATION_CONSENT.to_owned(), creation.clone());
        }
        self.put(item, Some(("version = :v", &[(":v", version(expected))])))
    }

    /// Contact `id` as stored, with its item, if its version is `expected`:
    /// `ContactNotFound` when it is gone, `PreconditionFailed` when it changed.
    pub(super) async fn stored_at(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        expected: u64,
    ) -> Result<(Contact, Item)> {
        let stored = self
            .get_item(items::contact_key(workspace, id))
            .await?
            .ok_or_else(|| Error::ContactNotFound(id.to_string()))?;
        let (_, contact) = items::contact_from_item(stored.clone())?;
        if contact.version != expected {
            return Err(Error::PreconditionFailed { expected });
        }
        Ok((contact, stored))
    }

    /// A strongly consistent read of one item.
    pub(super) async fn get_item(&self, key: Item) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await
            .map_err(unexpected)?;
        self.record(Units::Read, "GetItem", out.consumed_capacity());
        Ok(out.item)
    }

    /// Runs a write transaction. `None` when it committed; otherwise which
    /// of its writes had a failing condition.
    pub(super) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>> {
        for attempt in 1..=TRANSACT_ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .set_return_consumed_capacity(self.capacity())
                .send()
                .await;
            let error = match result {
                Ok(out) => {
                    self.record(Units::Write, "TransactWriteItems", out.consumed_capacity());
                    return Ok(None);
                }
                Err(error) => error,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                error.as_service_error()
            else {
                return Err(unexpected(error));
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            if codes.contains(&"TransactionConflict") && attempt < TRANSACT_ATTEMPTS {
                // Concurrent transactions on the same items: wait a random
                // while, growing with each try, so they don't meet again.
                tokio::time::sleep(super::imports::backoff(attempt)).await;
                continue;
            }
            return Ok(Some(
                codes
                    .iter()
                    .map(|c| *c == "ConditionalCheckFailed")
                    .collect(),
            ));
        }
        Err(anyhow::anyhow!("a transaction kept conflicting with concurrent ones").into())
    }

    /// The writes that delete `current` as read (conditional on its
    /// version): the contact, its place in the usage count, its External
    /// ID's guard and its memberships.
    pub(super) fn delete_writes(
        &self,
        workspace: &WorkspaceId,
        current: &Contact,
    ) -> Result<Vec<TransactWriteItem>> {
        let id = &current.messaging_id;
        let none = BTreeSet::new();
        let mut writes = vec![
            self.delete_write(
                items::contact_key(workspace, id),
                "version = :v",
                &[(":v", version(current.version))],
            )?,
            self.count_write(workspace, id, -1)?,
        ];
        if let Some(external_id) = &current.external_id {
            writes.push(self.delete_write(
                items::guard_key(workspace, external_id),
                "holder = :h",
                &[(":h", AttributeValue::S(id.to_string()))],
            )?);
        }
        writes.extend(self.membership_writes(workspace, current, &none, &none, &current.lists)?);
        Ok(writes)
    }

    pub(super) fn put(
        &self,
        item: Item,
        condition: Option<(&str, &[(&str, AttributeValue)])>,
    ) -> Result<TransactWriteItem> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expression, values)) = condition {
            put = put.condition_expression(expression);
            for (name, value) in values {
                put = put.expression_attribute_values(*name, value.clone());
            }
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(unexpected)?)
            .build())
    }

    /// A transaction's check that the item at `key` doesn't exist.
    pub(super) fn absent_check(&self, key: Item) -> Result<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    pub(super) fn delete_write(
        &self,
        key: Item,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem> {
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition);
        for (name, value) in values {
            delete = delete.expression_attribute_values(*name, value.clone());
        }
        Ok(TransactWriteItem::builder()
            .delete(delete.build().map_err(unexpected)?)
            .build())
    }

    fn count_write(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        by: i64,
    ) -> Result<TransactWriteItem> {
        self.counter_write(items::usage_key(workspace, items::shard_of(id)), by)
    }

    /// Adds `by` to one counter shard.
    pub(super) fn counter_write(&self, key: Item, by: i64) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD contacts :n")
            .expression_attribute_values(":n", AttributeValue::N(by.to_string()))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The membership copies of `contact` for `lists`, and their counters.
    fn membership_writes(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        kept: &BTreeSet<ListId>,
        added: &BTreeSet<ListId>,
        removed: &BTreeSet<ListId>,
    ) -> Result<Vec<TransactWriteItem>> {
        let id = &contact.messaging_id;
        let shard = items::shard_of(id);
        let mut writes = Vec::new();
        for list in kept.iter().chain(added) {
            writes.push(self.put(items::membership_item(workspace, contact, list)?, None)?);
        }
        for list in added {
            writes.push(self.counter_write(items::member_count_key(workspace, list, shard), 1)?);
        }
        for list in removed {
            writes.push(self.plain_delete(items::membership_key(workspace, id, list))?);
            writes.push(self.counter_write(items::member_count_key(workspace, list, shard), -1)?);
        }
        Ok(writes)
    }

    /// A transaction's unconditional delete of the item at `key`.
    pub(super) fn plain_delete(&self, key: Item) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The sum of a sharded counter's items.
    pub(super) async fn sum_counter(&self, partition: String) -> Result<u64> {
        self.partition(partition)
            .await?
            .iter()
            .map(items::count_from_item)
            .sum()
    }

    pub(super) fn history_writes(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        changes: &[ConsentChange],
    ) -> Result<Vec<TransactWriteItem>> {
        items::change_items(workspace, contact, changes)?
            .into_iter()
            .map(|item| self.put(item, None))
            .collect()
    }

    pub(super) async fn holder(
        &self,
        workspace: &WorkspaceId,
        id: &ExternalId,
    ) -> Result<Option<MessagingId>> {
        self.get_item(items::guard_key(workspace, id))
            .await?
            .map(items::holder_from_item)
            .transpose()
    }

    async fn duplicate(&self, workspace: &WorkspaceId, id: &ExternalId) -> Error {
        match self.holder(workspace, id).await {
            Ok(Some(holder)) => Error::DuplicateExternalId {
                external_id: id.to_string(),
                holder,
            },
            Ok(None) => {
                anyhow::anyhow!("the External ID {id:?} was released while being taken").into()
            }
            Err(error) => error,
        }
    }

    pub(super) async fn insert_unchecked(
        &self,
        workspace: &WorkspaceId,
        (contact, consent): &NewRecord,
    ) -> Result<()> {
        let absent: Option<(&str, &[(&str, AttributeValue)])> =
            Some(("attribute_not_exists(pk)", &[]));
        let mut writes = vec![
            self.put(
                items::new_contact_item(workspace, contact, consent)?,
                absent,
            )?,
            self.count_write(workspace, &contact.messaging_id, 1)?,
        ];
        let guarded = contact
            .external_id
            .as_ref()
            .zip(items::guard_item(workspace, contact));
        if let Some((_, guard)) = &guarded {
            writes.push(self.put(guard.clone(), absent)?);
        }
        let none = BTreeSet::new();
        writes.extend(self.membership_writes(workspace, contact, &none, &contact.lists, &none)?);
        self.prepare_search(workspace, None, contact).await?;
        let result = self.create(workspace, contact, writes, guarded).await;
        match result {
            Ok(()) => self.note_duplicates(workspace, contact, None).await,
            Err(_) => self.forget_search(workspace, contact).await,
        }
        result
    }

    /// Runs a new contact's transaction, freeing an orphan guard in its way once.
    async fn create(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        writes: Vec<TransactWriteItem>,
        guarded: Option<(&ExternalId, Item)>,
    ) -> Result<()> {
        let mut freed = false;
        loop {
            let Some(failed) = self.transact(writes.clone()).await? else {
                return Ok(());
            };
            let Some((external_id, _)) = guarded.as_ref().filter(|_| failed.get(2) == Some(&true))
            else {
                return Err(
                    anyhow::anyhow!("Messaging ID {} is taken", contact.messaging_id).into(),
                );
            };
            let error = self.duplicate(workspace, external_id).await;
            let Error::DuplicateExternalId { holder, .. } = &error else {
                return Err(error);
            };
            // A guard an import left without its contact is freed, once.
            if freed
                || !self
                    .free_orphan_guard(workspace, external_id, holder)
                    .await?
            {
                return Err(error);
            }
            freed = true;
        }
    }
}

#[async_trait]
impl ContactStore for DynamoStore {
    async fn insert(
        &self,
        workspace: &WorkspaceId,
        record: &NewRecord,
        limit: Option<u64>,
    ) -> Result<()> {
        if let Some(limit) = limit
            && self.count(workspace).await? >= limit
        {
            return Err(Error::UsageLimitReached { limit });
        }
        self.insert_unchecked(workspace, record).await
    }

    async fn insert_batch(
        &self,
        workspace: &WorkspaceId,
        records: &[NewRecord],
        limit: Option<u64>,
    ) -> Result<Vec<Result<()>>> {
        let mut outcomes: Vec<Option<Result<()>>> = records.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..records.len()).collect();
        // Rounds: the first record of each External ID goes now, later ones
        // after it, so a duplicate within the batch loses to the earlier row.
        while !pending.is_empty() {
            let mut seen = HashSet::new();
            let (mut round, later): (Vec<usize>, Vec<usize>) = pending.iter().partition(|&&i| {
                let id = records[i].0.external_id.as_ref();
                id.is_none() || seen.insert(id)
            });
            let mut deferred = later;
            if let Some(limit) = limit {
                let room = usize::try_from(limit.saturating_sub(self.count(workspace).await?))
                    .unwrap_or(usize::MAX);
                if room == 0 {
                    for i in round.into_iter().chain(deferred) {
                        outcomes[i] = Some(Err(Error::UsageLimitReached { limit }));
                    }
                    break;
                }
                if round.len() > room {
                    deferred.extend(round.split_off(room));
                    deferred.sort_unstable();
                }
            }
            let results: Vec<(usize, Result<()>)> = stream::iter(round)
                .map(|i| async move { (i, self.insert_unchecked(workspace, &records[i]).await) })
                .buffered(BATCH_CONCURRENCY)
                .collect()
                .await;
            for (i, result) in results {
                if let Err(Error::Unexpected(error)) = result {
                    return Err(Error::Unexpected(error));
                }
                outcomes[i] = Some(result);
            }
            pending = deferred;
        }
        Ok(outcomes.into_iter().map(|o| o.unwrap_or(Ok(()))).collect())
    }

    async fn get(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<Option<Contact>> {
        self.get_item(items::contact_key(workspace, id))
            .await?
            .map(|item| items::contact_from_item(item).map(|(_, c)| c))
            .transpose()
    }

    async fn get_many(&self, workspace: &WorkspaceId, ids: &[MessagingId]) -> Result<Vec<Contact>> {
        let keys = ids
            .iter()
            .map(|id| items::contact_key(workspace, id))
            .collect();
        self.get_batches(keys)
            .await?
            .into_iter()
            .map(|item| items::contact_from_item(item).map(|(_, contact)| contact))
            .collect()
    }

    async fn get_by_external_id(
        &self,
        workspace: &WorkspaceId,
        id: &ExternalId,
    ) -> Result<Option<Contact>> {
        match self.holder(workspace, id).await? {
            Some(holder) => self.get(workspace, &holder).await,
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        expected_version: u64,
        consent: &[ConsentChange],
    ) -> Result<()> {
        self.update_with(workspace, contact, expected_version, consent, None)
            .await
    }

    async fn merge(&self, workspace: &WorkspaceId, merge: &Merge) -> Result<()> {
        self.write_merge(workspace, merge).await
    }

    async fn merged_into(
        &self,
        workspace: &WorkspaceId,
        ids: &[MessagingId],
    ) -> Result<Vec<(MessagingId, MessagingId)>> {
        self.survivors(workspace, ids).await
    }

    async fn delete(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<bool> {
        for _ in 0..TRANSACT_ATTEMPTS {
            let Some(current) = self.get(workspace, id).await? else {
                return Ok(false);
            };
            let writes = self.delete_writes(workspace, &current)?;
            if self.transact(writes).await?.is_none() {
                self.settle_search(workspace, &current, None).await;
                self.delete_history(workspace, id).await?;
                return Ok(true);
            }
        }
        Err(anyhow::anyhow!("deleting {id} kept conflicting with concurrent edits").into())
    }

    async fn list(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        listing::list(self, workspace, query, page).await
    }

    async fn scan(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        after: Option<&Cursor>,
        batch: usize,
    ) -> Result<Page<Contact>> {
        listing::scan(self, workspace, query, after, batch).await
    }

    async fn count(&self, workspace: &WorkspaceId) -> Result<u64> {
        self.sum_counter(items::usage_partition(workspace)).await
    }

    async fn holds_attribute(&self, workspace: &WorkspaceId, id: &AttributeId) -> Result<bool> {
        listing::any_holds(self, workspace, id).await
    }

    async fn consent_history(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        page: &PageRequest,
    ) -> Result<Page<ConsentChange>> {
        let before = listing::decode_cursor(page.cursor.as_ref())?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk < :c")
            .expression_attribute_values(
                ":p",
                AttributeValue::S(items::history_partition(workspace, id)),
            )
            .expression_attribute_values(
                ":c",
                AttributeValue::S(before.clone().unwrap_or_else(|| "~".to_owned())),
            )
            .scan_index_forward(false)
            .consistent_read(true);
        let mut changes = self
            .query_up_to(query, page.limit + 1)
            .await?
            .into_iter()
            .map(items::change_from_item)
            .collect::<Result<Vec<_>>>()?;
        if changes.len() <= page.limit {
            // The oldest entries, the consent the contact was created with,
            // are on the contact's item.
            if let Some(item) = self.get_item(items::contact_key(workspace, id)).await? {
                changes.extend(
                    items::creation_changes(&item)?
                        .into_iter()
                        .rev()
                        .filter(|(sk, _)| before.as_ref().is_none_or(|b| sk < b)),
                );
            }
        }
        let next_cursor = if changes.len() > page.limit {
            changes.truncate(page.limit);
            changes.last().map(|(sk, _)| listing::encode_cursor(sk))
        } else {
            None
        };
        Ok(Page {
            items: changes.into_iter().map(|(_, change)| change).collect(),
            next_cursor,
        })
    }
}

impl DynamoStore {
    /// Removes a deleted contact's consent history, 25 items a request.
    pub(super) async fn delete_history(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<()> {
        let keys: Vec<Item> = self
            .partition(items::history_partition(workspace, id))
            .await?
            .into_iter()
            .map(|mut item| {
                item.retain(|name, _| name == "pk" || name == "sk");
                item
            })
            .collect();
        for chunk in keys.chunks(25) {
            let requests = chunk
                .iter()
                .map(|key| {
                    let delete = aws_sdk_dynamodb::types::DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map_err(unexpected)?;
                    Ok(aws_sdk_dynamodb::types::WriteRequest::builder()
                        .delete_request(delete)
                        .build())
                })
                .collect::<Result<Vec<_>>>()?;
            let mut unprocessed = Some(std::collections::HashMap::from([(
                self.table.clone(),
                requests,
            )]));
            while let Some(batch) = unprocessed.filter(|b| b.values().any(|v| !v.is_empty())) {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(batch))
                    .set_return_consumed_capacity(self.capacity())
                    .send()
                    .await
                    .map_err(unexpected)?;
                self.record(Units::Write, "BatchWriteItem", out.consumed_capacity());
                unprocessed = out.unprocessed_items;
            }
        }
        Ok(())
    }
}
