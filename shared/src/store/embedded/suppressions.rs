//! [`SuppressionStore`] over SQLite: the secret, suppressions as JSON
//! documents, their hashes, and the erased contacts (each naming the
//! suppression its erasure recorded). An erasure is one transaction, so
//! none is ever pending.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{EmbeddedStore, json_page, one_past};
use crate::error::Result;
use crate::model::{Contact, MessagingId, WorkspaceId};
use crate::privacy::suppression::{IdentifierHash, Suppression, SuppressionId, WorkspaceSecret};
use crate::query::{Page, PageRequest};
use crate::store::imports::{from_json, to_json};
use crate::store::suppressions::SuppressionStore;

fn record(tx: &Transaction<'_>, workspace: &str, suppression: &Suppression) -> Result<()> {
    tx.prepare_cached("INSERT INTO suppressions (workspace, id, suppression) VALUES (?1, ?2, ?3)")?
        .execute(params![
            workspace,
            suppression.id.as_ref(),
            to_json(suppression)?
        ])?;
    let mut hashes = tx.prepare_cached(
        "INSERT OR IGNORE INTO suppressed_hashes (workspace, hash, suppression) VALUES (?1, ?2, ?3)",
    )?;
    for field in &suppression.fields {
        hashes.execute(params![
            workspace,
            field.hash.as_ref(),
            suppression.id.as_ref()
        ])?;
    }
    Ok(())
}

fn stored(conn: &rusqlite::Connection, workspace: &str, id: &str) -> Result<Option<Suppression>> {
    conn.prepare_cached("SELECT suppression FROM suppressions WHERE workspace = ?1 AND id = ?2")?
        .query_row(params![workspace, id], |row| row.get::<_, String>(0))
        .optional()?
        .map(|json| from_json(&json))
        .transpose()
}

#[async_trait]
impl SuppressionStore for EmbeddedStore {
    async fn secret(&self, workspace: &WorkspaceId) -> Result<WorkspaceSecret> {
        let asked = workspace.clone();
        let kept: Option<String> = self
            .read(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT secret FROM workspace_secrets WHERE workspace = ?1")?
                    .query_row(params![asked.as_ref()], |row| row.get(0))
                    .optional()?)
            })
            .await?;
        if let Some(kept) = kept {
            return Ok(WorkspaceSecret::from_stored(&kept)?);
        }
        // The first use: made once, whoever asks at the same time.
        let (workspace, made) = (workspace.clone(), WorkspaceSecret::generate()?);
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO workspace_secrets (workspace, secret) VALUES (?1, ?2)",
            )?
            .execute(params![workspace.as_ref(), made.to_stored()])?;
            let kept: String = tx
                .prepare_cached("SELECT secret FROM workspace_secrets WHERE workspace = ?1")?
                .query_row(params![workspace.as_ref()], |row| row.get(0))?;
            Ok(WorkspaceSecret::from_stored(&kept)?)
        })
        .await
    }

    async fn suppress(&self, workspace: &WorkspaceId, suppression: &Suppression) -> Result<()> {
        let (workspace, suppression) = (workspace.clone(), suppression.clone());
        self.write(move |tx| record(tx, workspace.as_ref(), &suppression))
            .await
    }

    async fn suppressed(
        &self,
        workspace: &WorkspaceId,
        hashes: &[IdentifierHash],
    ) -> Result<Vec<Option<Suppression>>> {
        let (workspace, hashes) = (workspace.clone(), hashes.to_vec());
        self.read(move |conn| {
            let mut holder = conn.prepare_cached(
                "SELECT min(suppression) FROM suppressed_hashes WHERE workspace = ?1 AND hash = ?2",
            )?;
            hashes
                .iter()
                .map(|hash| {
                    let id: Option<String> = holder
                        .query_row(params![workspace.as_ref(), hash.as_ref()], |row| row.get(0))?;
                    match id {
                        Some(id) => stored(conn, workspace.as_ref(), &id),
                        None => Ok(None),
                    }
                })
                .collect()
        })
        .await
    }

    async fn suppressions(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<Suppression>> {
        let before = crate::jobs::jobs_before(page)?;
        let (workspace, limit) = (workspace.clone(), page.limit);
        self.read(move |conn| {
            json_page(
                conn,
                "SELECT suppression FROM suppressions WHERE workspace = ?1 AND id < ?2 \
                 ORDER BY id DESC LIMIT ?3",
                params![workspace.as_ref(), before, one_past(limit)],
                limit,
                |s: &Suppression| s.id.to_string(),
            )
        })
        .await
    }

    async fn lift(&self, workspace: &WorkspaceId, id: &SuppressionId) -> Result<bool> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| {
            tx.prepare_cached(
                "DELETE FROM suppressed_hashes WHERE workspace = ?1 AND suppression = ?2",
            )?
            .execute(params![workspace.as_ref(), id.as_ref()])?;
            let lifted = tx
                .prepare_cached("DELETE FROM suppressions WHERE workspace = ?1 AND id = ?2")?
                .execute(params![workspace.as_ref(), id.as_ref()])?;
            Ok(lifted > 0)
        })
        .await
    }

    async fn erase(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        suppression: &Suppression,
    ) -> Result<bool> {
        let (workspace, id, version, suppression) = (
            workspace.clone(),
            contact.messaging_id.clone(),
            contact.version,
            suppression.clone(),
        );
        self.write(move |tx| {
            let deleted = tx
                .prepare_cached(
                    "DELETE FROM contacts WHERE workspace = ?1 AND messaging_id = ?2 AND version = ?3",
                )?
                .execute(params![
                    workspace.as_ref(),
                    id.as_ref(),
                    i64::try_from(version).unwrap_or(i64::MAX)
                ])?;
            if deleted == 0 {
                return Ok(false);
            }
            record(tx, workspace.as_ref(), &suppression)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO erased (workspace, messaging_id, suppression) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![workspace.as_ref(), id.as_ref(), suppression.id.as_ref()])?;
            Ok(true)
        })
        .await
    }

    async fn finish_erasure(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<Suppression>> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |conn| {
            let suppression: Option<String> = conn
                .prepare_cached(
                    "SELECT suppression FROM erased WHERE workspace = ?1 AND messaging_id = ?2",
                )?
                .query_row(params![workspace.as_ref(), id.as_ref()], |row| row.get(0))
                .optional()?;
            match suppression {
                Some(suppression) => stored(conn, workspace.as_ref(), &suppression),
                None => Ok(None),
            }
        })
        .await
    }
}
