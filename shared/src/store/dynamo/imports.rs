//! [`ImportStore`] over DynamoDB. Items:
//! - import `I#<ws>`, `<import id>` — the job document (JSON);
//! - unfinished marker `IU`, `<ws>#<import id>` — while the import runs;
//! - remembered key `IS#<import id>`, `<key>` — with its `line`;
//! - rejected row `IR#<import id>`, `<line, 20 digits>` — cells (JSON) and error;
//!   both with `expires` (time to live: a week), so an import's keys vanish
//!   without a request per 25 of them;
//! - claim `IC#<ws>#<object key>`, `<object version>` — the `import` that holds it.
//!
//! The job item repeats its lease token as `lease`, for conditional hand-overs.
//!
//! A commit writes its creates in two steps per group (`bulk`), its
//! updates and deletes side by side, then its remembered keys and rejected
//! rows, and the job last: separate requests, so a commit can stop
//! part-way. It is exact when repeated: the contacts it created carry IDs
//! derived from their rows, which the next plan recognises.

use std::collections::HashMap;
use std::sync::Arc;

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
use crate::jobs::JobStore;
use crate::model::{Contact, ExternalId, MessagingId, WorkspaceId};
use crate::query::{ContactQuery, Cursor, Page, PageRequest};
use crate::store::ContactStore;
use crate::store::imports::{
    Commit, ImportStore, Lookup, Rejected, applied_key, from_json, to_json,
};

/// Requests in flight at once for per-item work.
const CONCURRENCY: usize = 16;
/// Items per `BatchWriteItem`.
const WRITE_BATCH: usize = 25;
/// Keys per `BatchGetItem`.
const GET_BATCH: usize = 100;
/// Tries of a batch whose items keep coming back unprocessed.
const BATCH_ATTEMPTS: u32 = 10;
/// Index keys per PartiQL `IN` (DynamoDB's limit for key values).
const INDEX_KEYS: usize = 50;

fn text(item: &Item, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(anyhow::anyhow!("an import item has no {name}").into()),
    }
}

fn seen_partition(import: &ImportId) -> String {
    format!("IS#{import}")
}

fn rejected_partition(import: &ImportId) -> String {
    format!("IR#{import}")
}

/// How long an item the import keeps only while it runs is kept: a week.
const REMEMBERED_FOR: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// When an item the import keeps only while it runs expires.
fn expires() -> AttributeValue {
    let at = Utc::now() + chrono::TimeDelta::from_std(REMEMBERED_FOR).unwrap_or_default();
    AttributeValue::N(at.timestamp().to_string())
}

/// The item of a key the import remembers, with the line that gave it.
fn remembered_item(import: &ImportId, remembered: &str, line: u64) -> Item {
    let mut item = key(seen_partition(import), remembered.to_owned());
    item.insert("line".into(), AttributeValue::N(line.to_string()));
    item.insert(super::EXPIRES.into(), expires());
    item
}

fn line_key(line: u64) -> String {
    format!("{line:020}")
}

/// How long to wait before try `attempt` (1, 2, …) of a batch: exponential
/// from 25 ms, capped at 3.2 s, with full jitter (a random share of it), so
/// throttled writers spread out instead of retrying in step.
pub(super) fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling = 25_u64 << attempt.min(7);
    let random = getrandom::u64().unwrap_or(ceiling / 2);
    std::time::Duration::from_millis(random % (ceiling + 1))
}

pub(super) fn put_request(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder().set_item(Some(item)).build();
    Ok(WriteRequest::builder()
        .put_request(put.map_err(unexpected)?)
        .build())
}

pub(super) fn delete_request(key: Item) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder().set_key(Some(key)).build();
    Ok(WriteRequest::builder()
        .delete_request(delete.map_err(unexpected)?)
        .build())
}

