//! [`ContactStore`] over SQLite.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{
    CachedStatement, ErrorCode, OptionalExtension, Transaction, params, params_from_iter,
};

use super::duplicates::note_duplicates;
use super::rows::{self, CONSENT_COLUMNS, CONTACT_COLUMNS, CONTACT_FIELDS};
use super::{EmbeddedStore, listing};
use crate::error::{Error, Result};
use crate::model::{
    AttributeId, ConsentChange, Contact, ExternalId, Merge, MessagingId, WorkspaceId,
};
use crate::query::{ContactQuery, Page, PageRequest};
use crate::store::{ContactStore, NewRecord};

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO contacts (workspace, created_at, {}) VALUES (?1, ?2, {})",
        CONTACT_FIELDS.join(", "),
        (3..3 + CONTACT_FIELDS.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE contacts SET {} WHERE workspace = ?1 AND messaging_id = ?2",
        CONTACT_FIELDS
            .iter()
            .enumerate()
            .map(|(i, field)| format!("{field} = ?{}", i + 3))
            .collect::<Vec<_>>()
            .join(", ")
    )
});

#[async_trait]
impl ContactStore for EmbeddedStore {
    async fn insert(
        &self,
        workspace: &WorkspaceId,
        record: &NewRecord,
        limit: Option<u64>,
    ) -> Result<()> {
        let (workspace, record) = (workspace.clone(), record.clone());
        self.write(move |tx| {
            insert_record(tx, &mut contact_insert(tx)?, &workspace, &record, limit)?;
            // Imports refuse a new contact with another's email or phone,
            // so their commits note none; the port's inserts do.
            note_duplicates(tx, workspace.as_ref(), &record.0, [None, None])?;
            count_new_contacts(tx, workspace.as_ref(), 1)
        })
        .await
    }

    async fn insert_batch(
        &self,
        workspace: &WorkspaceId,
        records: &[NewRecord],
        limit: Option<u64>,
    ) -> Result<Vec<Result<()>>> {
        let (workspace, records) = (workspace.clone(), records.to_vec());
        self.write_bulk(move |tx| {
            let ws = workspace.as_ref();
            let mut held = usage(tx, ws)?;
            let mut insert = contact_insert(tx)?;
            let mut outcomes = Vec::with_capacity(records.len());
            for record in &records {
                let outcome = match limit {
                    Some(limit) if held >= limit => Err(Error::UsageLimitReached { limit }),
                    _ => insert_record(tx, &mut insert, &workspace, record, None)
                        .and_then(|()| note_duplicates(tx, ws, &record.0, [None, None])),
                };
                match outcome {
                    Err(Error::Unexpected(e)) => return Err(Error::Unexpected(e)),
                    Ok(()) => held += 1,
                    Err(_) => {}
                }
                outcomes.push(outcome);
            }
            let inserted = outcomes.iter().filter(|o| o.is_ok()).count();
            count_new_contacts(tx, ws, inserted)?;
            Ok(outcomes)
        })
        .await
    }

