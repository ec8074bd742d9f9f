//! Runs an export from its checkpoint: scans the matching contacts in
//! batches, writes their rows into a buffer, sends the buffer as a part of
//! the file whenever it reaches [`PART_BYTES`] (saving the checkpoint
//! then), and finishes the file after the last batch. A run that must stop
//! early keeps its unsent rows in a pending object, so the next run
//! continues exactly where this one stopped; a run that dies continues from
//! the last saved checkpoint.

use std::sync::Arc;

use csv_async::{AsyncWriter, AsyncWriterBuilder, QuoteStyle, Terminator};
use tokio::io::AsyncReadExt;

use super::cells;
use super::job::{ExportFormat, ExportId, ExportJob, ExportStatus};
use super::request::{self, Stored};
use super::workbook;
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::jobs::{Budget, JobStore};
use crate::model::Contact;
use crate::model::{WorkspaceId, now};
use crate::query::{ContactQuery, Cursor, Page};
use crate::store::objects::{ObjectKey, ObjectStore};
use tokio_util::task::AbortOnDropHandle;

/// The size at which the buffer is sent as a part (S3 needs 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Contacts read from the store at a time, unless configured otherwise.
pub const DEFAULT_BATCH: usize = 2_000;

/// Runs exports over the state's stores.
#[derive(Clone)]
pub struct ExportRunner {
    state: AppState,
    store: Arc<dyn JobStore<ExportJob>>,
    objects: Arc<dyn ObjectStore>,
    batch: usize,
    part_bytes: usize,
}

impl ExportRunner {
    /// A runner reading contacts through `state`, keeping exports in
    /// `store` and their files in `objects`.
    pub fn new(
        state: AppState,
        store: Arc<dyn JobStore<ExportJob>>,
        objects: Arc<dyn ObjectStore>,
    ) -> Self {
        Self {
            state,
            store,
            objects,
            batch: DEFAULT_BATCH,
            part_bytes: PART_BYTES,
        }
    }

    /// The same runner sending parts of `bytes` (S3 needs at least 5 MiB
    /// for every part but the last; smaller parts suit stand-ins in tests).
    pub fn with_part_bytes(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes.max(1);
        self
    }

    /// The same runner reading `batch` contacts at a time.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Where it keeps exports.
    pub fn store(&self) -> &Arc<dyn JobStore<ExportJob>> {
        &self.store
    }

    /// Runs the export until it ends or `budget` runs out (counted in
    /// batches read); returns its state.
    pub async fn run(
        &self,
        workspace: &WorkspaceId,
        id: &ExportId,
        budget: Budget,
    ) -> Result<ExportJob> {
        let store = &self.store;
        let mut job: ExportJob = store
            .job(workspace, id.as_ref())
            .await?
            .ok_or_else(|| Error::ExportNotFound(id.to_string()))?;
        if job.status.is_finished() {
            return Ok(job);
        }
        job.status = ExportStatus::Running;
        job.started_at.get_or_insert_with(now);
        store.put_job(&job).await?;
        let catalog = Catalog::load(&self.state, workspace).await?;
        let query = match request::query(&job.filter, &catalog) {
            Ok(query) => query,
            Err(error) => {
                let reason = format!(
                    "the filter no longer fits the workspace ({}); start a new export",
                    error.in_words()
                );
                return self.fail(job, reason).await;
            }
        };
        let columns = request::stored_columns(&job.columns, &catalog);
        let mut run = Run {
            runner: self,
            workspace,
            catalog: &catalog,
            columns: &columns,
            key: job.csv_key()?,
            buffer: Vec::new(),
            rows: 0,
        };
        if job.checkpoint.sent {
            run.complete(&mut job).await?;
        } else {
            run.resume(&mut job).await?;
            run.go(&mut job, &query, &budget).await?;
        }
        Ok(job)
    }

    async fn fail(&self, mut job: ExportJob, reason: String) -> Result<ExportJob> {
        let key = job.csv_key()?;
        if let Some(upload) = job.checkpoint.upload.take() {
            self.objects.abort_parts(&key, &upload).await?;
        }
        if let Some(pending) = job.checkpoint.pending.take() {
            self.objects.delete(&ObjectKey::parse(&pending)?).await?;
        }
        job.fail(reason);
        self.store.put_job(&job).await?;
        Ok(job)
    }
}

/// A new object for the rows a stopped run has not sent as a part.
fn pending_key(job: &ExportJob) -> Result<ObjectKey> {
    Ok(ObjectKey::parse(&format!(
        "exports/{}/{}.{}.pending",
        job.workspace,
        job.id,
        ulid::Ulid::new()
    ))?)
}