impl DynamoStore {
    /// Writes and deletes items in batches (several in flight), retrying
    /// what comes back unprocessed.
    pub(super) async fn write_batches(&self, requests: Vec<WriteRequest>) -> Result<()> {
        let chunks: Vec<&[WriteRequest]> = requests.chunks(WRITE_BATCH).collect();
        stream::iter(0..chunks.len())
            .map(|i| self.write_batch(chunks[i].to_vec()))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    async fn write_batch(&self, mut pending: Vec<WriteRequest>) -> Result<()> {
        for attempt in 0..BATCH_ATTEMPTS {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending)
                .set_return_consumed_capacity(self.capacity())
                .send()
                .await
                .map_err(unexpected)?;
            self.record(Units::Write, "BatchWriteItem", out.consumed_capacity());
            pending = out
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!("DynamoDB kept batch writes unprocessed").into())
        }
    }

    /// Reads items by key in batches (strongly consistent, several in
    /// flight, unprocessed keys asked again); missing ones are absent.
    pub(super) async fn get_batches(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let chunks: Vec<&[Item]> = keys.chunks(GET_BATCH).collect();
        let found: Vec<Vec<Item>> = stream::iter(0..chunks.len())
            .map(|i| self.get_batch(chunks[i].to_vec()))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// The items at `keys` (at most 100), strongly consistent, retrying
    /// what DynamoDB leaves unprocessed.
    pub(super) async fn get_batch(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(unexpected)?,
        );
        for attempt in 0..BATCH_ATTEMPTS {
            let Some(request) = pending.take() else {
                return Ok(found);
            };
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .set_return_consumed_capacity(self.capacity())
                .send()
                .await
                .map_err(unexpected)?;
            self.record(Units::Read, "BatchGetItem", out.consumed_capacity());
            let responses = out.responses.as_ref().and_then(|r| r.get(&self.table));
            self.record_items(
                "BatchGetItem",
                responses.map_or(0, |items| i32::try_from(items.len()).unwrap_or(i32::MAX)),
            );
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
        match pending {
            None => Ok(found),
            Some(_) => Err(anyhow::anyhow!("DynamoDB kept batch reads unprocessed").into()),
        }
    }

    /// Refuses a commit whose creates would take the workspace over `limit`
    /// (creates whose guards an interrupted attempt counted already are in
    /// the count).
    async fn check_limit(
        &self,
        workspace: &WorkspaceId,
        commit: &Commit,
        limit: Option<u64>,
    ) -> Result<()> {
        let Some(limit) = limit else {
            return Ok(());
        };
        if commit.creates.is_empty() {
            return Ok(());
        }
        let count = self.count(workspace).await?;
        let adding = commit.creates.len() as u64;
        if count + adding <= limit {
            return Ok(());
        }
        let creates: Vec<(Option<ExternalId>, MessagingId)> = commit
            .creates
            .iter()
            .map(|(c, _)| (c.external_id.clone(), c.messaging_id.clone()))
            .collect();
        let counted = self.counted_already(workspace, &creates).await?;
        if count + adding - counted.min(adding) > limit {
            return Err(Error::UsageLimitReached { limit });
        }
        Ok(())
    }

    /// The items of an index whose key `attribute` is one of `values`: a
    /// PartiQL `IN` of up to 50 keys a statement (an index can't be read
    /// with `BatchGetItem`), statements 16 at a time, pages followed.
    async fn by_index_keys(
        &self,
        index: &str,
        attribute: &str,
        mut values: Vec<String>,
    ) -> Result<Vec<Item>> {
        values.sort();
        values.dedup();
        let statements: Vec<(String, Vec<AttributeValue>)> = values
            .chunks(INDEX_KEYS)
            .map(|chunk| {
                let marks = vec!["?"; chunk.len()].join(", ");
                (
                    format!(
                        "SELECT * FROM \"{}\".\"{index}\" WHERE {attribute} IN [{marks}]",
                        self.table
                    ),
                    chunk.iter().cloned().map(AttributeValue::S).collect(),
                )
            })
            .collect();
        let pages: Vec<Vec<Item>> = stream::iter(0..statements.len())
            .map(|i| self.statement(&statements[i].0, &statements[i].1))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// Every item a PartiQL statement returns, following its pages.
    async fn statement(&self, statement: &str, parameters: &[AttributeValue]) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .client
                .execute_statement()
                .statement(statement)
                .set_parameters(Some(parameters.to_vec()))
                .set_next_token(next)
                .set_return_consumed_capacity(self.capacity())
                .send()
                .await
                .map_err(unexpected)?;
            self.record(Units::Read, "ExecuteStatement", out.consumed_capacity());
            found.extend(out.items.unwrap_or_default());
            next = out.next_token;
            if next.is_none() {
                return Ok(found);
            }
        }
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
    async fn create_import(&self, job: &ImportJob) -> Result<bool> {
        self.create_job(job).await
    }

    async fn save_import(&self, job: &ImportJob) -> Result<()> {
        self.put_job(job).await
    }

    async fn hand_over(&self, job: &ImportJob, from: Option<&str>) -> Result<bool> {
        self.hand_over_job(job, from).await
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
        self.job(workspace, id.as_ref()).await
    }

    async fn imports(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<ImportJob>> {
        self.jobs(workspace, page).await
    }

    async fn unfinished_imports(&self) -> Result<Vec<ImportJob>> {
        self.unfinished_jobs().await
    }

    async fn lookup(&self, workspace: &WorkspaceId, keys: &Lookup) -> Result<Vec<Contact>> {
        let mut ids: Vec<MessagingId> = self.by_external_ids(workspace, &keys.external_ids).await?;
        ids.extend(keys.messaging_ids.iter().cloned());
        ids.sort();
        ids.dedup();
        let ws = workspace.as_ref();
        let emails: Vec<String> = keys
            .emails
            .iter()
            .map(|e| format!("{ws}#{}", e.as_ref().to_lowercase()))
            .collect();
        let phones: Vec<String> = keys.phones.iter().map(|p| format!("{ws}#{p}")).collect();
        let (by_id, by_email, by_phone) = tokio::try_join!(
            self.get_batches(
                ids.iter()
                    .map(|id| items::contact_key(workspace, id))
                    .collect()
            ),
            self.by_index_keys("by_email", "epk", emails),
            self.by_index_keys("by_phone", "ppk", phones),
        )?;
        // A contact read by its ID is current; the indexes' copies may be
        // older versions of it, and never replace it.
        let mut found = HashMap::new();
        for item in by_id.into_iter().chain(by_email).chain(by_phone) {
            let (_, contact) = items::contact_from_item(item)?;
            found
                .entry(contact.messaging_id.to_string())
                .or_insert(contact);
        }
        Ok(found.into_values().collect())
    }

    async fn counted_already(
        &self,
        workspace: &WorkspaceId,
        creates: &[(Option<ExternalId>, MessagingId)],
    ) -> Result<u64> {
        let wanted: HashMap<&str, &MessagingId> = creates
            .iter()
            .filter_map(|(id, holder)| Some((id.as_ref()?.as_ref(), holder)))
            .collect();
        let guards = self
            .get_batches(
                creates
                    .iter()
                    .filter_map(|(id, _)| Some(items::guard_key(workspace, id.as_ref()?)))
                    .collect(),
            )
            .await?;
        // Contacts without an External ID were counted with their item.
        let unguarded = self
            .get_batches(
                creates
                    .iter()
                    .filter(|(id, _)| id.is_none())
                    .map(|(_, contact)| items::contact_key(workspace, contact))
                    .collect(),
            )
            .await?;
        let prefix = format!("X#{}#", workspace.as_ref());
        let mut counted = unguarded.len() as u64;
        for guard in guards {
            let pk = text(&guard, "pk")?;
            let id = pk.strip_prefix(&prefix).unwrap_or_default().to_owned();
            let holder = items::holder_from_item(guard)?;
            if wanted.get(id.as_str()).is_some_and(|h| **h == holder) {
                counted += 1;
            }
        }
        Ok(counted)
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
        commit: Arc<Commit>,
        limit: Option<u64>,
    ) -> Result<()> {
        let commit = &*commit;
        self.check_limit(workspace, commit, limit).await?;
        let import = &commit.job.id;
        // The plan gives only keys no earlier row gave (or this row, in a
        // commit that was interrupted); a key given twice in the batch keeps
        // its first line.
        let mut first: HashMap<&str, u64> = HashMap::new();
        for (k, line) in &commit.seen {
            first.entry(k).or_insert(*line);
        }
        let mut requests = Vec::new();
        for (k, line) in first {
            requests.push(put_request(remembered_item(import, k, line))?);
        }
        for row in &commit.rejected {
            let mut item = key(rejected_partition(import), line_key(row.line));
            item.insert("cells".into(), s(to_json(&row.cells)?));
            item.insert("error".into(), s(row.error.clone()));
            item.insert(super::EXPIRES.into(), expires());
            requests.push(put_request(item)?);
        }
        // The contact writes side by side; then what the import remembers;
        // the job, with its checkpoint, last.
        // Each update remembers, in its own transaction, that its row was
        // applied: a plan made again tells it from an unchanged row.
        let updates = stream::iter(0..commit.updates.len())
            .map(|i| async move {
                let u = &commit.updates[i];
                let marker = remembered_item(import, &applied_key(u.line), u.line);
                self.update_with(
                    workspace,
                    &u.contact,
                    u.expected_version,
                    &u.consent,
                    Some(marker),
                )
                .await
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<Result<()>>>();
        let deletes = stream::iter(0..commit.deletes.len())
            .map(|i| async move { self.delete(workspace, &commit.deletes[i]).await })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<Result<bool>>>();
        // Each runs to its end even when another fails, so no group is
        // left between its guards and its contacts, and no write is still
        // in flight when the batch is planned again (a plan reading an
        // update's marker before it lands and its contact after would count
        // the row unchanged).
        let (created, updated, deleted) = tokio::join!(
            self.insert_grouped(workspace, &commit.creates),
            updates,
            deletes
        );
        created?;
        updated.into_iter().collect::<Result<Vec<_>>>()?;
        deleted.into_iter().collect::<Result<Vec<_>>>()?;
        self.write_batches(requests).await?;
        self.put_job(&commit.job).await
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
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk > :a")
            .expression_attribute_values(":p", s(rejected_partition(import)))
            .expression_attribute_values(":a", s(line_key(after)))
            .consistent_read(true);
        self.query_up_to(query, limit)
            .await?
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

    /// Emails and phones are looked up on global secondary indexes, which
    /// are updated after the write that changes them.
    fn reach_lookups_lag(&self) -> bool {
        true
    }

    fn remembers_for(&self) -> Option<std::time::Duration> {
        Some(REMEMBERED_FOR)
    }

    /// Deletes the rejected rows (the error CSV has them by now); the
    /// remembered keys, one or more per row, are left to expire.
    async fn forget(&self, _workspace: &WorkspaceId, import: &ImportId) -> Result<()> {
        let requests = self
            .partition(rejected_partition(import))
            .await?
            .into_iter()
            .map(|item| delete_request(key(text(&item, "pk")?, text(&item, "sk")?)))
            .collect::<Result<Vec<_>>>()?;
        self.write_batches(requests).await
    }
}
