//! [`JobStore`] over DynamoDB. Items, for a kind's prefix `P` (`I` for
//! imports, `E` for exports, `DSCAN` for scans for similar names):
//! - the job `P#<ws>`, `<id>` — the document (JSON) as `job`, its lease
//!   token repeated as `lease` for conditional hand-overs;
//! - an unfinished marker `PU`, `<ws>#<id>` — while the job has not ended.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;

use super::catalog::{key, s};
use super::imports::{delete_request, put_request};
use super::items::Item;
use super::meter::Units;
use super::{DynamoStore, unexpected};
use crate::error::Result;
use crate::jobs::{JobDocument, JobKind, JobStore, jobs_before, jobs_page};
use crate::model::WorkspaceId;
use crate::query::{Page, PageRequest};
use crate::store::imports::{from_json, to_json};

fn prefix<D: JobDocument>() -> &'static str {
    match D::KIND {
        JobKind::Import => "I",
        JobKind::Export => "E",
        JobKind::DuplicateScan => "DSCAN",
    }
}

fn job_partition<D: JobDocument>(workspace: &str) -> String {
    format!("{}#{workspace}", prefix::<D>())
}

fn job_item<D: JobDocument>(job: &D) -> Result<Item> {
    let mut item = key(job_partition::<D>(job.workspace()), job.id().to_owned());
    item.insert("job".into(), s(to_json(job)?));
    if let Some(token) = job.lease_token() {
        item.insert("lease".into(), s(token.to_owned()));
    }
    Ok(item)
}

fn marker_key<D: JobDocument>(job: &D) -> Item {
    key(
        format!("{}U", prefix::<D>()),
        format!("{}#{}", job.workspace(), job.id()),
    )
}

/// The marker's write: kept while the job is unfinished, dropped once it ends.
fn marker_request<D: JobDocument>(job: &D) -> Result<aws_sdk_dynamodb::types::WriteRequest> {
    if job.is_finished() {
        delete_request(marker_key(job))
    } else {
        put_request(marker_key(job))
    }
}

fn document<D: JobDocument>(item: &Item) -> Result<D> {
    match item.get("job") {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(json)) => from_json(json),
        _ => Err(anyhow::anyhow!("a job item has no document").into()),
    }
}

impl DynamoStore {
    /// Sends a conditional put of `job`'s item and, when it is written,
    /// puts or drops its unfinished marker; false when the condition failed.
    async fn put_then_mark<D: JobDocument>(
        &self,
        job: &D,
        put: PutItemFluentBuilder,
    ) -> Result<bool> {
        match put
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await
        {
            Ok(out) => self.record(Units::Write, "PutItem", out.consumed_capacity()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false);
            }
            Err(error) => return Err(unexpected(error)),
        }
        self.write_batches(vec![marker_request(job)?]).await?;
        Ok(true)
    }
}

#[async_trait]
impl<D: JobDocument> JobStore<D> for DynamoStore {
    async fn put_job(&self, job: &D) -> Result<()> {
        self.write_batches(vec![marker_request(job)?, put_request(job_item(job)?)?])
            .await
    }

    async fn create_job(&self, job: &D) -> Result<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .condition_expression("attribute_not_exists(pk)");
        self.put_then_mark(job, put).await
    }

    async fn hand_over_job(&self, job: &D, from: Option<&str>) -> Result<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?));
        let put = match from {
            Some(token) => put
                .condition_expression("lease = :from")
                .expression_attribute_values(":from", s(token.to_owned())),
            None => {
                put.condition_expression("attribute_exists(pk) AND attribute_not_exists(lease)")
            }
        };
        self.put_then_mark(job, put).await
    }

    async fn job(&self, workspace: &WorkspaceId, id: &str) -> Result<Option<D>> {
        let found = self
            .get_batches(vec![key(
                job_partition::<D>(workspace.as_ref()),
                id.to_owned(),
            )])
            .await?;
        found.first().map(document).transpose()
    }

    async fn jobs(&self, workspace: &WorkspaceId, page: &PageRequest) -> Result<Page<D>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND sk < :b")
            .expression_attribute_values(":p", s(job_partition::<D>(workspace.as_ref())))
            .expression_attribute_values(":b", s(jobs_before(page)?))
            .scan_index_forward(false)
            .consistent_read(true);
        let items = self
            .query_up_to(query, page.limit + 1)
            .await?
            .iter()
            .map(document)
            .collect::<Result<Vec<D>>>()?;
        Ok(jobs_page(items, page))
    }

    async fn unfinished_jobs(&self) -> Result<Vec<D>> {
        let markers = self.partition(format!("{}U", prefix::<D>())).await?;
        let keys = markers
            .iter()
            .map(|marker| {
                let sk = match marker.get("sk") {
                    Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) => sk,
                    _ => return Err(anyhow::anyhow!("a job marker has no key").into()),
                };
                let (workspace, id) = sk
                    .split_once('#')
                    .ok_or_else(|| anyhow::anyhow!("a malformed job marker"))?;
                Ok(key(job_partition::<D>(workspace), id.to_owned()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut jobs = self
            .get_batches(keys)
            .await?
            .iter()
            .map(document)
            .collect::<Result<Vec<D>>>()?;
        jobs.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(jobs)
    }
}
