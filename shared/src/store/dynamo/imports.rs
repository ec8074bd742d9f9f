//! [`ImportStore`] over DynamoDB. Items:
//! - import `I#<ws>`, `<import id>` — the job document (JSON);
//! - unfinished marker `IU`, `<ws>#<import id>` — while the import runs;
//! - remembered key `IS#<import id>`, `<key>` — with its `line`;
//! - rejected row `IR#<import id>`, `<line, 20 digits>` — cells (JSON) and error;
//! - claim `IC#<ws>#<object key>`, `<object version>` — the `import` that holds it.
//!
//! The job item repeats its lease token as `lease`, for conditional hand-overs.
//!
//! A commit writes its creates in grouped transactions (`bulk`), then its
//! updates, deletes, remembered keys, rejected rows and the job: separate
//! requests, so a commit can stop part-way. It is exact when repeated: the
//! contacts it created carry IDs derived from their rows, which the next
//! plan recognises.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};

use super::catalog::{key, s};
use super::items::{self, Item};
use super::meter::Units;
use super::{DynamoStore, unexpected};
use crate::error::{Error, Result};
use crate::import::job::{ImportId, ImportJob};
use crate::model::{Contact, MessagingId, WorkspaceId};
use crate::query::{ContactFilter, ContactQuery, Cursor, Page, PageRequest};
use crate::store::ContactStore;
use crate::store::imports::{Commit, ImportStore, Lookup, Rejected, from_json, to_json};

/// Requests in flight at once for per-item work.
const CONCURRENCY: usize = 16;
/// Items per `BatchWriteItem`.
const WRITE_BATCH: usize = 25;
/// Keys per `BatchGetItem`.
const GET_BATCH: usize = 100;

fn text(item: &Item, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(anyhow::anyhow!("an import item has no {name}").into()),
    }
}

fn job_item(job: &ImportJob) -> Result<Item> {
    let mut item = key(format!("I#{}", job.workspace), job.id.to_string());
    item.insert("job".into(), s(to_json(job)?));
    if let Some(lease) = &job.lease {
        item.insert("lease".into(), s(lease.token.clone()));
    }
    Ok(item)
}

fn marker_key(job: &ImportJob) -> Item {
    key("IU".into(), format!("{}#{}", job.workspace, job.id))
}

fn seen_partition(import: &ImportId) -> String {
    format!("IS#{import}")
}

fn rejected_partition(import: &ImportId) -> String {
    format!("IR#{import}")
}

fn line_key(line: u64) -> String {
    format!("{line:020}")
}

fn put_request(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder().set_item(Some(item)).build();
    Ok(WriteRequest::builder()
        .put_request(put.map_err(unexpected)?)
        .build())
}

fn delete_request(key: Item) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder().set_key(Some(key)).build();
    Ok(WriteRequest::builder()
        .delete_request(delete.map_err(unexpected)?)
        .build())
}

impl DynamoStore {
    /// Writes and deletes items in batches, retrying what comes back unprocessed.
    async fn write_batches(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(WRITE_BATCH) {
            let mut pending = chunk.to_vec();
            for attempt in 0..10u32 {
                if pending.is_empty() {
                    break;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .set_return_consumed_capacity(self.capacity())
                    .send()
                    .await
                    .map_err(unexpected)?;
                self.record(Units::Write, out.consumed_capacity());
                pending = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                }
            }
            if !pending.is_empty() {
                return Err(anyhow::anyhow!("DynamoDB kept batch writes unprocessed").into());
            }
        }
        Ok(())
    }

    /// Reads items by key in batches (strongly consistent); missing ones are absent.
    async fn get_batches(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(GET_BATCH) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(unexpected)?,
            );
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .set_return_consumed_capacity(self.capacity())
                    .send()
                    .await
                    .map_err(unexpected)?;
                self.record(Units::Read, out.consumed_capacity());
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .filter(|left| !left.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// The first contact an exact filter finds.
    async fn first_match(
        &self,
        workspace: &WorkspaceId,
        filter: ContactFilter,
    ) -> Result<Option<Contact>> {
        let query = ContactQuery {
            filters: vec![filter],
        };
        let mut page = PageRequest::first(1);
        loop {
            let found = self.list(workspace, &query, &page).await?;
            if let Some(contact) = found.items.into_iter().next() {
                return Ok(Some(contact));
            }
            match found.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return Ok(None),
            }
        }
    }

    async fn save_job(&self, job: &ImportJob) -> Result<()> {
        let marker = if job.status.is_finished() {
            delete_request(marker_key(job))?
        } else {
            put_request(marker_key(job))?
        };
        let record = put_request(job_item(job)?)?;
        self.write_batches(vec![marker, record]).await
    }

    /// Refuses a commit whose creates would take the workspace over `limit`.
    async fn check_limit(
        &self,
        workspace: &WorkspaceId,
        commit: &Commit,
        limit: Option<u64>,
    ) -> Result<()> {
        if let Some(limit) = limit
            && !commit.creates.is_empty()
            && self.count(workspace).await? + commit.creates.len() as u64 > limit
        {
            return Err(Error::UsageLimitReached { limit });
        }
        Ok(())
    }

