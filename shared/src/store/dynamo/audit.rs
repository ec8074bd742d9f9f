//! [`AuditStore`] over DynamoDB. Items, each with the entry (JSON) as
//! `doc` and its expiry as the table's time to live (`expires`), so
//! DynamoDB deletes them after the retention:
//! - every entry `AU#<ws>`, `<id>`;
//! - an entry about a contact also `AUC#<ws>#<messaging id>`, `<id>`,
//!   both written in one transaction.
//!
//! Reads leave out expired entries the time to live has not deleted yet.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::catalog::{key, s};
use super::items::Item;
use super::{DynamoStore, EXPIRES};
use crate::audit::{AuditEntry, AuditQuery};
use crate::error::Result;
use crate::model::{MessagingId, WorkspaceId, now};
use crate::query::{Page, PageRequest};
use crate::store::audit::AuditStore;
use crate::store::imports::{from_json, to_json};

fn workspace_partition(workspace: &WorkspaceId) -> String {
    format!("AU#{}", workspace.as_ref())
}

fn contact_partition(workspace: &WorkspaceId, contact: &MessagingId) -> String {
    format!("AUC#{}#{contact}", workspace.as_ref())
}

fn document(item: &Item) -> Result<AuditEntry> {
    match item.get("doc") {
        Some(AttributeValue::S(doc)) => from_json(doc),
        _ => Err(anyhow::anyhow!("an audit item has no document").into()),
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn record(&self, workspace: &WorkspaceId, entry: &AuditEntry) -> Result<()> {
        let item = |pk: String| -> Result<Item> {
            let mut item = key(pk, entry.id.as_ref());
            item.insert("doc".into(), s(to_json(entry)?));
            item.insert(
                EXPIRES.into(),
                AttributeValue::N(entry.expires_at.timestamp().to_string()),
            );
            Ok(item)
        };
        let everything = item(workspace_partition(workspace))?;
        match &entry.contact {
            None => self.put_item(everything, None).await.map(drop),
            Some(contact) => {
                let writes = vec![
                    self.put(everything, None)?,
                    self.put(item(contact_partition(workspace, contact))?, None)?,
                ];
                match self.transact(writes).await? {
                    None => Ok(()),
                    Some(_) => {
                        Err(anyhow::anyhow!("recording an audit entry failed a condition").into())
                    }
                }
            }
        }
    }

    async fn audit(
        &self,
        workspace: &WorkspaceId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let before = crate::jobs::jobs_before(page)?;
        let since = query.lowest_id();
        let partition = match &query.contact {
            Some(contact) => contact_partition(workspace, contact),
            None => workspace_partition(workspace),
        };
        let read = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk BETWEEN :s AND :b")
            .filter_expression("#e > :now")
            .expression_attribute_names("#e", EXPIRES)
            .expression_attribute_values(":p", s(partition))
            .expression_attribute_values(":s", s(since))
            .expression_attribute_values(":b", s(before.clone()))
            .expression_attribute_values(":now", AttributeValue::N(now().timestamp().to_string()))
            .scan_index_forward(false);
        // BETWEEN includes its upper end, the cursor's own entry: one more.
        let wanted = page.limit + 1 + usize::from(page.cursor.is_some());
        let items = self
            .query_up_to(read, wanted)
            .await?
            .iter()
            .map(document)
            .filter(|entry| !matches!(entry, Ok(e) if e.id.as_ref() == before))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::one_past(items, page.limit, |e| e.id.to_string()))
    }
}
