//! The error CSV: the rejected rows exactly as uploaded, with `error_row`
//! and `error` columns, streamed from the store into the object store.
//! Every field is quoted and written with the export's formula safety
//! (`export::cells::safe`), which import reads back exactly.

use csv_async::{AsyncWriterBuilder, QuoteStyle, StringRecord};

use super::job::ImportJob;
use crate::ImportPorts;
use crate::error::{Error, Result};
use crate::export::cells::safe;
use crate::model::WorkspaceId;

/// Writes the import's error CSV to `job.errors_key()`, reading the rejected
/// rows `page` at a time.
pub async fn write(
    ports: &ImportPorts,
    workspace: &WorkspaceId,
    job: &ImportJob,
    page: usize,
) -> Result<()> {
    let key = job.errors_key()?;
    let (sink, source) = tokio::io::duplex(64 * 1024);
    let produce = async move {
        let mut writer = AsyncWriterBuilder::new()
            .flexible(true)
            .quote_style(QuoteStyle::Always)
            .delimiter(job.checkpoint.delimiter.unwrap_or(b','))
            .create_writer(sink);
        let mut header: Vec<&str> = job.checkpoint.headers.iter().map(|h| h.as_str()).collect();
        header.extend(["error_row", "error"]);
        write_safe(&mut writer, header).await?;
        let mut after = 0;
        loop {
            let rows = ports
                .store
                .rejected(workspace, &job.id, after, page)
                .await?;
            for row in &rows {
                let line = row.line.to_string();
                let mut record: Vec<&str> = row.cells.iter().map(|c| c.as_str()).collect();
                record.extend([line.as_str(), row.error.as_str()]);
                write_safe(&mut writer, record).await?;
            }
            match rows.last() {
                Some(last) if rows.len() == page => after = last.line,
                _ => break,
            }
        }
        writer.flush().await.map_err(|e| unexpected(e.into()))?;
        drop(writer);
        Ok::<(), Error>(())
    };
    let store = ports
        .objects
        .put(&key, Box::pin(source), "text/csv; charset=utf-8");
    let (produced, stored) = tokio::join!(produce, store);
    produced.and(stored)
}

/// Writes one record, every cell made safe for spreadsheets.
async fn write_safe<W: tokio::io::AsyncWrite + Unpin>(
    writer: &mut csv_async::AsyncWriter<W>,
    record: Vec<&str>,
) -> Result<()> {
    let cells: StringRecord = record.into_iter().map(safe).collect();
    writer.write_record(&cells).await.map_err(unexpected)
}

fn unexpected(error: csv_async::Error) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("writing the error CSV"))
}
