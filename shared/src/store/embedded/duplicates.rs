//! [`DuplicateStore`] over SQLite, and the noting of keys as contacts are
//! written.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, params};

use super::EmbeddedStore;
use crate::error::Result;
use crate::model::{
    Contact, ContactSet, DuplicateKey, DuplicateReason, MessagingId, SimilarGroup, WorkspaceId,
};
use crate::query::{Page, PageRequest};
use crate::store::duplicates::{DuplicateStore, page_of_keys, position_range};

/// Notes each value `contact` was just written with that another contact
/// holds, but for those in `held` (its lower-case email and its phone as
/// stored before, noted then).
pub(super) fn note_duplicates(
    tx: &Transaction<'_>,
    workspace: &str,
    contact: &Contact,
    held: [Option<String>; 2],
) -> Result<()> {
    for (reason, held) in DuplicateReason::SHARED_VALUES.into_iter().zip(held) {
        let Some(value) = reason
            .value_of(contact)
            .filter(|v| Some(v) != held.as_ref())
        else {
            continue;
        };
        let shared = match reason {
            DuplicateReason::SameEmail => {
                "SELECT EXISTS (SELECT 1 FROM contacts WHERE workspace = ?1 \
                 AND fold_case(email) = ?2 AND messaging_id != ?3)"
            }
            DuplicateReason::SamePhone => {
                "SELECT EXISTS (SELECT 1 FROM contacts WHERE workspace = ?1 \
                 AND phone = ?2 AND messaging_id != ?3)"
            }
            DuplicateReason::SimilarName => continue,
        };
        let shared: bool = tx.prepare_cached(shared)?.query_row(
            params![workspace, value, contact.messaging_id.as_ref()],
            |row| row.get(0),
        )?;
        if shared {
            let key = DuplicateKey {
                reason,
                value,
                joined: contact.updated_at,
            };
            tx.prepare_cached(
                "INSERT INTO duplicate_keys (workspace, reason, value, position) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (workspace, reason, value) \
                 DO UPDATE SET position = excluded.position",
            )?
            .execute(params![
                workspace,
                reason.as_str(),
                key.value,
                key.position()
            ])?;
        }
    }
    Ok(())
}

#[async_trait]
impl DuplicateStore for EmbeddedStore {
    async fn duplicate_keys(
        &self,
        workspace: &WorkspaceId,
        reason: Option<DuplicateReason>,
        page: &PageRequest,
    ) -> Result<Page<DuplicateKey>> {
        let (after, before) = position_range(reason, page.cursor.as_ref())?;
        let (workspace, limit) = (workspace.clone(), page.limit);
        self.read(move |conn| {
            let keys: Vec<DuplicateKey> = conn
                .prepare_cached(
                    "SELECT position FROM duplicate_keys WHERE workspace = ?1 \
                     AND position > ?2 AND position < ?3 ORDER BY position LIMIT ?4",
                )?
                .query_map(
                    params![
                        workspace.as_ref(),
                        after,
                        before,
                        i64::try_from(limit + 1).unwrap_or(i64::MAX)
                    ],
                    |row| row.get::<_, String>(0),
                )?
                .filter_map(|position| {
                    position
                        .map(|p| DuplicateKey::from_position(&p))
                        .transpose()
                })
                .collect::<rusqlite::Result<_>>()?;
            Ok(page_of_keys(keys, limit))
        })
        .await
    }

    async fn replace_similar(
        &self,
        workspace: &WorkspaceId,
        groups: &[SimilarGroup],
    ) -> Result<()> {
        let (workspace, groups) = (workspace.clone(), groups.to_vec());
        self.write(move |tx| {
            let reason = DuplicateReason::SimilarName.as_str();
            tx.prepare_cached("DELETE FROM duplicate_keys WHERE workspace = ?1 AND reason = ?2")?
                .execute(params![workspace.as_ref(), reason])?;
            tx.prepare_cached("DELETE FROM similar_members WHERE workspace = ?1")?
                .execute(params![workspace.as_ref()])?;
            let mut key_row = tx.prepare_cached(
                "INSERT INTO duplicate_keys (workspace, reason, value, position) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut member_row = tx.prepare_cached(
                "INSERT OR REPLACE INTO similar_members (workspace, messaging_id, anchor, position) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for group in &groups {
                let key = group.key();
                let position = key.position();
                key_row.execute(params![workspace.as_ref(), reason, key.value, position])?;
                for id in group.members.ids() {
                    member_row.execute(params![
                        workspace.as_ref(),
                        id.as_ref(),
                        key.value,
                        position
                    ])?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn similar_group(
        &self,
        workspace: &WorkspaceId,
        anchor: &str,
    ) -> Result<Vec<MessagingId>> {
        let (workspace, anchor) = (workspace.clone(), anchor.to_owned());
        self.read(move |conn| {
            let ids: Vec<String> = conn
                .prepare_cached(
                    "SELECT messaging_id FROM similar_members WHERE workspace = ?1 AND anchor = ?2",
                )?
                .query_map(params![workspace.as_ref(), anchor], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids
                .iter()
                .filter_map(|id| MessagingId::parse(id).ok())
                .collect())
        })
        .await
    }

    async fn similar_key_of(
        &self,
        workspace: &WorkspaceId,
        id: &MessagingId,
    ) -> Result<Option<DuplicateKey>> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |conn| {
            let position: Option<String> = conn
                .prepare_cached(
                    "SELECT position FROM similar_members WHERE workspace = ?1 AND messaging_id = ?2",
                )?
                .query_row(params![workspace.as_ref(), id.as_ref()], |row| row.get(0))
                .optional()?;
            Ok(position.as_deref().and_then(DuplicateKey::from_position))
        })
        .await
    }

    async fn dismiss(&self, workspace: &WorkspaceId, set: &ContactSet) -> Result<()> {
        let (workspace, members) = (workspace.clone(), set.key());
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO duplicate_dismissals (workspace, members) VALUES (?1, ?2)",
            )?
            .execute(params![workspace.as_ref(), members])?;
            Ok(())
        })
        .await
    }

    async fn dismissed(&self, workspace: &WorkspaceId, sets: &[ContactSet]) -> Result<Vec<bool>> {
        let (workspace, keys) = (
            workspace.clone(),
            sets.iter().map(ContactSet::key).collect::<Vec<_>>(),
        );
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM duplicate_dismissals \
                 WHERE workspace = ?1 AND members = ?2)",
            )?;
            keys.iter()
                .map(|key| Ok(stmt.query_row(params![workspace.as_ref(), key], |row| row.get(0))?))
                .collect()
        })
        .await
    }
}
