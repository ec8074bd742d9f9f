//! [`AuditStore`] over SQLite: entries as JSON documents, with their
//! contact and expiry in columns to find and purge them by.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::params;

use super::{EmbeddedStore, json_page, one_past};
use crate::audit::{AuditEntry, AuditId, AuditQuery, Retention};
use crate::error::Result;
use crate::model::{WorkspaceId, now};
use crate::query::{Page, PageRequest};
use crate::store::audit::AuditStore;
use crate::store::imports::to_json;

/// A time as stored: RFC 3339 in UTC with milliseconds, so text order is
/// time order.
fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl EmbeddedStore {
    /// Removes every entry older than `retention` or past its own expiry;
    /// how many went. The local server runs it at start-up.
    pub async fn purge_audit(&self, retention: Retention) -> Result<usize> {
        let (oldest, today) = (
            AuditId::from_time(now() - retention.duration()),
            stored_time(now()),
        );
        self.write(move |tx| {
            Ok(tx
                .prepare_cached("DELETE FROM audit WHERE id < ?1 OR expires <= ?2")?
                .execute(params![oldest.as_ref(), today])?)
        })
        .await
    }
}

#[async_trait]
impl AuditStore for EmbeddedStore {
    async fn record(&self, workspace: &WorkspaceId, entry: &AuditEntry) -> Result<()> {
        let (workspace, entry) = (workspace.clone(), entry.clone());
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO audit (workspace, id, contact, expires, entry) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                workspace.as_ref(),
                entry.id.as_ref(),
                entry.contact.as_ref().map(|c| c.as_ref()),
                stored_time(entry.expires_at),
                to_json(&entry)?
            ])?;
            Ok(())
        })
        .await
    }

    async fn audit(
        &self,
        workspace: &WorkspaceId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let before = crate::jobs::jobs_before(page)?;
        let since = query.lowest_id();
        let contact = query.contact.as_ref().map(|c| c.to_string());
        let (workspace, limit, today) = (workspace.clone(), page.limit, stored_time(now()));
        self.read(move |conn| {
            let sql = if contact.is_some() {
                "SELECT entry FROM audit WHERE workspace = ?1 AND contact = ?2 AND id < ?3 \
                 AND id >= ?4 AND expires > ?5 ORDER BY id DESC LIMIT ?6"
            } else {
                "SELECT entry FROM audit WHERE workspace = ?1 AND (?2 IS NULL) AND id < ?3 \
                 AND id >= ?4 AND expires > ?5 ORDER BY id DESC LIMIT ?6"
            };
            let params = params![
                workspace.as_ref(),
                contact,
                before,
                since,
                today,
                one_past(limit)
            ];
            json_page(conn, sql, params, limit, |e: &AuditEntry| e.id.to_string())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::audit::Operation;

    fn entry(age: Duration, kept: Duration) -> AuditEntry {
        let at = now() - age;
        AuditEntry {
            id: AuditId::from_time(at),
            at,
            expires_at: at + kept,
            actor: "token:test".into(),
            operation: Operation::ColumnsSaved,
            contact: None,
            target: None,
            fields: Vec::new(),
            counts: None,
        }
    }

    #[tokio::test]
    async fn start_up_removes_entries_past_the_retention_or_their_expiry() {
        let dir = tempfile::tempdir().expect("dir");
        let store = EmbeddedStore::open(dir.path()).expect("store");
        let w = WorkspaceId::parse("w").expect("workspace");
        let recent = entry(Duration::days(1), Duration::days(400));
        let too_old = entry(Duration::days(31), Duration::days(400));
        let expired = entry(Duration::days(3), Duration::days(2));
        for made in [&recent, &too_old, &expired] {
            store.record(&w, made).await.expect("record");
        }
        let removed = store.purge_audit(Retention::days(30)).await.expect("purge");
        assert_eq!(removed, 2);
        let left = store
            .audit(&w, &AuditQuery::default(), &PageRequest::first(10))
            .await
            .expect("audit");
        assert_eq!(left.items, vec![recent]);
    }

    #[test]
    fn the_retention_is_read_from_the_environment() {
        let read = |value: &str| {
            let value = value.to_owned();
            Retention::from_env(move |_| Some(value.clone()))
        };
        assert_eq!(read("30").expect("30 days"), Retention::days(30));
        assert!(
            read("a year")
                .expect_err("not a number")
                .to_string()
                .contains("CONTACTS_AUDIT_RETENTION_DAYS")
        );
        assert_eq!(
            Retention::from_env(|_| None).expect("default"),
            Retention::days(Retention::DEFAULT_DAYS)
        );
    }
}
