//! The audit trail: who changed what, newest first.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Workspace;
use super::extract::QueryPairs;
use crate::AppState;
use crate::audit::{AuditEntry, AuditQuery, Operation};
use crate::catalog::Catalog;
use crate::error::{Collector, Result};
use crate::import::Counts;
use crate::model::MessagingId;
use crate::query::{Page, PageRequest};

/// One change: who made it, when, what it did and which fields it changed
/// (their names, never their values).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: String,
    pub at: DateTime<Utc>,
    /// When the entry is removed (the deployment's audit retention).
    pub expires_at: DateTime<Utc>,
    /// Who made it: `token:<8 hex digits of the token's SHA-256>` locally,
    /// `sub:<subject>` from the JWT on AWS, `bucket` for a file put into
    /// the bucket, `command-line` for a local import.
    pub actor: String,
    pub operation: Operation,
    /// The contact it changed, when it changed one.
    pub messaging_id: Option<String>,
    /// What else it names: a list's ID, an attribute's name, a
    /// suppression's or an import's ID, or the contacts of a merge.
    pub target: Option<String>,
    /// The fields it changed; custom attributes as `attributes.<name>`.
    pub fields: Vec<String>,
    /// An import's counts.
    pub counts: Option<Counts>,
}

impl AuditEntryBody {
    /// The entry as the API shows it, custom attributes by their names
    /// where they still exist.
    pub fn new(entry: &AuditEntry, catalog: &Catalog) -> Self {
        let field = |name: &String| match catalog.attribute_of_field(name) {
            Some(definition) => format!("attributes.{}", definition.name),
            None => name.clone(),
        };
        Self {
            id: entry.id.to_string(),
            at: entry.at,
            expires_at: entry.expires_at,
            actor: entry.actor.clone(),
            operation: entry.operation,
            messaging_id: entry.contact.as_ref().map(ToString::to_string),
            target: entry.target.clone(),
            fields: entry.fields.iter().map(field).collect(),
            counts: entry.counts,
        }
    }
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryBody>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Reads `contact`, `since`, `limit` and `cursor`, refusing any other.
fn audit_request(pairs: Vec<(String, String)>) -> Result<(AuditQuery, PageRequest)> {
    let mut errors = Collector::default();
    let mut query = AuditQuery::default();
    let mut rest = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "contact" => {
                let id = MessagingId::parse(&value).map_err(|e| e.0);
                query.contact = errors.check("contact", id);
            }
            "since" => {
                let at = DateTime::parse_from_rfc3339(&value)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| "is not a time such as 2026-12-01T00:00:00Z");
                query.since = errors.check("since", at);
            }
            _ => rest.push((key, value)),
        }
    }
    let page = errors.merge(PageRequest::from_pairs(&rest));
    errors.finish()?;
    let page = page.unwrap_or_else(|| PageRequest::first(PageRequest::DEFAULT_LIMIT));
    Ok((query, page))
}

/// The audit trail, newest first: every change to a contact, a list, an
/// attribute definition, a suppression or the saved columns, and one entry
/// per import, with who made it and the fields it changed. Entries are
/// kept for the deployment's retention (400 days unless configured).
#[utoipa::path(
    get, path = "/v1/audit", operation_id = "listAuditEntries", tag = "privacy",
    params(
        ("contact" = Option<String>, Query, description = "Only this contact's entries (a Messaging ID)"),
        ("since" = Option<DateTime<Utc>>, Query, description = "Only entries made at or after this time (RFC 3339)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of audit entries", body = AuditPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<AuditPage>> {
    let (query, page) = audit_request(pairs)?;
    let (found, catalog): (Page<AuditEntry>, Catalog) = tokio::try_join!(
        state.audit.audit(&workspace, &query, &page),
        Catalog::load(&state, &workspace)
    )?;
    Ok(Json(AuditPage {
        items: found
            .items
            .iter()
            .map(|e| AuditEntryBody::new(e, &catalog))
            .collect(),
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}