    async fn get(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<Option<Contact>> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |conn| one_contact(conn, "c.messaging_id", workspace.as_ref(), id.as_ref()))
            .await
    }

    async fn get_many(&self, workspace: &WorkspaceId, ids: &[MessagingId]) -> Result<Vec<Contact>> {
        let (workspace, ids) = (workspace.clone(), ids.to_vec());
        self.read(move |conn| {
            let mut found = Vec::with_capacity(ids.len());
            for id in &ids {
                found.extend(one_contact(
                    conn,
                    "c.messaging_id",
                    workspace.as_ref(),
                    id.as_ref(),
                )?);
            }
            Ok(found)
        })
        .await
    }

    async fn get_by_external_id(
        &self,
        workspace: &WorkspaceId,
        id: &ExternalId,
    ) -> Result<Option<Contact>> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |conn| one_contact(conn, rows::EXTERNAL_ID, workspace.as_ref(), id.as_ref()))
            .await
    }

    async fn update(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        expected_version: u64,
        consent: &[ConsentChange],
    ) -> Result<()> {
        let (workspace, contact, consent) = (workspace.clone(), contact.clone(), consent.to_vec());
        self.write(move |tx| update_record(tx, &workspace, &contact, expected_version, &consent))
            .await
    }

    async fn merge(&self, workspace: &WorkspaceId, merge: &Merge) -> Result<()> {
        let (workspace, merge) = (workspace.clone(), merge.clone());
        self.write(move |tx| merge_records(tx, &workspace, &merge))
            .await
    }

    async fn merged_into(
        &self,
        workspace: &WorkspaceId,
        ids: &[MessagingId],
    ) -> Result<Vec<(MessagingId, MessagingId)>> {
        let (workspace, ids) = (workspace.clone(), ids.to_vec());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT survivor FROM merged WHERE workspace = ?1 AND messaging_id = ?2",
            )?;
            let mut found = Vec::new();
            for id in ids {
                let survivor: Option<String> = stmt
                    .query_row(params![workspace.as_ref(), id.as_ref()], |row| row.get(0))
                    .optional()?;
                if let Some(survivor) = survivor {
                    found.push((id, MessagingId::from_stored(survivor)));
                }
            }
            Ok(found)
        })
        .await
    }

    async fn delete(&self, workspace: &WorkspaceId, id: &MessagingId) -> Result<bool> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM contacts WHERE workspace = ?1 AND messaging_id = ?2")?
                .execute(params![workspace.as_ref(), id.as_ref()])?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list(
        &self,
        workspace: &WorkspaceId,
        query: &ContactQuery,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        let (workspace, query, page) = (workspace.clone(), query.clone(), page.clone());
        let window = self.scan_window;
        self.read(move |conn| listing::list(conn, &workspace, &query, &page, window))
            .await
    }

    async fn count(&self, workspace: &WorkspaceId) -> Result<u64> {
        let workspace = workspace.clone();
        self.read(move |conn| usage(conn, workspace.as_ref())).await
    }

    async fn holds_attribute(&self, workspace: &WorkspaceId, id: &AttributeId) -> Result<bool> {
        let (workspace, path) = (workspace.clone(), format!("$.{id}"));
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM contacts \
                     WHERE workspace = ?1 AND json_extract(attributes, ?2) IS NOT NULL)",
                )?
                .query_row(params![workspace.as_ref(), path], |row| row.get(0))?)
        })
        .await
    }

    async fn consent_history(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
        page: &PageRequest,
    ) -> Result<Page<ConsentChange>> {
        let (workspace, id, page) = (workspace.clone(), id.clone(), page.clone());
        self.read(move |conn| {
            let before = listing::decode_cursor(page.cursor.as_ref())?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {CONSENT_COLUMNS} FROM consent_history \
                 WHERE workspace = ?1 AND messaging_id = ?2 AND id < ?3 \
                 ORDER BY id DESC LIMIT ?4"
            ))?;
            let mut found = stmt.query(params![
                workspace.as_ref(),
                id.as_ref(),
                before,
                listing::fetch_size(&page)
            ])?;
            let mut items = Vec::new();
            while let Some(row) = found.next()? {
                items.push(rows::consent_change(row)?);
            }
            Ok(listing::into_page(items, &page, None))
        })
        .await
    }
}

/// Adds `inserted` contacts to the workspace's usage count.
pub(super) fn count_new_contacts(
    tx: &Transaction<'_>,
    workspace: &str,
    inserted: usize,
) -> Result<()> {
    if inserted > 0 {
        tx.prepare_cached(
            "INSERT INTO usage (workspace, contacts) VALUES (?1, ?2) \
             ON CONFLICT (workspace) DO UPDATE SET contacts = contacts + excluded.contacts",
        )?
        .execute(params![
            workspace,
            i64::try_from(inserted).unwrap_or(i64::MAX)
        ])?;
    }
    Ok(())
}

/// Replaces a contact stored at `expected_version`, with its memberships and
/// new consent history.
pub(super) fn update_record(
    tx: &Transaction<'_>,
    workspace: &WorkspaceId,
    contact: &Contact,
    expected_version: u64,
    consent: &[ConsentChange],
) -> Result<()> {
    let ws = workspace.as_ref();
    let stored: Option<(i64, i64, [Option<String>; 2])> = tx
        .prepare_cached(
            "SELECT id, version, fold_case(email), phone FROM contacts \
             WHERE workspace = ?1 AND messaging_id = ?2",
        )?
        .query_row(params![ws, contact.messaging_id.as_ref()], |row| {
            Ok((row.get(0)?, row.get(1)?, [row.get(2)?, row.get(3)?]))
        })
        .optional()?;
    let (row, held) = match stored {
        None => return Err(Error::ContactNotFound(contact.messaging_id.to_string())),
        Some((_, version, _)) if rows::unsigned(version)? != expected_version => {
            return Err(Error::PreconditionFailed {
                expected: expected_version,
            });
        }
        Some((row, _, held)) => (row, held),
    };
    if let Some(error) = taken_by_another(tx, ws, contact)? {
        return Err(error);
    }
    let values = rows::contact_values(contact)?;
    let params = [rows::text(Some(ws)), values[0].clone()]
        .into_iter()
        .chain(values);
    tx.prepare_cached(&UPDATE)?
        .execute(params_from_iter(params))?;
    note_duplicates(tx, ws, contact, held)?;
    // The memberships become those of `contact.lists`.
    tx.prepare_cached("DELETE FROM list_members WHERE contact = ?1")?
        .execute(params![row])?;
    add_lists(tx, row, contact)?;
    append_history(tx, ws, history_of(contact, consent))
}