    /// The Messaging IDs holding `ids`, from their guards (read in batches).
    async fn by_external_ids(
        &self,
        workspace: &WorkspaceId,
        ids: &[crate::model::ExternalId],
    ) -> Result<Vec<MessagingId>> {
        let mut unique: Vec<&crate::model::ExternalId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let guards = self
            .get_batches(
                unique
                    .into_iter()
                    .map(|id| items::guard_key(workspace, id))
                    .collect(),
            )
            .await?;
        guards.into_iter().map(items::holder_from_item).collect()
    }
}

#[async_trait]
impl ImportStore for DynamoStore {
    async fn create_import(&self, job: &ImportJob) -> Result<()> {
        self.save_job(job).await
    }

    async fn save_import(&self, job: &ImportJob) -> Result<()> {
        self.save_job(job).await
    }

    async fn hand_over(&self, job: &ImportJob, from: Option<&str>) -> Result<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .set_return_consumed_capacity(self.capacity());
        let put = match from {
            Some(token) => put
                .condition_expression("lease = :from")
                .expression_attribute_values(":from", s(token.to_owned())),
            None => {
                put.condition_expression("attribute_exists(pk) AND attribute_not_exists(lease)")
            }
        };
        match put.send().await {
            Ok(out) => self.record(Units::Write, out.consumed_capacity()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false);
            }
            Err(error) => return Err(unexpected(error)),
        }
        if !job.status.is_finished() {
            self.write_batches(vec![put_request(marker_key(job))?])
                .await?;
        }
        Ok(true)
    }

    async fn claim(
        &self,
        workspace: &WorkspaceId,
        object: &str,
        version: &str,
        import: &ImportId,
    ) -> Result<ImportId> {
        let claim = key(
            format!("IC#{}#{object}", workspace.as_ref()),
            version.to_owned(),
        );
        let mut item = claim.clone();
        item.insert("import".into(), s(import.to_string()));
        if self
            .put_item(item, Some("attribute_not_exists(pk)"))
            .await?
        {
            return Ok(import.clone());
        }
        let found = self.get_batches(vec![claim]).await?;
        let holder = found
            .first()
            .ok_or_else(|| anyhow::anyhow!("a claim vanished"))
            .map_err(Error::from)
            .and_then(|item| text(item, "import"))?;
        Ok(ImportId::parse(&holder)?)
    }

    async fn import(&self, workspace: &WorkspaceId, id: &ImportId) -> Result<Option<ImportJob>> {
        let found = self
            .get_batches(vec![key(
                format!("I#{}", workspace.as_ref()),
                id.to_string(),
            )])
            .await?;
        found
            .first()
            .map(|item| from_json(&text(item, "job")?))
            .transpose()
    }

    async fn imports(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<ImportJob>> {
        let before = match &page.cursor {
            Some(cursor) => ImportId::parse(&cursor.0)
                .map_err(|_| Error::invalid("cursor", "is not a cursor this listing returned"))?
                .to_string(),
            None => "~".to_owned(),
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk < :b")
            .expression_attribute_values(":p", s(format!("I#{}", workspace.as_ref())))
            .expression_attribute_values(":b", s(before))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(page.limit + 1).unwrap_or(i32::MAX))
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await
            .map_err(unexpected)?;
        self.record(Units::Read, out.consumed_capacity());
        let mut items: Vec<ImportJob> = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| from_json(&text(item, "job")?))
            .collect::<Result<_>>()?;
        let next_cursor = if items.len() > page.limit {
            items.truncate(page.limit);
            items.last().map(|job| Cursor(job.id.to_string()))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn unfinished_imports(&self) -> Result<Vec<ImportJob>> {
        let markers = self.partition("IU".into()).await?;
        let keys = markers
            .iter()
            .map(|m| {
                let sk = text(m, "sk")?;
                let (workspace, id) = sk
                    .split_once('#')
                    .ok_or_else(|| anyhow::anyhow!("a malformed import marker"))?;
                Ok(key(format!("I#{workspace}"), id))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut jobs: Vec<ImportJob> = self
            .get_batches(keys)
            .await?
            .iter()
            .map(|item| from_json(&text(item, "job")?))
            .collect::<Result<_>>()?;
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(jobs)
    }

    async fn lookup(&self, workspace: &WorkspaceId, keys: &Lookup) -> Result<Vec<Contact>> {
        type Found<'a> = Pin<Box<dyn Future<Output = Result<Option<Contact>>> + Send + 'a>>;
        let mut ids: Vec<MessagingId> = self.by_external_ids(workspace, &keys.external_ids).await?;
        ids.extend(keys.messaging_ids.iter().cloned());
        ids.sort();
        ids.dedup();
        let mut found = HashMap::new();
        let items = self
            .get_batches(
                ids.iter()
                    .map(|id| items::contact_key(workspace, id))
                    .collect(),
            )
            .await?;
        for item in items {
            let (_, contact) = items::contact_from_item(item)?;
            found.insert(contact.messaging_id.to_string(), contact);
        }
        let mut lookups: Vec<Found<'_>> = Vec::new();
        for email in &keys.emails {
            let filter = ContactFilter::EmailIs(email.clone());
            lookups.push(Box::pin(self.first_match(workspace, filter)));
        }
        for phone in &keys.phones {
            let filter = ContactFilter::PhoneIs(phone.clone());
            lookups.push(Box::pin(self.first_match(workspace, filter)));
        }
        let contacts: Vec<Option<Contact>> = stream::iter(lookups)
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for contact in contacts.into_iter().flatten() {
            found.insert(contact.messaging_id.to_string(), contact);
        }
        Ok(found.into_values().collect())
    }

    async fn seen(
        &self,
        _workspace: &WorkspaceId,
        import: &ImportId,
        keys: &[String],
    ) -> Result<HashMap<String, u64>> {
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let items = self
            .get_batches(
                unique
                    .into_iter()
                    .map(|k| key(seen_partition(import), k.clone()))
                    .collect(),
            )
            .await?;
        items
            .iter()
            .map(|item| {
                let line = match item.get("line") {
                    Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
                    _ => 0,
                };
                Ok((text(item, "sk")?, line))
            })
            .collect()
    }

    async fn commit(
        &self,
        workspace: &WorkspaceId,
        commit: &Commit,
        limit: Option<u64>,
    ) -> Result<()> {
        self.check_limit(workspace, commit, limit).await?;
        self.insert_grouped(workspace, &commit.creates).await?;
        stream::iter(0..commit.updates.len())
            .map(|i| async move {
                let u = &commit.updates[i];
                self.update(workspace, &u.contact, u.expected_version, &u.consent)
                    .await
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        stream::iter(0..commit.deletes.len())
            .map(|i| async move { self.delete(workspace, &commit.deletes[i]).await })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        let import = &commit.job.id;
        // A key keeps the line that first gave it.
        let keys: Vec<String> = commit.seen.iter().map(|(k, _)| k.clone()).collect();
        let mut known = self.seen(workspace, import, &keys).await?;
        let mut requests = Vec::new();
        for (k, line) in &commit.seen {
            if known.insert(k.clone(), *line).is_none() {
                let mut item = key(seen_partition(import), k.clone());
                item.insert("line".into(), AttributeValue::N(line.to_string()));
                requests.push(put_request(item)?);
            }
        }
        for row in &commit.rejected {
            let mut item = key(rejected_partition(import), line_key(row.line));
            item.insert("cells".into(), s(to_json(&row.cells)?));
            item.insert("error".into(), s(row.error.clone()));
            requests.push(put_request(item)?);
        }
        self.write_batches(requests).await?;
        self.save_job(&commit.job).await
    }

    async fn unseen(
        &self,
        workspace: &WorkspaceId,
        import: &ImportId,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<MessagingId>, Option<String>)> {
        let page = PageRequest {
            limit: limit.clamp(1, PageRequest::MAX_LIMIT),
            cursor: after.map(|a| Cursor(a.to_owned())),
        };
        let found = self
            .list(workspace, &ContactQuery::default(), &page)
            .await?;
        let old: Vec<&Contact> = found
            .items
            .iter()
            .filter(|c| c.created_at < before)
            .collect();
        let keys: Vec<String> = old
            .iter()
            .map(|c| format!("c:{}", c.messaging_id))
            .collect();
        let seen = self.seen(workspace, import, &keys).await?;
        let ids = old
            .iter()
            .filter(|c| !seen.contains_key(&format!("c:{}", c.messaging_id)))
            .map(|c| c.messaging_id.clone())
            .collect();
        Ok((ids, found.next_cursor.map(|c| c.0)))
    }

    async fn rejected(
        &self,
        _workspace: &WorkspaceId,
        import: &ImportId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Rejected>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk > :a")
            .expression_attribute_values(":p", s(rejected_partition(import)))
            .expression_attribute_values(":a", s(line_key(after)))
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await
            .map_err(unexpected)?;
        self.record(Units::Read, out.consumed_capacity());
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                Ok(Rejected {
                    line: text(item, "sk")?.parse().unwrap_or(0),
                    cells: from_json(&text(item, "cells")?)?,
                    error: text(item, "error")?,
                })
            })
            .collect()
    }

    async fn forget(&self, _workspace: &WorkspaceId, import: &ImportId) -> Result<()> {
        for partition in [seen_partition(import), rejected_partition(import)] {
            let requests = self
                .partition(partition)
                .await?
                .into_iter()
                .map(|item| delete_request(key(text(&item, "pk")?, text(&item, "sk")?)))
                .collect::<Result<Vec<_>>>()?;
            self.write_batches(requests).await?;
        }
        Ok(())
    }
}
