//! The mapping step of the upload wizard: what the first bytes of a file
//! say, and what importing them would do to each column.

use std::collections::HashMap;

use axum::body::Bytes;
use csv_async::ByteRecord;
use serde::Serialize;
use utoipa::ToSchema;

use super::csvfile;
use super::mapping::propose;
use super::row::read_row;
use super::settings::Rules;
use super::source::FileKind;
use crate::catalog::Catalog;
use crate::error::{Error, Result};

/// The most bytes a preview reads.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Rows shown as samples.
const SAMPLES: usize = 10;

/// What a preview shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// `,`, `;` or `tab`.
    pub delimiter: String,
    /// `utf-8`, `utf-8 with BOM`, `windows-1252`, `utf-16le`, `utf-16be`,
    /// or `xlsx` (the first sheet of a workbook).
    pub encoding: String,
    pub headers: Vec<String>,
    /// Per column, in file order.
    pub columns: Vec<ColumnPreview>,
    /// Up to 10 rows as in the file.
    pub sample_rows: Vec<Vec<String>>,
    /// Rows read from the bytes given.
    pub rows_read: u64,
    /// Whether the mapping can be imported as it is; when not, `problem` says why.
    pub importable: bool,
    pub problem: Option<String>,
}

impl Preview {
    /// The preview of bytes whose header row can't be read.
    fn unreadable(problem: String, kind: FileKind) -> Self {
        Self {
            delimiter: ",".to_owned(),
            encoding: kind.name().to_owned(),
            headers: Vec::new(),
            columns: Vec::new(),
            sample_rows: Vec::new(),
            rows_read: 0,
            importable: false,
            problem: Some(problem),
        }
    }
}

/// One column's proposed mapping.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColumnPreview {
    pub header: String,
    /// The attribute it fills; `null` when skipped.
    pub attribute: Option<String>,
    /// Why it maps there, or why it is skipped.
    pub reason: String,
    /// Values in the rows read that are invalid for the attribute.
    pub invalid: u64,
}

/// Previews `bytes`, the start of a file (a last, cut-off row is ignored
/// when `complete` is false), on a blocking thread: parsing a megabyte is
/// CPU work that must not hold up an async worker.
pub async fn preview(
    bytes: Bytes,
    complete: bool,
    rules: Rules,
    catalog: Catalog,
) -> Result<Preview> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(read(&bytes, complete, &rules, &catalog)))
        .await
        .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context("previewing a file")))?
}

async fn read(bytes: &[u8], complete: bool, rules: &Rules, catalog: &Catalog) -> Result<Preview> {
    let kind = FileKind::sniff(bytes, complete);
    let converted = match kind.preview_csv(bytes, complete) {
        Ok(converted) => converted,
        Err(problem) => return Ok(Preview::unreadable(problem, kind)),
    };
    let mut bytes = if kind.needs_conversion() {
        converted.as_slice()
    } else {
        bytes
    };
    if !complete {
        // Drop the last line: it may be cut off.
        if let Some(end) = bytes.iter().rposition(|&b| b == b'\n') {
            bytes = &bytes[..=end];
        }
    }
    let not_csv = |what: String| Error::invalid("body", what);
    let header = match csvfile::header(bytes).await {
        Ok(header) => header,
        // Nothing to map: the wizard shows why.
        Err(problem) => return Ok(Preview::unreadable(problem, kind)),
    };
    let rest = usize::try_from(header.end).unwrap_or(0).min(bytes.len());
    let mut reader = csvfile::records(&bytes[rest..], header.sniffed.delimiter);
    let mut record = ByteRecord::new();
    let (sniffed, headers) = (header.sniffed, header.names);
    let (mapping, problems) = propose(&headers, rules, catalog);
    let mut columns: Vec<ColumnPreview> = mapping
        .columns
        .iter()
        .map(|c| ColumnPreview {
            header: c.header.clone(),
            attribute: c.target.as_ref().map(|t| t.name().to_owned()),
            reason: c.reason.clone(),
            invalid: 0,
        })
        .collect();
    let column_of: HashMap<&str, usize> = mapping
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.header.as_str(), i))
        .collect();
    let mut sample_rows = Vec::new();
    let mut rows_read = 0;
    while reader
        .read_byte_record(&mut record)
        .await
        .map_err(|e| not_csv(e.to_string()))?
    {
        if csvfile::is_blank(&record) {
            continue;
        }
        let Ok(cells) = csvfile::cells(&record) else {
            break;
        };
        rows_read += 1;
        let row = read_row(0, cells.clone(), &mapping, catalog, false);
        for error in row
            .errors
            .iter()
            .chain(row.bare_phone.as_ref().map(|b| &b.error))
        {
            if let Some(&i) = column_of.get(error.header.as_str()) {
                columns[i].invalid += 1;
            }
        }
        if sample_rows.len() < SAMPLES {
            sample_rows.push(cells.iter().map(str::to_owned).collect());
        }
    }
    Ok(Preview {
        delimiter: sniffed.delimiter_name().to_owned(),
        encoding: if sniffed.bom {
            "utf-8 with BOM"
        } else {
            kind.name()
        }
        .to_owned(),
        headers,
        columns,
        sample_rows,
        rows_read,
        importable: problems.is_empty(),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}
