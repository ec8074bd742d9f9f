//! [`DuplicateStore`] over DynamoDB: a key item per shared value, found in
//! order through the sparse `by_duplicate` index, and an item per dismissed
//! group.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::catalog::s;
use super::imports::{delete_request, put_request};
use super::items::Item;
use super::meter::Units;
use super::{DynamoStore, unexpected};
use crate::error::Result;
use crate::model::{
    Contact, ContactSet, DuplicateKey, DuplicateReason, MessagingId, SimilarGroup, WorkspaceId,
};
use crate::query::{Page, PageRequest};
use crate::store::duplicates::{DuplicateStore, page_of_keys, position_range};

/// The partition of `by_duplicate` that holds a workspace's keys.
fn duplicates_partition(workspace: &WorkspaceId) -> String {
    format!("{}#D", workspace.as_ref())
}

/// The key of `key`'s item.
fn key_item(workspace: &WorkspaceId, key: &DuplicateKey) -> Item {
    let pk = format!(
        "D#{}#{}#{}",
        workspace.as_ref(),
        key.reason.as_str(),
        key.value
    );
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s("D"))])
}

/// The table key (`pk`, `sk`) of `item`.
fn item_key(item: &Item) -> Option<(String, String)> {
    match (item.get("pk"), item.get("sk")) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => {
            Some((pk.clone(), sk.clone()))
        }
        _ => None,
    }
}

/// The partition of the items naming each contact's similar-name group.
fn similar_members_partition(workspace: &WorkspaceId) -> String {
    format!("DS#{}", workspace.as_ref())
}

/// The item of a dismissed group.
fn dismissal_key(workspace: &WorkspaceId, set: &ContactSet) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            s(format!("DX#{}#{}", workspace.as_ref(), set.key())),
        ),
        ("sk".to_owned(), s("DX")),
    ])
}

impl DynamoStore {
    /// Notes each value `contact` was just written with that another
    /// contact holds (read from `by_email` and `by_phone`), but for those
    /// `before` held too. A failure is logged: the contact is stored, and a
    /// later write of it notes the value again.
    pub(super) async fn note_duplicates(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        before: Option<&Contact>,
    ) {
        for reason in DuplicateReason::SHARED_VALUES {
            let Some(value) = reason
                .value_of(contact)
                .filter(|v| before.and_then(|b| reason.value_of(b)).as_ref() != Some(v))
            else {
                continue;
            };
            let key = DuplicateKey {
                reason,
                value,
                joined: contact.updated_at,
            };
            if let Err(error) = self.note_key(workspace, contact, &key).await {
                tracing::warn!(%error, reason = reason.as_str(), "a duplicate was not noted");
            }
        }
    }

    async fn note_key(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        key: &DuplicateKey,
    ) -> Result<()> {
        let (index, hash) = match key.reason {
            DuplicateReason::SameEmail => ("by_email", "epk"),
            DuplicateReason::SamePhone => ("by_phone", "ppk"),
            DuplicateReason::SimilarName => return Ok(()),
        };
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#h = :h")
            .expression_attribute_names("#h", hash)
            .expression_attribute_values(":h", s(format!("{}#{}", workspace.as_ref(), key.value)))
            .projection_expression("messaging_id");
        let holders = self.query_up_to(query, 2).await?;
        let own = s(contact.messaging_id.to_string());
        if holders
            .iter()
            .all(|item| item.get("messaging_id") == Some(&own))
        {
            return Ok(());
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(workspace, key)))
            .update_expression("SET dpk = :d, wsk = :w")
            // A later join sorts first; an earlier one never moves it back.
            .condition_expression("attribute_not_exists(wsk) OR wsk > :w")
            .expression_attribute_values(":d", s(duplicates_partition(workspace)))
            .expression_attribute_values(":w", s(key.position()))
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await;
        match result {
            Ok(out) => {
                self.record(Units::Write, "UpdateItem", out.consumed_capacity());
                Ok(())
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(unexpected(error)),
        }
    }
}

