//! Reads the file in batches of checked rows on a task of its own, so that
//! parsing and checking the next batch overlaps with writing this one.

use csv_async::ByteRecord;
use tokio::sync::mpsc;

use super::csvfile;
use super::mapping::Mapping;
use super::row::{Row, read_row};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::store::objects::ObjectReader;

/// Rows read, and where the file continues after them.
pub struct Batch {
    pub rows: Vec<Row>,
    /// Byte offset and line of the first row after this batch.
    pub byte_offset: u64,
    pub line: u64,
    /// The file ended with this batch.
    pub end: bool,
    /// The row after this batch is not UTF-8: why, for the user.
    pub bad_text: Option<String>,
}

/// Where reading starts, and how.
pub struct Start {
    /// Byte offset and line of the first row to read.
    pub byte_offset: u64,
    pub line: u64,
    pub delimiter: u8,
}

/// What reading a row needs.
pub struct RowReading {
    pub mapping: Mapping,
    pub catalog: Catalog,
    pub replace_invalid: bool,
    pub batch_rows: usize,
}

/// Batches read from `input` (positioned at `start`): one waits while the
/// next is read (both cores are busy, more would only hold memory).
/// Dropping the receiver stops the reading.
pub fn batches(
    input: ObjectReader,
    start: Start,
    how: RowReading,
) -> mpsc::Receiver<Result<Batch>> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut reader = csvfile::records(input, start.delimiter);
        let mut record = ByteRecord::new();
        let mut next = (start.byte_offset, start.line);
        loop {
            let mut batch = Batch {
                rows: Vec::with_capacity(how.batch_rows),
                byte_offset: next.0,
                line: next.1,
                end: false,
                bad_text: None,
            };
            while batch.rows.len() < how.batch_rows {
                match reader.read_byte_record(&mut record).await {
                    Ok(true) => {}
                    Ok(false) => {
                        batch.end = true;
                        break;
                    }
                    Err(error) => {
                        let _ = sender.send(Err(Error::Unexpected(error.into()))).await;
                        return;
                    }
                }
                let line = start.line + record.position().map_or(1, |p| p.line()) - 1;
                if !csvfile::is_blank(&record) {
                    match csvfile::cells(&record) {
                        Ok(cells) => batch.rows.push(read_row(
                            line,
                            cells,
                            &how.mapping,
                            &how.catalog,
                            how.replace_invalid,
                        )),
                        Err(column) => {
                            batch.bad_text = Some(format!(
                                "row {line} (column {column}) is not valid UTF-8; save the file as UTF-8 and upload it again"
                            ));
                            break;
                        }
                    }
                }
                next = (
                    start.byte_offset + reader.position().byte(),
                    start.line + reader.position().line() - 1,
                );
                batch.byte_offset = next.0;
                batch.line = next.1;
            }
            let last = batch.end || batch.bad_text.is_some();
            if sender.send(Ok(batch)).await.is_err() || last {
                return;
            }
        }
    });
    receiver
}