/// Writes a merge: each merged contact, at its version read, gives its
/// history to the survivor, leaves its Messaging ID naming the survivor and
/// is deleted (its memberships, usage and External ID go with it by the
/// schema's triggers and indexes); then the survivor is updated.
fn merge_records(tx: &Transaction<'_>, workspace: &WorkspaceId, merge: &Merge) -> Result<()> {
    let ws = workspace.as_ref();
    let survivor = merge.survivor.messaging_id.as_ref();
    for contact in &merge.merged {
        let id = contact.messaging_id.as_ref();
        let stored: Option<i64> = tx
            .prepare_cached(
                "SELECT version FROM contacts WHERE workspace = ?1 AND messaging_id = ?2",
            )?
            .query_row(params![ws, id], |row| row.get(0))
            .optional()?;
        match stored {
            None => return Err(Error::ContactNotFound(id.to_owned())),
            Some(version) if rows::unsigned(version)? != contact.version => {
                return Err(Error::PreconditionFailed {
                    expected: contact.version,
                });
            }
            Some(_) => {}
        }
        tx.prepare_cached(
            "UPDATE consent_history SET messaging_id = ?3 WHERE workspace = ?1 AND messaging_id = ?2",
        )?
        .execute(params![ws, id, survivor])?;
        tx.prepare_cached(
            "INSERT INTO merged (workspace, messaging_id, survivor, at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            ws,
            id,
            survivor,
            rows::micros(merge.survivor.updated_at)
        ])?;
        tx.prepare_cached("DELETE FROM contacts WHERE workspace = ?1 AND messaging_id = ?2")?
            .execute(params![ws, id])?;
    }
    update_record(
        tx,
        workspace,
        &merge.survivor,
        merge.survivor_version,
        &merge.history,
    )
}

/// The statement [`insert_contact`] runs, prepared once for all the
/// contacts a write inserts (looking it up in the statement cache for
/// each one cost the writer a few per cent of an import).
pub(super) fn contact_insert<'c>(tx: &'c Transaction<'_>) -> Result<CachedStatement<'c>> {
    Ok(tx.prepare_cached(&INSERT)?)
}

/// Stores a new contact with its memberships and consent history.
pub(super) fn insert_record(
    tx: &Transaction<'_>,
    insert: &mut CachedStatement<'_>,
    workspace: &WorkspaceId,
    (contact, consent): &NewRecord,
    limit: Option<u64>,
) -> Result<()> {
    insert_contact(tx, insert, workspace, contact, limit)?;
    append_history(tx, workspace.as_ref(), history_of(contact, consent))
}

/// Inserts `contact` and its memberships, not its consent history, with
/// `insert` ([`contact_insert`]).
pub(super) fn insert_contact(
    tx: &Transaction<'_>,
    insert: &mut CachedStatement<'_>,
    workspace: &WorkspaceId,
    contact: &Contact,
    limit: Option<u64>,
) -> Result<()> {
    let ws = workspace.as_ref();
    if let Some(limit) = limit {
        // A taken External ID is the first thing a single insert reports.
        if let Some(error) = taken_by_another(tx, ws, contact)? {
            return Err(error);
        }
        if usage(tx, ws)? >= limit {
            return Err(Error::UsageLimitReached { limit });
        }
    }
    let params = [
        rows::text(Some(ws)),
        ToSqlOutput::Owned(Value::Integer(contact.created_at.timestamp_micros())),
    ]
    .into_iter()
    .chain(rows::contact_values(contact)?);
    let inserted = insert.execute(params_from_iter(params));
    // The unique index tells a taken External ID without a lookup first.
    if let Err(error) = inserted {
        if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
            && let Some(error) = taken_by_another(tx, ws, contact)?
        {
            return Err(error);
        }
        return Err(error.into());
    }
    // A new row ID was never used (AUTOINCREMENT): it has no memberships yet.
    add_lists(tx, tx.last_insert_rowid(), contact)
}

/// Adds the memberships of `contact.lists` to row `row`.
fn add_lists(tx: &Transaction<'_>, row: i64, contact: &Contact) -> Result<()> {
    if contact.lists.is_empty() {
        return Ok(());
    }
    let mut insert =
        tx.prepare_cached("INSERT INTO list_members (list_id, contact) VALUES (?1, ?2)")?;
    for list in &contact.lists {
        insert.execute(params![list.as_ref(), row])?;
    }
    Ok(())
}