/// One run's state: the buffer of rows not yet sent.
struct Run<'a> {
    runner: &'a ExportRunner,
    workspace: &'a WorkspaceId,
    catalog: &'a Catalog,
    columns: &'a [Stored],
    key: ObjectKey,
    buffer: Vec<u8>,
    /// Rows in the buffer that the job does not count yet.
    rows: u64,
}

impl Run<'_> {
    fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.runner.objects
    }

    /// Starts the buffer: the BOM and the header for a new file, or the
    /// rows a stopped run left pending.
    async fn resume(&mut self, job: &mut ExportJob) -> Result<()> {
        if let Some(pending) = &job.checkpoint.pending {
            let pending = ObjectKey::parse(pending)?;
            let reader = self.objects().get(&pending).await?.ok_or_else(|| {
                Error::Unexpected(anyhow::anyhow!(
                    "the pending rows of export {} are gone",
                    job.id
                ))
            })?;
            // Less than a part and a batch: a run sends a full buffer first.
            let mut reader = reader;
            reader
                .read_to_end(&mut self.buffer)
                .await
                .map_err(|e| Error::Unexpected(e.into()))?;
            // The job counts these bytes already; they are counted again
            // when the buffer is settled.
            job.bytes -= (self.buffer.len() as u64).min(job.bytes);
        } else if job.checkpoint.upload.is_none() {
            self.buffer.extend_from_slice(cells::BOM);
            let mut writer = self.writer();
            writer
                .write_record(cells::headers(self.columns))
                .await
                .map_err(csv_error)?;
            self.keep(writer).await?;
        }
        Ok(())
    }

    /// A CSV writer (RFC 4180 quoting, CRLF) appending to the buffer.
    fn writer(&mut self) -> AsyncWriter<Vec<u8>> {
        AsyncWriterBuilder::new()
            .terminator(Terminator::CRLF)
            .quote_style(QuoteStyle::Always)
            .create_writer(std::mem::take(&mut self.buffer))
    }

    /// Takes the buffer back from `writer`.
    async fn keep(&mut self, writer: AsyncWriter<Vec<u8>>) -> Result<()> {
        self.buffer = writer
            .into_inner()
            .await
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("writing the export: {e}")))?;
        Ok(())
    }

    /// Reads batch after batch (the next one read while this one is
    /// written), sending parts, until the end or the budget.
    async fn go(
        &mut self,
        job: &mut ExportJob,
        query: &ContactQuery,
        budget: &Budget,
    ) -> Result<()> {
        let mut batches = 0;
        let mut next = self.read_ahead(query, job.checkpoint.cursor.clone().map(Cursor));
        loop {
            let page = (&mut next)
                .await
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("reading contacts: {e}")))??;
            if let Some(cursor) = &page.next_cursor {
                next = self.read_ahead(query, Some(cursor.clone()));
            }
            let mut writer = self.writer();
            for contact in &page.items {
                for cell in cells::row(contact, self.columns, self.catalog) {
                    writer
                        .write_field(cell.as_bytes())
                        .await
                        .map_err(csv_error)?;
                }
                writer
                    .write_record(std::iter::empty::<&[u8]>())
                    .await
                    .map_err(csv_error)?;
            }
            self.keep(writer).await?;
            self.rows += page.items.len() as u64;
            job.checkpoint.cursor = page.next_cursor.map(|c| c.0);
            if job.checkpoint.cursor.is_none() {
                return self.finish(job).await;
            }
            if self.buffer.len() >= self.runner.part_bytes {
                self.send_part(job).await?;
            }
            batches += 1;
            if budget.spent(batches) {
                return self.pause(job).await;
            }
        }
    }

    /// The batch after `cursor`, read on a task of its own (dropped, it
    /// stops).
    fn read_ahead(
        &self,
        query: &ContactQuery,
        cursor: Option<Cursor>,
    ) -> AbortOnDropHandle<Result<Page<Contact>>> {
        let contacts = Arc::clone(&self.runner.state.contacts);
        let (workspace, query, batch) = (self.workspace.clone(), query.clone(), self.runner.batch);
        AbortOnDropHandle::new(tokio::spawn(async move {
            contacts
                .scan(&workspace, &query, cursor.as_ref(), batch)
                .await
        }))
    }

    /// Counts the buffer's rows and bytes in the job, emptying the buffer.
    fn settle(&mut self, job: &mut ExportJob) -> Vec<u8> {
        job.rows += std::mem::take(&mut self.rows);
        job.bytes += self.buffer.len() as u64;
        std::mem::take(&mut self.buffer)
    }

    /// Sends the buffer as the next part and saves the checkpoint after it.
    async fn send_part(&mut self, job: &mut ExportJob) -> Result<()> {
        let mut upload = match job.checkpoint.upload.take() {
            Some(upload) => upload,
            None => self.objects().start_parts(&self.key, CSV).await?,
        };
        let sent_before = job.checkpoint.pending.take();
        let part = self.settle(job);
        let sent = self.objects().put_part(&self.key, &mut upload, part).await;
        job.checkpoint.upload = Some(upload);
        sent?;
        self.runner.store.put_job(job).await?;
        self.drop_pending(sent_before).await
    }

    /// Keeps the unsent rows in the pending object and saves the checkpoint.
    async fn pause(&mut self, job: &mut ExportJob) -> Result<()> {
        let rows = self.settle(job);
        let key = pending_key(job)?;
        self.objects()
            .put(&key, Box::pin(std::io::Cursor::new(rows)), CSV)
            .await?;
        let earlier = job.checkpoint.pending.replace(key.as_ref().to_owned());
        self.runner.store.put_job(job).await?;
        self.drop_pending(earlier).await
    }

    /// Deletes a pending object the saved checkpoint no longer names.
    async fn drop_pending(&self, pending: Option<String>) -> Result<()> {
        match pending {
            Some(key) => self.objects().delete(&ObjectKey::parse(&key)?).await,
            None => Ok(()),
        }
    }

    /// Sends the last rows, makes the file whole and marks the export done.
    async fn finish(&mut self, job: &mut ExportJob) -> Result<()> {
        let last = self.settle(job);
        match job.checkpoint.upload.as_mut() {
            None => {
                self.objects()
                    .put(&self.key, Box::pin(std::io::Cursor::new(last)), CSV)
                    .await?;
            }
            Some(upload) => {
                self.objects().put_part(&self.key, upload, last).await?;
                job.checkpoint.sent = true;
                self.runner.store.put_job(job).await?;
            }
        }
        self.complete(job).await
    }

    /// Completes the upload of a file whose rows have all been sent, and
    /// marks the export done. An upload that can't be completed because a
    /// run that died after completing it did so already is recognised by
    /// its file: there, of the size the job counted.
    async fn complete(&self, job: &mut ExportJob) -> Result<()> {
        if let Some(upload) = &job.checkpoint.upload
            && let Err(error) = self.objects().finish_parts(&self.key, upload).await
        {
            let whole = self.objects().head(&self.key).await?;
            if whole.is_none_or(|file| file.bytes != job.bytes) {
                return Err(error);
            }
        }
        job.checkpoint.upload = None;
        if job.format == ExportFormat::Xlsx && job.rows > workbook::MAX_ROWS {
            job.fail(format!(
                "a workbook holds at most {} rows and this export has {}: download it as CSV, or narrow the filter",
                workbook::MAX_ROWS,
                job.rows
            ));
            job.lease = None;
            return self.runner.store.put_job(job).await;
        }
        if job.format == ExportFormat::Xlsx {
            self.make_workbook(job).await?;
        }
        let sent_before = job.checkpoint.pending.take();
        job.status = ExportStatus::Completed;
        job.finished_at = Some(now());
        job.lease = None;
        self.runner.store.put_job(job).await?;
        self.drop_pending(sent_before).await
    }
}

impl Run<'_> {
    /// Makes the workbook of an export whose CSV is complete (again, if a
    /// run stopped after making it: the same file).
    async fn make_workbook(&self, job: &mut ExportJob) -> Result<()> {
        let csv = self
            .objects()
            .get(&self.key)
            .await?
            .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("the export's CSV is gone")))?;
        let runtime = tokio::runtime::Handle::current();
        let xlsx = tokio::task::spawn_blocking(move || runtime.block_on(workbook::from_csv(csv)))
            .await
            .map_err(|e| Error::Unexpected(e.into()))??;
        job.bytes = xlsx.len() as u64;
        self.objects()
            .put(&job.file_key()?, Box::pin(std::io::Cursor::new(xlsx)), XLSX)
            .await
    }
}

/// The content type of workbooks.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The content type of export files.
const CSV: &str = "text/csv; charset=utf-8";

fn csv_error(error: csv_async::Error) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("writing the export"))
}
