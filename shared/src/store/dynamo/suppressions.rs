//! [`SuppressionStore`] over DynamoDB. Items:
//! - the secret `SECRET#<ws>`, `SECRET` — `secret`, written once
//!   (conditional on its absence);
//! - a suppression `SUP#<ws>`, `<id>` — the document (JSON) as `doc`;
//! - a suppressed hash `SH#<ws>#<hash>`, `SH` — `ids`, the string set of
//!   the suppressions holding it (read in batches by an import);
//! - an erased contact `ER#<ws>`, `<messaging id>` — `suppression`, and
//!   while its clean-up is pending, `entries`: the keys of its search
//!   entries (`<pk> <sk>`), cleared after its history.
//!
//! An erasure is one transaction: the contact's delete (as `delete`), the
//! suppression, its hashes and the erased marker with its pending
//! clean-up. After it commits, the history and search entries are
//! deleted, then the marker's `entries`; a retry finishes what an
//! interrupted run left.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::catalog::{key, s};
use super::imports::delete_request;
use super::items::{self, Item};
use super::{DynamoStore, unexpected};
use crate::error::Result;
use crate::model::{Contact, MessagingId, WorkspaceId};
use crate::privacy::suppression::{IdentifierHash, Suppression, SuppressionId, WorkspaceSecret};
use crate::query::{Page, PageRequest};
use crate::search::ContactWords;
use crate::store::imports::{from_json, to_json};
use crate::store::suppressions::SuppressionStore;

fn secret_key(workspace: &WorkspaceId) -> Item {
    key(format!("SECRET#{}", workspace.as_ref()), "SECRET")
}

fn suppression_key(workspace: &WorkspaceId, id: &str) -> Item {
    key(format!("SUP#{}", workspace.as_ref()), id)
}

fn hash_key(workspace: &WorkspaceId, hash: &IdentifierHash) -> Item {
    key(format!("SH#{}#{}", workspace.as_ref(), hash.as_ref()), "SH")
}

fn erased_key(workspace: &WorkspaceId, id: &MessagingId) -> Item {
    key(format!("ER#{}", workspace.as_ref()), id.to_string())
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

fn document(item: &Item) -> Result<Suppression> {
    from_json(&text(item, "doc").unwrap_or_default())
}

impl DynamoStore {
    /// The transaction's update of `hash`'s item: `ids` gains or loses `id`.
    fn hash_write(
        &self,
        workspace: &WorkspaceId,
        hash: &IdentifierHash,
        action: &str,
        id: &SuppressionId,
    ) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(hash_key(workspace, hash)))
            .update_expression(format!("{action} ids :i"))
            .expression_attribute_values(":i", AttributeValue::Ss(vec![id.to_string()]))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The writes that record `suppression`: its document and its hashes.
    fn suppression_writes(
        &self,
        workspace: &WorkspaceId,
        suppression: &Suppression,
    ) -> Result<Vec<TransactWriteItem>> {
        let mut item = suppression_key(workspace, suppression.id.as_ref());
        item.insert("doc".into(), s(to_json(suppression)?));
        let mut writes = vec![self.put(item, None)?];
        for field in &suppression.fields {
            writes.push(self.hash_write(workspace, &field.hash, "ADD", &suppression.id)?);
        }
        Ok(writes)
    }

    /// Runs `writes` as one transaction; false when a condition failed.
    async fn commit_all(&self, writes: Vec<TransactWriteItem>) -> Result<bool> {
        Ok(self.transact(writes).await?.is_none())
    }

    /// Deletes what an erasure could not write in its transaction (the
    /// history, the search entries listed in `marker`), then the marker's
    /// list: the erasure is complete.
    async fn clean_up(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        marker: &Item,
    ) -> Result<()> {
        self.delete_history(workspace, id).await?;
        if let Some(AttributeValue::Ss(entries)) = marker.get("entries") {
            let deletes = entries
                .iter()
                .filter_map(|entry| entry.split_once(' '))
                .map(|(pk, sk)| delete_request(key(pk.to_owned(), sk)))
                .collect::<Result<Vec<_>>>()?;
            self.write_batches(deletes).await?;
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(erased_key(workspace, id)))
            .update_expression("REMOVE entries")
            .send()
            .await
            .map_err(unexpected)?;
        Ok(())
    }
}

#[async_trait]
impl SuppressionStore for DynamoStore {
    async fn secret(&self, workspace: &WorkspaceId) -> Result<WorkspaceSecret> {
        if let Some(kept) = self
            .get_item(secret_key(workspace))
            .await?
            .and_then(|item| text(&item, "secret"))
        {
            return Ok(WorkspaceSecret::from_stored(&kept)?);
        }
        let mut item = secret_key(workspace);
        item.insert("secret".into(), s(WorkspaceSecret::generate()?.to_stored()));
        // A second writer's put fails its condition; both then read the first's.
        self.put_item(item, Some("attribute_not_exists(pk)"))
            .await?;
        let kept = self
            .get_item(secret_key(workspace))
            .await?
            .and_then(|item| text(&item, "secret"))
            .ok_or_else(|| anyhow::anyhow!("the workspace's secret was not kept"))?;
        Ok(WorkspaceSecret::from_stored(&kept)?)
    }

