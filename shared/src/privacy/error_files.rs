//! An erased person's rows in the import error CSVs the product keeps
//! (`reports/<ws>/<id>.errors.csv`): each file is read and, when it holds
//! a row with an erased identifier, written again without that row.

use std::collections::HashSet;

use csv_async::{AsyncReaderBuilder, AsyncWriterBuilder, QuoteStyle, StringRecord};
use tokio::io::AsyncReadExt;

use super::suppression::{Identifier, IdentifierHash, Suppression, WorkspaceSecret};
use crate::AppState;
use crate::error::{Error, Result};
use crate::export::cells::unescape;
use crate::import::job::ImportJob;
use crate::model::{Email, ExternalId, PhoneNumber, WorkspaceId};
use crate::query::PageRequest;

/// Removes the rows holding an identifier `suppression` hashes (with
/// the workspace's `secret`) from every error CSV of the workspace; the
/// rows removed. Where imports are not served, there are none.
pub async fn forget(
    state: &AppState,
    workspace: &WorkspaceId,
    secret: &WorkspaceSecret,
    suppression: &Suppression,
) -> Result<u64> {
    let Some(ports) = &state.imports else {
        return Ok(0);
    };
    let erased: HashSet<&IdentifierHash> = suppression.fields.iter().map(|f| &f.hash).collect();
    let mut removed = 0;
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let found = ports.store.imports(workspace, &page).await?;
        for job in found.items.iter().filter(|job| job.counts.rejected > 0) {
            removed += forget_in(state, job, secret, &erased).await?;
        }
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(removed),
        }
    }
}

/// The same for one import's error CSV.
async fn forget_in(
    state: &AppState,
    job: &ImportJob,
    secret: &WorkspaceSecret,
    erased: &HashSet<&IdentifierHash>,
) -> Result<u64> {
    let objects = &state.import_ports()?.objects;
    let key = job.errors_key()?;
    let Some(mut file) = objects.get(&key).await? else {
        return Ok(0);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .await
        .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context("reading an error CSV")))?;
    let delimiter = job.checkpoint.delimiter.unwrap_or(b',');
    let mut reader = AsyncReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .create_reader(bytes.as_slice());
    let mut kept: Vec<StringRecord> = Vec::new();
    let mut removed = 0;
    let mut record = StringRecord::new();
    while reader.read_record(&mut record).await.map_err(csv_error)? {
        let header = kept.is_empty() && removed == 0;
        if !header && record.iter().any(|cell| holds_erased(cell, secret, erased)) {
            removed += 1;
        } else {
            kept.push(record.clone());
        }
    }
    if removed == 0 {
        return Ok(0);
    }
    // The cells are written back as they were read: already quoted and
    // formula-guarded.
    let mut writer = AsyncWriterBuilder::new()
        .flexible(true)
        .quote_style(QuoteStyle::Always)
        .delimiter(delimiter)
        .create_writer(Vec::new());
    for record in &kept {
        writer.write_record(record).await.map_err(csv_error)?;
    }
    let rewritten = writer
        .into_inner()
        .await
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("writing an error CSV: {e}")))?;
    objects
        .put(
            &key,
            Box::pin(std::io::Cursor::new(rewritten)),
            "text/csv; charset=utf-8",
        )
        .await?;
    Ok(removed)
}

/// Whether `cell`, read as an email, a phone or an External ID, is one of
/// the erased identifiers.
fn holds_erased(cell: &str, secret: &WorkspaceSecret, erased: &HashSet<&IdentifierHash>) -> bool {
    let value = unescape(cell);
    let value = value.trim();
    if value.is_empty() {
        return false;
    }
    let readings = [
        Email::parse(value).ok().map(Identifier::Email),
        PhoneNumber::parse_loose(value, None)
            .ok()
            .map(Identifier::Phone),
        ExternalId::parse(value).ok().map(Identifier::ExternalId),
    ];
    readings
        .into_iter()
        .flatten()
        .any(|identifier| erased.contains(&secret.hash(&identifier)))
}

fn csv_error(error: csv_async::Error) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("rewriting an error CSV"))
}
