//! [`SchemaStore`] and [`ListStore`] over DynamoDB: a workspace's attribute
//! definitions and lists each live in one small partition; list names are
//! kept unique by guard items, list sizes by sharded counters.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::items::{self, Item};
use super::meter::Units;
use super::{DynamoStore, unexpected};
use crate::error::{Error, Result};
use crate::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, ContactList,
    ListId, ListName, WorkspaceId,
};
use crate::store::{ListStore, SchemaStore};

/// A string attribute.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The key of the item `pk` / `sk`.
pub(super) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn attributes_partition(workspace: &WorkspaceId) -> String {
    format!("A#{}", workspace.as_ref())
}

fn lists_partition(workspace: &WorkspaceId) -> String {
    format!("L#{}", workspace.as_ref())
}

fn name_guard(workspace: &WorkspaceId, name: &ListName) -> Item {
    key(format!("N#{}#{}", workspace.as_ref(), name.folded()), "N")
}

#[derive(Serialize, Deserialize)]
struct AttributeRecord {
    pk: String,
    sk: String,
    id: String,
    label: String,
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct ListRecord {
    pk: String,
    sk: String,
    name: String,
    created_at: i64,
}

#[derive(Serialize, Deserialize)]
struct SettingRecord {
    pk: String,
    sk: String,
    columns: Vec<String>,
}

impl DynamoStore {
    /// Up to `limit` items of a query, in its order: its pages followed
    /// until that many are read or the items end (DynamoDB ends a page at 1
    /// MB whatever its `Limit`, so a short page is not the end).
    pub(super) async fn query_up_to(
        &self,
        query: QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let left = limit.saturating_sub(items.len()).max(1);
            let out = query
                .clone()
                .limit(i32::try_from(left).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .set_return_consumed_capacity(self.capacity())
                .send()
                .await
                .map_err(unexpected)?;
            self.record(Units::Read, "Query", out.consumed_capacity());
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= limit {
                return Ok(items);
            }
        }
    }

    /// Every item of one (small) partition, strongly consistent.
    pub(super) async fn partition(&self, pk: String) -> Result<Vec<Item>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s(pk))
            .consistent_read(true);
        self.query_up_to(query, usize::MAX).await
    }

    pub(super) async fn put_item(&self, item: Item, condition: Option<&str>) -> Result<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await;
        match result {
            Ok(out) => {
                self.record(Units::Write, "PutItem", out.consumed_capacity());
                Ok(true)
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(unexpected(error)),
        }
    }

    async fn delete_item(&self, key: Item) -> Result<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await
            .map_err(unexpected)?;
        self.record(Units::Write, "DeleteItem", out.consumed_capacity());
        Ok(out.attributes.is_some())
    }

    fn attribute_item(&self, workspace: &WorkspaceId, d: &AttributeDefinition) -> Result<Item> {
        serde_dynamo::to_item(AttributeRecord {
            pk: attributes_partition(workspace),
            sk: d.name.to_string(),
            id: d.id.to_string(),
            label: d.label.to_string(),
            kind: d.kind.as_str().to_owned(),
        })
        .map_err(unexpected)
    }
}

#[async_trait]
impl SchemaStore for DynamoStore {
    async fn attributes(&self, workspace: &WorkspaceId) -> Result<Vec<AttributeDefinition>> {
        self.partition(attributes_partition(workspace))
            .await?
            .into_iter()
            .map(|item| {
                let r: AttributeRecord = serde_dynamo::from_item(item).map_err(unexpected)?;
                Ok(AttributeDefinition {
                    id: AttributeId::from_stored(r.id),
                    name: AttributeName::from_stored(r.sk),
                    label: AttributeLabel::from_stored(r.label),
                    kind: AttributeType::parse(&r.kind)?,
                })
            })
            .collect()
    }

    async fn create_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()> {
        let item = self.attribute_item(workspace, definition)?;
        if self
            .put_item(item, Some("attribute_not_exists(pk)"))
            .await?
        {
            Ok(())
        } else {
            Err(Error::NameTaken {
                kind: "custom attribute",
                name: definition.name.to_string(),
            })
        }
    }

    async fn update_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()> {
        let item = self.attribute_item(workspace, definition)?;
        if self.put_item(item, Some("attribute_exists(pk)")).await? {
            Ok(())
        } else {
            Err(Error::AttributeNotFound(definition.name.to_string()))
        }
    }

    async fn delete_attribute(
        &self,
        workspace: &WorkspaceId,
        name: &AttributeName,
    ) -> Result<bool> {
        self.delete_item(key(attributes_partition(workspace), name.to_string()))
            .await
    }