/// Consent history rows one statement appends at most: an import's batch
/// appends thousands, and a statement per row costs more than its row.
const HISTORY_ROWS: usize = 64;

/// The statement that appends `rows` consent history rows.
fn history_insert(rows: usize) -> String {
    format!(
        "INSERT INTO consent_history \
         (workspace, messaging_id, at, channel, old, new, source, note) VALUES {}",
        vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ")
    )
}

static HISTORY_INSERT_MANY: LazyLock<String> = LazyLock::new(|| history_insert(HISTORY_ROWS));
static HISTORY_INSERT_ONE: LazyLock<String> = LazyLock::new(|| history_insert(1));

/// The values of one consent history row, in [`history_insert`]'s order.
fn history_row<'v>(
    workspace: &'v str,
    id: &'v MessagingId,
    change: &'v ConsentChange,
) -> [ToSqlOutput<'v>; 8] {
    [
        rows::text(Some(workspace)),
        rows::text(Some(id.as_ref())),
        ToSqlOutput::Owned(Value::Integer(change.at.timestamp_micros())),
        rows::text(Some(change.channel.as_str())),
        rows::text(Some(change.old.as_str())),
        rows::text(Some(change.new.as_str())),
        rows::text(Some(change.source.as_ref())),
        rows::text(change.note.as_deref()),
    ]
}

/// A contact's consent changes, each with its Messaging ID.
pub(super) fn history_of<'a>(
    contact: &'a Contact,
    changes: &'a [ConsentChange],
) -> impl Iterator<Item = (&'a MessagingId, &'a ConsentChange)> {
    changes.iter().map(|change| (&contact.messaging_id, change))
}

/// Appends consent changes to the history, [`HISTORY_ROWS`] a statement.
pub(super) fn append_history<'a>(
    tx: &Transaction<'_>,
    workspace: &str,
    changes: impl Iterator<Item = (&'a MessagingId, &'a ConsentChange)>,
) -> Result<()> {
    let changes: Vec<_> = changes.collect();
    let mut chunks = changes.chunks_exact(HISTORY_ROWS);
    let values = |chunk: &[(&'a MessagingId, &'a ConsentChange)]| {
        let rows: Vec<_> = chunk
            .iter()
            .flat_map(|(id, change)| history_row(workspace, id, change))
            .collect();
        params_from_iter(rows)
    };
    if chunks.len() > 0 {
        let mut many = tx.prepare_cached(&HISTORY_INSERT_MANY)?;
        for chunk in &mut chunks {
            many.execute(values(chunk))?;
        }
    }
    let mut one = tx.prepare_cached(&HISTORY_INSERT_ONE)?;
    for row in chunks.remainder().chunks(1) {
        one.execute(values(row))?;
    }
    Ok(())
}

fn one_contact(
    conn: &rusqlite::Connection,
    key_column: &str,
    workspace: &str,
    key: &str,
) -> Result<Option<Contact>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.workspace = ?1 AND {key_column} = ?2"
    ))?;
    let mut found = stmt.query(params![workspace, key])?;
    found
        .next()?
        .map(|row| rows::contact(row).map(|(_, contact)| contact))
        .transpose()
}

fn holder_of(
    conn: &rusqlite::Connection,
    workspace: &str,
    external_id: &ExternalId,
) -> Result<Option<MessagingId>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT messaging_id FROM contacts c WHERE workspace = ?1 AND {} = ?2",
            rows::EXTERNAL_ID
        ))?
        .query_row(params![workspace, external_id.as_ref()], |row| row.get(0))
        .optional()?
        .map(MessagingId::from_stored))
}

pub(super) fn usage(conn: &rusqlite::Connection, workspace: &str) -> Result<u64> {
    conn.prepare_cached("SELECT contacts FROM usage WHERE workspace = ?1")?
        .query_row(params![workspace], |row| row.get(0))
        .optional()?
        .map_or(Ok(0), rows::unsigned)
}

/// The error for `contact`'s External ID when another contact holds it.
fn taken_by_another(
    conn: &rusqlite::Connection,
    workspace: &str,
    contact: &Contact,
) -> Result<Option<Error>> {
    let Some(id) = &contact.external_id else {
        return Ok(None);
    };
    Ok(holder_of(conn, workspace, id)?
        .filter(|holder| *holder != contact.messaging_id)
        .map(|holder| Error::DuplicateExternalId {
            external_id: id.to_string(),
            holder,
        }))
}