    async fn suppress(&self, workspace: &WorkspaceId, suppression: &Suppression) -> Result<()> {
        let writes = self.suppression_writes(workspace, suppression)?;
        if self.commit_all(writes).await? {
            Ok(())
        } else {
            Err(anyhow::anyhow!("recording a suppression failed a condition it has none of").into())
        }
    }

    async fn suppressed(
        &self,
        workspace: &WorkspaceId,
        hashes: &[IdentifierHash],
    ) -> Result<Vec<Option<Suppression>>> {
        let keys: Vec<Item> = hashes.iter().map(|h| hash_key(workspace, h)).collect();
        let mut holders: HashMap<String, String> = HashMap::new();
        for item in self.get_batches(keys).await? {
            if let (Some(pk), Some(AttributeValue::Ss(ids))) = (text(&item, "pk"), item.get("ids"))
                && let Some(oldest) = ids.iter().min()
            {
                holders.insert(pk, oldest.clone());
            }
        }
        let mut wanted: Vec<Item> = holders
            .values()
            .map(|id| suppression_key(workspace, id))
            .collect();
        wanted.sort_by_key(|k| k.get("sk").and_then(|v| v.as_s().ok().cloned()));
        wanted.dedup();
        let documents: HashMap<String, Suppression> = self
            .get_batches(wanted)
            .await?
            .iter()
            .map(|item| document(item).map(|doc| (doc.id.to_string(), doc)))
            .collect::<Result<_>>()?;
        Ok(hashes
            .iter()
            .map(|hash| {
                let pk = text(&hash_key(workspace, hash), "pk")?;
                documents.get(holders.get(&pk)?).cloned()
            })
            .collect())
    }

    async fn suppressions(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<Suppression>> {
        let before = crate::jobs::jobs_before(page)?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk < :b")
            .expression_attribute_values(":p", s(format!("SUP#{}", workspace.as_ref())))
            .expression_attribute_values(":b", s(before))
            .scan_index_forward(false)
            .consistent_read(true);
        let items = self
            .query_up_to(query, page.limit + 1)
            .await?
            .iter()
            .map(document)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::one_past(items, page.limit, |s| s.id.to_string()))
    }

    async fn lift(&self, workspace: &WorkspaceId, id: &SuppressionId) -> Result<bool> {
        let Some(item) = self
            .get_item(suppression_key(workspace, id.as_ref()))
            .await?
        else {
            return Ok(false);
        };
        let suppression = document(&item)?;
        let mut writes = vec![self.plain_delete(suppression_key(workspace, id.as_ref()))?];
        for field in &suppression.fields {
            writes.push(self.hash_write(workspace, &field.hash, "DELETE", id)?);
        }
        self.commit_all(writes).await
    }

    async fn erase(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        suppression: &Suppression,
    ) -> Result<bool> {
        let mut writes = self.delete_writes(workspace, contact)?;
        writes.extend(self.suppression_writes(workspace, suppression)?);
        let mut marker = erased_key(workspace, &contact.messaging_id);
        marker.insert("suppression".into(), s(suppression.id.to_string()));
        let entries: Vec<String> = items::search_keys(&ContactWords::of(contact))
            .iter()
            .map(|start| {
                let entry = items::search_entry_key(workspace, contact, start);
                format!(
                    "{} {}",
                    text(&entry, "pk").unwrap_or_default(),
                    text(&entry, "sk").unwrap_or_default()
                )
            })
            .collect();
        if !entries.is_empty() {
            marker.insert("entries".into(), AttributeValue::Ss(entries));
        }
        writes.push(self.put(marker.clone(), None)?);
        if !self.commit_all(writes).await? {
            return Ok(false);
        }
        self.clean_up(workspace, &contact.messaging_id, &marker)
            .await?;
        Ok(true)
    }

    async fn finish_erasure(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<Suppression>> {
        let Some(marker) = self.get_item(erased_key(workspace, id)).await? else {
            return Ok(None);
        };
        if marker.contains_key("entries") {
            self.clean_up(workspace, id, &marker).await?;
        }
        let Some(suppression) = text(&marker, "suppression") else {
            return Ok(None);
        };
        match self
            .get_item(suppression_key(workspace, &suppression))
            .await?
        {
            Some(item) => document(&item).map(Some),
            None => Ok(None),
        }
    }
}
