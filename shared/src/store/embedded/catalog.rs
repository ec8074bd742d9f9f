//! [`SchemaStore`] and [`ListStore`] over SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::EmbeddedStore;
use super::rows::unsigned;
use crate::error::{Error, Result};
use crate::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, ContactList,
    ListId, ListName, WorkspaceId,
};
use crate::store::{ListStore, SchemaStore};

const COLUMNS_KEY: &str = "columns";

#[async_trait]
impl SchemaStore for EmbeddedStore {
    async fn attributes(&self, workspace: &WorkspaceId) -> Result<Vec<AttributeDefinition>> {
        let workspace = workspace.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, label, kind FROM attribute_defs WHERE workspace = ?1 ORDER BY name",
            )?;
            let mut rows = stmt.query(params![workspace.as_ref()])?;
            let mut definitions = Vec::new();
            while let Some(row) = rows.next()? {
                definitions.push(AttributeDefinition {
                    id: AttributeId::from_stored(row.get(0)?),
                    name: AttributeName::from_stored(row.get(1)?),
                    label: AttributeLabel::from_stored(row.get(2)?),
                    kind: AttributeType::parse(&row.get::<_, String>(3)?)?,
                });
            }
            Ok(definitions)
        })
        .await
    }

    async fn create_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()> {
        let (workspace, d) = (workspace.clone(), definition.clone());
        self.write(move |tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO attribute_defs (workspace, name, id, label, kind) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    workspace.as_ref(),
                    d.name.as_ref(),
                    d.id.as_ref(),
                    d.label.as_ref(),
                    d.kind.as_str()
                ])?;
            if inserted == 0 {
                return Err(Error::NameTaken {
                    kind: "custom attribute",
                    name: d.name.to_string(),
                });
            }
            Ok(())
        })
        .await
    }

    async fn update_attribute(
        &self,
        workspace: &WorkspaceId,
        definition: &AttributeDefinition,
    ) -> Result<()> {
        let (workspace, d) = (workspace.clone(), definition.clone());
        self.write(move |tx| {
            let updated = tx
                .prepare_cached(
                    "UPDATE attribute_defs SET label = ?3, kind = ?4 WHERE workspace = ?1 AND name = ?2",
                )?
                .execute(params![workspace.as_ref(), d.name.as_ref(), d.label.as_ref(), d.kind.as_str()])?;
            if updated == 0 {
                return Err(Error::AttributeNotFound(d.name.to_string()));
            }
            Ok(())
        })
        .await
    }

    async fn delete_attribute(
        &self,
        workspace: &WorkspaceId,
        name: &AttributeName,
    ) -> Result<bool> {
        let (workspace, name) = (workspace.clone(), name.clone());
        self.write(move |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM attribute_defs WHERE workspace = ?1 AND name = ?2")?
                .execute(params![workspace.as_ref(), name.as_ref()])?
                > 0)
        })
        .await
    }

    async fn columns(&self, workspace: &WorkspaceId) -> Result<Option<Vec<String>>> {
        let workspace = workspace.clone();
        self.read(move |conn| {
            let saved: Option<String> = conn
                .prepare_cached("SELECT value FROM settings WHERE workspace = ?1 AND key = ?2")?
                .query_row(params![workspace.as_ref(), COLUMNS_KEY], |row| row.get(0))
                .optional()?;
            saved
                .map(|json| serde_json::from_str(&json).map_err(|e| Error::Unexpected(e.into())))
                .transpose()
        })
        .await
    }

    async fn save_columns(&self, workspace: &WorkspaceId, columns: &[String]) -> Result<()> {
        let (workspace, json) = (
            workspace.clone(),
            serde_json::to_string(columns).map_err(|e| Error::Unexpected(e.into()))?,
        );
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO settings (workspace, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (workspace, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![workspace.as_ref(), COLUMNS_KEY, json])?;
            Ok(())
        })
        .await
    }
}

fn name_taken(name: &ListName) -> Error {
    Error::NameTaken {
        kind: "list",
        name: name.to_string(),
    }
}

#[async_trait]
impl ListStore for EmbeddedStore {
    async fn lists(&self, workspace: &WorkspaceId) -> Result<Vec<ContactList>> {
        let workspace = workspace.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, created_at FROM lists WHERE workspace = ?1 ORDER BY folded",
            )?;
            let mut rows = stmt.query(params![workspace.as_ref()])?;
            let mut lists = Vec::new();
            while let Some(row) = rows.next()? {
                let micros: i64 = row.get(2)?;
                lists.push(ContactList {
                    id: ListId::from_stored(row.get(0)?),
                    name: ListName::from_stored(row.get(1)?),
                    created_at: chrono::DateTime::from_timestamp_micros(micros)
                        .ok_or_else(|| anyhow::anyhow!("stored time {micros} is out of range"))?,
                });
            }
            Ok(lists)
        })
        .await
    }

    async fn create_list(&self, workspace: &WorkspaceId, list: &ContactList) -> Result<()> {
        let (workspace, list) = (workspace.clone(), list.clone());
        self.write(move |tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO lists (workspace, id, name, folded, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    workspace.as_ref(),
                    list.id.as_ref(),
                    list.name.as_ref(),
                    list.name.folded(),
                    list.created_at.timestamp_micros()
                ])?;
            if inserted == 0 {
                return Err(name_taken(&list.name));
            }
            Ok(())
        })
        .await
    }

    async fn rename_list(
        &self,
        workspace: &WorkspaceId,
        id: &ListId,
        name: &ListName,
    ) -> Result<()> {
        let (workspace, id, name) = (workspace.clone(), id.clone(), name.clone());
        self.write(move |tx| {
            let holder: Option<String> = tx
                .prepare_cached("SELECT id FROM lists WHERE workspace = ?1 AND folded = ?2")?
                .query_row(params![workspace.as_ref(), name.folded()], |row| row.get(0))
                .optional()?;
            if holder.is_some_and(|holder| holder != id.as_ref()) {
                return Err(name_taken(&name));
            }
            let updated = tx
                .prepare_cached(
                    "UPDATE lists SET name = ?3, folded = ?4 WHERE workspace = ?1 AND id = ?2",
                )?
                .execute(params![
                    workspace.as_ref(),
                    id.as_ref(),
                    name.as_ref(),
                    name.folded()
                ])?;
            if updated == 0 {
                return Err(Error::ListNotFound(id.to_string()));
            }
            Ok(())
        })
        .await
    }

    async fn delete_list(&self, workspace: &WorkspaceId, id: &ListId) -> Result<bool> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM lists WHERE workspace = ?1 AND id = ?2")?
                .execute(params![workspace.as_ref(), id.as_ref()])?
                > 0)
        })
        .await
    }

    async fn member_count(&self, workspace: &WorkspaceId, id: &ListId) -> Result<u64> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |conn| {
            let count: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id \
                     WHERE l.workspace = ?1 AND m.list_id = ?2",
                )?
                .query_row(params![workspace.as_ref(), id.as_ref()], |row| row.get(0))?;
            unsigned(count)
        })
        .await
    }
}