#[async_trait]
impl DuplicateStore for DynamoStore {
    async fn duplicate_keys(
        &self,
        workspace: &WorkspaceId,
        reason: Option<DuplicateReason>,
        page: &PageRequest,
    ) -> Result<Page<DuplicateKey>> {
        let (after, before) = position_range(reason, page.cursor.as_ref())?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_duplicate")
            .key_condition_expression("dpk = :d AND wsk BETWEEN :a AND :b")
            .expression_attribute_values(":d", s(duplicates_partition(workspace)))
            .expression_attribute_values(":a", s(after.clone()))
            .expression_attribute_values(":b", s(before));
        let keys: Vec<DuplicateKey> = self
            .query_up_to(query, page.limit + 2)
            .await?
            .iter()
            .filter_map(|item| match item.get("wsk") {
                Some(AttributeValue::S(position)) if *position != after => {
                    DuplicateKey::from_position(position)
                }
                _ => None,
            })
            .collect();
        Ok(page_of_keys(keys, page.limit))
    }

    /// New items first, then the old ones no new item replaced, so the
    /// groups of the last scan show until those of this one do.
    async fn replace_similar(
        &self,
        workspace: &WorkspaceId,
        groups: &[SimilarGroup],
    ) -> Result<()> {
        let (low, high) = position_range(Some(DuplicateReason::SimilarName), None)?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_duplicate")
            .key_condition_expression("dpk = :d AND wsk BETWEEN :a AND :b")
            .expression_attribute_values(":d", s(duplicates_partition(workspace)))
            .expression_attribute_values(":a", s(low))
            .expression_attribute_values(":b", s(high));
        let mut old: HashSet<(String, String)> = HashSet::new();
        let members = similar_members_partition(workspace);
        let found = self.query_up_to(query, usize::MAX).await?;
        let held = self.partition(members.clone()).await?;
        old.extend(found.iter().chain(&held).filter_map(item_key));
        let mut writes = Vec::new();
        for group in groups {
            let key = group.key();
            let mut item = key_item(workspace, &key);
            item.insert("dpk".into(), s(duplicates_partition(workspace)));
            item.insert("wsk".into(), s(key.position()));
            item.insert("members".into(), s(group.members.key()));
            let mut items = vec![item];
            for id in group.members.ids() {
                let mut member = super::catalog::key(members.clone(), id.to_string());
                member.insert("position".into(), s(key.position()));
                items.push(member);
            }
            for item in items {
                if let Some(key) = item_key(&item) {
                    old.remove(&key);
                }
                writes.push(put_request(item)?);
            }
        }
        self.write_batches(writes).await?;
        let deletes = old
            .into_iter()
            .map(|(pk, sk)| delete_request(super::catalog::key(pk, sk)));
        self.write_batches(deletes.collect::<Result<_>>()?).await
    }

    async fn similar_group(
        &self,
        workspace: &WorkspaceId,
        anchor: &str,
    ) -> Result<Vec<MessagingId>> {
        let key = DuplicateKey {
            reason: DuplicateReason::SimilarName,
            value: anchor.to_owned(),
            joined: chrono::DateTime::UNIX_EPOCH,
        };
        Ok(match self.get_item(key_item(workspace, &key)).await? {
            Some(item) => match item.get("members") {
                Some(AttributeValue::S(members)) => ContactSet::from_key(members)
                    .map(|set| set.ids().cloned().collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        })
    }

    async fn similar_key_of(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<DuplicateKey>> {
        let key = super::catalog::key(similar_members_partition(workspace), id.to_string());
        Ok(match self.get_item(key).await? {
            Some(item) => match item.get("position") {
                Some(AttributeValue::S(position)) => DuplicateKey::from_position(position),
                _ => None,
            },
            None => None,
        })
    }

    async fn dismiss(&self, workspace: &WorkspaceId, set: &ContactSet) -> Result<()> {
        self.put_item(dismissal_key(workspace, set), None)
            .await
            .map(drop)
    }

    async fn dismissed(&self, workspace: &WorkspaceId, sets: &[ContactSet]) -> Result<Vec<bool>> {
        let mut found = std::collections::HashSet::new();
        for chunk in sets.chunks(100) {
            let keys = chunk
                .iter()
                .map(|set| dismissal_key(workspace, set))
                .collect();
            for item in self.get_batch(keys).await? {
                if let Some(AttributeValue::S(pk)) = item.get("pk") {
                    found.insert(pk.clone());
                }
            }
        }
        Ok(sets
            .iter()
            .map(|set| match dismissal_key(workspace, set).get("pk") {
                Some(AttributeValue::S(pk)) => found.contains(pk),
                _ => false,
            })
            .collect())
    }
}
