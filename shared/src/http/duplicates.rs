//! Duplicates: groups of contacts that are probably one person, and
//! dismissing a group.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Workspace;
use super::dto::ContactBody;
use super::extract::{ApiJson, QueryPairs};
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Collector, Result};
use crate::model::{DuplicateReason, MessagingId};
use crate::query::PageRequest;
use crate::service::duplicates::{self, DuplicateGroup};

/// Contacts that are probably one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateGroupBody {
    /// `same_email` (the same address, ignoring case), `same_phone`, or
    /// `similar_name` (found by the last scan: see `startDuplicateScan`).
    pub reason: String,
    /// What they share: the email address in lower case, or the phone
    /// number; for `similar_name`, the first Messaging ID of the group the
    /// scan found (those still similar are listed in `contacts`).
    pub value: String,
    /// Newest first, at most 50.
    pub contacts: Vec<ContactBody>,
}

impl DuplicateGroupBody {
    fn new(group: &DuplicateGroup, catalog: &Catalog) -> Self {
        Self {
            reason: group.reason.as_str().to_owned(),
            value: group.value.clone(),
            contacts: group
                .contacts
                .iter()
                .map(|c| ContactBody::new(c, catalog))
                .collect(),
        }
    }
}

/// A page of duplicate groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatePage {
    pub items: Vec<DuplicateGroupBody>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Contacts someone says are not one person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"messaging_ids": ["01JDQ3V6Y8M6F3XG2W5T9K0ABC", "01JDQ3V6Y8M6F3XG2W5T9K0ABD"]}))]
pub struct DismissRequest {
    /// The group's Messaging IDs (2 to 50), as listed.
    pub messaging_ids: Vec<String>,
}

/// Groups of contacts that are probably one person: strongest reason first
/// (`same_email`, then `same_phone`, then `similar_name`), then the group a
/// contact most recently joined. Groups dismissed are left out; a page may hold fewer
/// groups than `limit` and still have a `next_cursor`.
#[utoipa::path(
    get, path = "/v1/duplicates", operation_id = "listDuplicates", tag = "duplicates",
    params(
        ("reason" = Option<String>, Query, description = "only groups of this reason: same_email, same_phone or similar_name"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of groups", body = DuplicatePage,
            links(("merge" = (
                operation_id = "mergeContacts",
                parameters(("messaging_id" = "$response.body#/items/0/contacts/0/messaging_id")),
                request_body = json!({"merge": ["$response.body#/items/0/contacts/1/messaging_id"]}),
                description = "Merge the first group's second contact into its first",
            )))),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<DuplicatePage>> {
    let mut errors = Collector::default();
    let mut reason = None;
    let mut rest = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "reason" if reason.is_some() => errors.push("reason", "may be given once"),
            "reason" => reason = errors.check("reason", DuplicateReason::parse(&value)),
            _ => rest.push((key, value)),
        }
    }
    let page = errors.merge(PageRequest::from_pairs(&rest));
    errors.finish()?;
    let page = page.unwrap_or_else(|| PageRequest::first(PageRequest::DEFAULT_LIMIT));
    let (found, catalog) = tokio::try_join!(
        duplicates::page(
            state.contacts.as_ref(),
            state.duplicates.as_ref(),
            &workspace,
            reason,
            &page
        ),
        Catalog::load(&state, &workspace)
    )?;
    Ok(Json(DuplicatePage {
        items: found
            .items
            .iter()
            .map(|group| DuplicateGroupBody::new(group, &catalog))
            .collect(),
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}

/// Mark a group as not one person: it stops showing. A contact joining it
/// later makes a new group, which shows.
#[utoipa::path(
    post, path = "/v1/duplicates/dismiss", operation_id = "dismissDuplicates", tag = "duplicates",
    request_body = DismissRequest,
    responses((status = 204, description = "Dismissed")),
)]
pub async fn dismiss(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ApiJson(request): ApiJson<DismissRequest>,
) -> Result<StatusCode> {
    let mut errors = Collector::default();
    let ids: Vec<MessagingId> = request
        .messaging_ids
        .iter()
        .enumerate()
        .filter_map(|(n, raw)| {
            errors.check(&format!("messaging_ids[{n}]"), MessagingId::parse(raw))
        })
        .collect();
    errors.finish()?;
    duplicates::dismiss(state.duplicates.as_ref(), &workspace, ids).await?;
    Ok(StatusCode::NO_CONTENT)
}
