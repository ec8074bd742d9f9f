//! [`JobStore`] over SQLite: one table per kind of job, a JSON document per
//! row, found by workspace and ID.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::EmbeddedStore;
use crate::error::Result;
use crate::jobs::{JobDocument, JobKind, JobStore, jobs_before, jobs_page};
use crate::model::WorkspaceId;
use crate::query::{Page, PageRequest};
use crate::store::imports::{from_json, to_json};

fn table<D: JobDocument>() -> &'static str {
    match D::KIND {
        JobKind::Import => "imports",
        JobKind::Export => "exports",
        JobKind::DuplicateScan => "duplicate_scans",
    }
}

/// Stores `job` inside `tx`.
pub(super) fn save<D: JobDocument>(tx: &Transaction<'_>, job: &D) -> Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO {} (workspace, id, finished, job) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (workspace, id) DO UPDATE SET finished = excluded.finished, job = excluded.job",
        table::<D>()
    ))?
    .execute(params![
        job.workspace(),
        job.id(),
        job.is_finished(),
        to_json(job)?
    ])?;
    Ok(())
}

fn stored<D: JobDocument>(conn: &Connection, workspace: &str, id: &str) -> Result<Option<D>> {
    conn.prepare_cached(&format!(
        "SELECT job FROM {} WHERE workspace = ?1 AND id = ?2",
        table::<D>()
    ))?
    .query_row(params![workspace, id], |row| row.get::<_, String>(0))
    .optional()?
    .map(|json| from_json(&json))
    .transpose()
}

fn documents<D: JobDocument>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<D>> {
    let mut stmt = conn.prepare_cached(&sql.replace("{table}", table::<D>()))?;
    let mut rows = stmt.query(params)?;
    let mut jobs = Vec::new();
    while let Some(row) = rows.next()? {
        jobs.push(from_json(&row.get::<_, String>(0)?)?);
    }
    Ok(jobs)
}

#[async_trait]
impl<D: JobDocument> JobStore<D> for EmbeddedStore {
    async fn put_job(&self, job: &D) -> Result<()> {
        let job = job.clone();
        self.write(move |tx| save(tx, &job)).await
    }

    async fn create_job(&self, job: &D) -> Result<bool> {
        let job = job.clone();
        self.write(move |tx| {
            if stored::<D>(tx, job.workspace(), job.id())?.is_some() {
                return Ok(false);
            }
            save(tx, &job)?;
            Ok(true)
        })
        .await
    }

    async fn hand_over_job(&self, job: &D, from: Option<&str>) -> Result<bool> {
        let (job, from) = (job.clone(), from.map(str::to_owned));
        self.write(move |tx| {
            let Some(held) = stored::<D>(tx, job.workspace(), job.id())? else {
                return Ok(false);
            };
            if held.lease_token() != from.as_deref() {
                return Ok(false);
            }
            save(tx, &job)?;
            Ok(true)
        })
        .await
    }

    async fn job(&self, workspace: &WorkspaceId, id: &str) -> Result<Option<D>> {
        let (workspace, id) = (workspace.clone(), id.to_owned());
        self.read(move |conn| stored(conn, workspace.as_ref(), &id))
            .await
    }

    async fn jobs(&self, workspace: &WorkspaceId, page: &PageRequest) -> Result<Page<D>> {
        let (workspace, page) = (workspace.clone(), page.clone());
        let before = jobs_before(&page)?;
        self.read(move |conn| {
            let items = documents(
                conn,
                "SELECT job FROM {table} WHERE workspace = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                params![
                    workspace.as_ref(),
                    before,
                    i64::try_from(page.limit + 1).unwrap_or(i64::MAX)
                ],
            )?;
            Ok(jobs_page(items, &page))
        })
        .await
    }

    async fn unfinished_jobs(&self) -> Result<Vec<D>> {
        self.read(|conn| {
            documents(
                conn,
                "SELECT job FROM {table} WHERE finished = 0 ORDER BY id",
                [],
            )
        })
        .await
    }
}
