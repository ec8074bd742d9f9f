//! The error CSV: the rejected rows exactly as uploaded, with `error_row`
//! and `error` columns, streamed from the store into the object store.
//! Every field is quoted and written with the export's formula safety
//! (`export::cells::safe`), which import reads back exactly.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use csv_async::{AsyncWriterBuilder, QuoteStyle, StringRecord};
use tokio::io::{AsyncRead, ReadBuf};

use super::job::ImportJob;
use crate::ImportPorts;
use crate::error::{Error, Result};
use crate::export::cells::safe;
use crate::model::WorkspaceId;

/// Writes the import's error CSV to `job.errors_key()`, reading the rejected
/// rows `page` at a time. All or nothing: when reading the rows fails part
/// way, the object store is handed an error instead of the end of the
/// file, so no cut-short file replaces what was there.
pub async fn write(
    ports: &ImportPorts,
    workspace: &WorkspaceId,
    job: &ImportJob,
    page: usize,
) -> Result<()> {
    let key = job.errors_key()?;
    let (sink, source) = tokio::io::duplex(64 * 1024);
    let complete = Arc::new(AtomicBool::new(false));
    let source = EndConfirmed {
        inner: source,
        complete: Arc::clone(&complete),
    };
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
        complete.store(true, Ordering::SeqCst);
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

/// A reader whose end is the end of the file only once the writer said it
/// wrote everything; an end before that is an error.
struct EndConfirmed<R> {
    inner: R,
    complete: Arc<AtomicBool>,
}

impl<R: AsyncRead + Unpin> AsyncRead for EndConfirmed<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read
            && buf.filled().len() == before
            && !self.complete.load(Ordering::SeqCst)
        {
            return Poll::Ready(Err(std::io::Error::other(
                "the error CSV stopped before its last row",
            )));
        }
        read
    }
}

fn unexpected(error: csv_async::Error) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("writing the error CSV"))
}
