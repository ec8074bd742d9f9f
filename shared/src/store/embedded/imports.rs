//! [`ImportStore`] over SQLite: a batch, its remembered keys, its rejected
//! rows and the import's checkpoint commit in one transaction.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::contacts::{
    append_history, contact_insert, count_new_contacts, history_of, insert_contact, update_record,
    usage,
};
use super::rows::{self, CONTACT_COLUMNS};
use super::{EmbeddedStore, word_index};
use crate::error::{Error, Result};
use crate::import::job::{ImportId, ImportJob};
use crate::jobs::JobStore;
use crate::model::{Contact, Email, MessagingId, WorkspaceId};
use crate::query::{Page, PageRequest};
use crate::store::imports::{Commit, ImportStore, Lookup, Rejected, from_json, to_json};

/// Where a bulk write keeps the text of the indexed rows it updates, as it
/// was (rows above the text index's mark are indexed later, as they are).
const STALE_TEXT: &str = "CREATE TEMP TABLE IF NOT EXISTS stale_text (\
    rowid INTEGER PRIMARY KEY, full_name, first_name, last_name, phone, email)";

/// Replaces the trigram index entries of the updated rows, in two
/// statements, and drops their word index entries (put back after).
/// `CROSS JOIN` keeps the few stale rows outside: the planner, knowing
/// nothing of a temporary table, would otherwise scan every contact.
const REINDEX_STALE_TEXT: &str = "\
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email) \
    SELECT 'delete', rowid, full_name, first_name, last_name, phone, email FROM temp.stale_text;
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email) \
    SELECT c.id, c.full_name, c.first_name, c.last_name, c.phone, c.email \
    FROM temp.stale_text s CROSS JOIN contacts c ON c.id = s.rowid;
    DELETE FROM contacts_words WHERE rowid IN (SELECT rowid FROM temp.stale_text);";

/// The contacts whose `column` is one of `keys` (a JSON array; `None` for
/// none): one statement for them all, the column's index answering each.
fn contacts_by(
    conn: &Connection,
    workspace: &str,
    column: &str,
    keys: Option<&str>,
    found: &mut HashMap<String, Contact>,
) -> Result<()> {
    let Some(keys) = keys else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c \
         WHERE c.workspace = ?1 AND {column} IN (SELECT value FROM json_each(?2))"
    ))?;
    let mut rows = stmt.query(params![workspace, keys])?;
    while let Some(row) = rows.next()? {
        let (_, contact) = rows::contact(row)?;
        found.insert(contact.messaging_id.to_string(), contact);
    }
    Ok(())
}

/// `keys` as the JSON array a statement reads them from, written straight
/// from the borrowed keys; `None` when there are none.
fn json_keys<T: serde::Serialize>(keys: &[T]) -> Result<Option<String>> {
    (!keys.is_empty()).then(|| to_json(&keys)).transpose()
}