    async fn columns(&self, workspace: &WorkspaceId) -> Result<Option<Vec<String>>> {
        let items = self.partition(format!("S#{}", workspace.as_ref())).await?;
        items
            .into_iter()
            .find(|item| matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == "columns"))
            .map(|item| {
                serde_dynamo::from_item::<_, SettingRecord>(item)
                    .map(|r| r.columns)
                    .map_err(unexpected)
            })
            .transpose()
    }

    async fn save_columns(&self, workspace: &WorkspaceId, columns: &[String]) -> Result<()> {
        let item = serde_dynamo::to_item(SettingRecord {
            pk: format!("S#{}", workspace.as_ref()),
            sk: "columns".to_owned(),
            columns: columns.to_vec(),
        })
        .map_err(unexpected)?;
        self.put_item(item, None).await.map(drop)
    }
}

#[async_trait]
impl ListStore for DynamoStore {
    async fn lists(&self, workspace: &WorkspaceId) -> Result<Vec<ContactList>> {
        let mut lists = self
            .partition(lists_partition(workspace))
            .await?
            .into_iter()
            .map(|item| {
                let r: ListRecord = serde_dynamo::from_item(item).map_err(unexpected)?;
                Ok(ContactList {
                    id: ListId::from_stored(r.sk),
                    name: ListName::from_stored(r.name),
                    created_at: chrono::DateTime::from_timestamp_micros(r.created_at).ok_or_else(
                        || anyhow::anyhow!("stored time {} is out of range", r.created_at),
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        lists.sort_by_key(|l| l.name.folded());
        Ok(lists)
    }

    async fn create_list(&self, workspace: &WorkspaceId, list: &ContactList) -> Result<()> {
        let record = serde_dynamo::to_item(ListRecord {
            pk: lists_partition(workspace),
            sk: list.id.to_string(),
            name: list.name.to_string(),
            created_at: list.created_at.timestamp_micros(),
        })
        .map_err(unexpected)?;
        let mut guard = name_guard(workspace, &list.name);
        guard.insert("holder".to_owned(), s(list.id.to_string()));
        let absent = Some(("attribute_not_exists(pk)", &[][..]));
        let writes = vec![self.put(guard, absent)?, self.put(record, absent)?];
        match self.transact(writes).await? {
            None => Ok(()),
            Some(_) => Err(Error::NameTaken {
                kind: "list",
                name: list.name.to_string(),
            }),
        }
    }

    async fn rename_list(
        &self,
        workspace: &WorkspaceId,
        id: &ListId,
        name: &ListName,
    ) -> Result<()> {
        let current = self
            .lists(workspace)
            .await?
            .into_iter()
            .find(|l| &l.id == id)
            .ok_or_else(|| Error::ListNotFound(id.to_string()))?;
        let renamed = ContactList {
            name: name.clone(),
            ..current.clone()
        };
        let record = serde_dynamo::to_item(ListRecord {
            pk: lists_partition(workspace),
            sk: id.to_string(),
            name: name.to_string(),
            created_at: renamed.created_at.timestamp_micros(),
        })
        .map_err(unexpected)?;
        let holder = [(":h", s(id.to_string()))];
        let mut writes = vec![self.put(record, Some(("attribute_exists(pk)", &[])))?];
        if current.name.folded() != name.folded() {
            let mut guard = name_guard(workspace, name);
            guard.insert("holder".to_owned(), s(id.to_string()));
            writes.push(self.delete_write(
                name_guard(workspace, &current.name),
                "holder = :h",
                &holder,
            )?);
            writes.push(self.put(guard, Some(("attribute_not_exists(pk)", &[])))?);
        }
        match self.transact(writes).await? {
            None => Ok(()),
            Some(failed) if failed.first() == Some(&true) => {
                Err(Error::ListNotFound(id.to_string()))
            }
            Some(_) => Err(Error::NameTaken {
                kind: "list",
                name: name.to_string(),
            }),
        }
    }

    async fn delete_list(&self, workspace: &WorkspaceId, id: &ListId) -> Result<bool> {
        let Some(current) = self
            .lists(workspace)
            .await?
            .into_iter()
            .find(|l| &l.id == id)
        else {
            return Ok(false);
        };
        let holder = [(":h", s(id.to_string()))];
        let writes = vec![
            self.delete_write(
                key(lists_partition(workspace), id.to_string()),
                "attribute_exists(pk)",
                &[],
            )?,
            self.delete_write(name_guard(workspace, &current.name), "holder = :h", &holder)?,
        ];
        Ok(self.transact(writes).await?.is_none())
    }

    async fn member_count(&self, workspace: &WorkspaceId, id: &ListId) -> Result<u64> {
        self.sum_counter(items::member_count_partition(workspace, id))
            .await
    }
}