#[async_trait]
impl ImportStore for EmbeddedStore {
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
        let (workspace, object, version, import) = (
            workspace.clone(),
            object.to_owned(),
            version.to_owned(),
            import.clone(),
        );
        let holder: String = self
            .write(move |tx| {
                tx.prepare_cached(
                    "INSERT INTO import_claims (workspace, object, version, import) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    workspace.as_ref(),
                    object,
                    version,
                    import.as_ref()
                ])?;
                Ok(tx
                    .prepare_cached(
                        "SELECT import FROM import_claims \
                         WHERE workspace = ?1 AND object = ?2 AND version = ?3",
                    )?
                    .query_row(params![workspace.as_ref(), object, version], |row| {
                        row.get(0)
                    })?)
            })
            .await?;
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
        let emails: Vec<Cow<'_, str>> = keys.emails.iter().map(Email::folded).collect();
        let by = [
            (rows::EXTERNAL_ID, json_keys(&keys.external_ids)?),
            ("c.messaging_id", json_keys(&keys.messaging_ids)?),
            ("fold_case(c.email)", json_keys(&emails)?),
            ("c.phone", json_keys(&keys.phones)?),
        ];
        let workspace = workspace.clone();
        self.read(move |conn| {
            // One read transaction for every lookup: one snapshot, one lock.
            let tx = conn.unchecked_transaction()?;
            let mut found = HashMap::new();
            for (column, keys) in &by {
                contacts_by(&tx, workspace.as_ref(), column, keys.as_deref(), &mut found)?;
            }
            Ok(found.into_values().collect())
        })
        .await
    }

    async fn seen(
        &self,
        _workspace: &WorkspaceId,
        import: &ImportId,
        keys: &[String],
    ) -> Result<HashMap<String, u64>> {
        let Some(keys) = json_keys(keys)? else {
            return Ok(HashMap::new());
        };
        let import = import.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT key, line FROM import_seen \
                 WHERE import = ?1 AND key IN (SELECT value FROM json_each(?2))",
            )?;
            let mut found = stmt.query(params![import.as_ref(), keys])?;
            let mut seen = HashMap::new();
            while let Some(row) = found.next()? {
                let line: i64 = row.get(1)?;
                seen.insert(row.get(0)?, u64::try_from(line).unwrap_or(0));
            }
            Ok(seen)
        })
        .await
    }

    async fn commit(
        &self,
        workspace: &WorkspaceId,
        commit: Arc<Commit>,
        limit: Option<u64>,
    ) -> Result<()> {
        let workspace = workspace.clone();
        self.write_bulk(move |tx| {
            let ws = workspace.as_ref();
            let import = commit.job.id.as_ref();
            if let Some(limit) = limit
                && !commit.creates.is_empty()
                && usage(tx, ws)? + commit.creates.len() as u64 > limit
            {
                return Err(Error::UsageLimitReached { limit });
            }
            let mut insert = contact_insert(tx)?;
            for (contact, _) in &commit.creates {
                insert_contact(tx, &mut insert, &workspace, contact, None)?;
            }
            append_history(
                tx,
                ws,
                commit
                    .creates
                    .iter()
                    .flat_map(|(contact, changes)| history_of(contact, changes)),
            )?;
            if !commit.updates.is_empty() {
                tx.execute_batch(STALE_TEXT)?;
                for update in &commit.updates {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO temp.stale_text \
                         SELECT id, full_name, first_name, last_name, phone, email FROM contacts \
                         WHERE workspace = ?1 AND messaging_id = ?2 \
                         AND id <= (SELECT mark FROM text_index)",
                    )?
                    .execute(params![ws, update.contact.messaging_id.as_ref()])?;
                    update_record(
                        tx,
                        &workspace,
                        &update.contact,
                        update.expected_version,
                        &update.consent,
                    )?;
                }
                tx.execute_batch(REINDEX_STALE_TEXT)?;
                tx.prepare_cached(&word_index::insert_from(
                    "c.",
                    "temp.stale_text s CROSS JOIN contacts c ON c.id = s.rowid",
                ))?
                .execute([])?;
                tx.execute_batch("DELETE FROM temp.stale_text")?;
            }
            count_new_contacts(tx, ws, commit.creates.len())?;
            let mut delete =
                tx.prepare_cached("DELETE FROM contacts WHERE workspace = ?1 AND messaging_id = ?2")?;
            for id in &commit.deletes {
                delete.execute(params![ws, id.as_ref()])?;
            }
            let mut remember = tx.prepare_cached(
                "INSERT OR IGNORE INTO import_seen (import, key, line) VALUES (?1, ?2, ?3)",
            )?;
            for (key, line) in &commit.seen {
                remember.execute(params![import, key, i64::try_from(*line).unwrap_or(i64::MAX)])?;
            }
            let mut reject = tx.prepare_cached(
                "INSERT OR REPLACE INTO import_rejected (import, line, cells, error) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for row in &commit.rejected {
                reject.execute(params![
                    import,
                    i64::try_from(row.line).unwrap_or(i64::MAX),
                    to_json(&row.cells)?,
                    row.error
                ])?;
            }
            super::jobs::save(tx, &commit.job)
        })
        .await
    }

    async fn unseen(
        &self,
        workspace: &WorkspaceId,
        import: &ImportId,
        before: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<MessagingId>, Option<String>)> {
        let after: i64 = after.and_then(|a| a.parse().ok()).unwrap_or(0);
        let (workspace, import) = (workspace.clone(), import.clone());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.id, c.messaging_id FROM contacts c \
                 WHERE c.workspace = ?1 AND c.id > ?2 AND c.created_at < ?3 \
                 AND NOT EXISTS (SELECT 1 FROM import_seen s \
                     WHERE s.import = ?4 AND s.key = 'c:' || c.messaging_id) \
                 ORDER BY c.id LIMIT ?5",
            )?;
            let mut rows = stmt.query(params![
                workspace.as_ref(),
                after,
                before.timestamp_micros(),
                import.as_ref(),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ])?;
            let mut ids = Vec::new();
            let mut last = after;
            while let Some(row) = rows.next()? {
                last = row.get(0)?;
                ids.push(MessagingId::from_stored(row.get(1)?));
            }
            let next = (ids.len() == limit).then(|| last.to_string());
            Ok((ids, next))
        })
        .await
    }

    async fn rejected(
        &self,
        _workspace: &WorkspaceId,
        import: &ImportId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Rejected>> {
        let import = import.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT line, cells, error FROM import_rejected \
                 WHERE import = ?1 AND line > ?2 ORDER BY line LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![
                import.as_ref(),
                i64::try_from(after).unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ])?;
            let mut found = Vec::new();
            while let Some(row) = rows.next()? {
                found.push(Rejected {
                    line: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                    cells: from_json(&row.get::<_, String>(1)?)?,
                    error: row.get(2)?,
                });
            }
            Ok(found)
        })
        .await
    }

    async fn forget(&self, _workspace: &WorkspaceId, import: &ImportId) -> Result<()> {
        let import = import.clone();
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM import_seen WHERE import = ?1")?
                .execute(params![import.as_ref()])?;
            tx.prepare_cached("DELETE FROM import_rejected WHERE import = ?1")?
                .execute(params![import.as_ref()])?;
            Ok(())
        })
        .await
    }
}
