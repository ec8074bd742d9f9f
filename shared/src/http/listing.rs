//! The contact table: filtered, paged listing, and usage.

use axum::Json;
use axum::extract::State;

use super::auth::Workspace;
use super::dto::{ContactBody, ContactPage, UsageBody};
use super::extract::QueryPairs;
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::query::{ContactFilter, ListRequest};

/// List contacts newest first, filtered (all filters must hold) and paged.
/// A page may hold fewer than `limit` items and still have a `next_cursor`.
/// Custom attributes filter as `attr.<name>=<value>` (text contains, ignoring
/// case; boolean exact; number, date and datetime equal) and, for number,
/// date and datetime, `attr.<name>[eq|gt|lt]=<value>`.
#[utoipa::path(
    get, path = "/v1/contacts", operation_id = "listContacts", tag = "listing",
    params(
        ("full_name" = Option<String>, Query, description = "contains, ignoring case"),
        ("first_name" = Option<String>, Query, description = "contains, ignoring case"),
        ("last_name" = Option<String>, Query, description = "contains, ignoring case"),
        ("phone" = Option<String>, Query, description = "contains"),
        ("email" = Option<String>, Query, description = "contains, ignoring case"),
        ("email[eq]" = Option<String>, Query, description = "exact email address, ignoring case"),
        ("phone[eq]" = Option<String>, Query, description = "exact E.164 phone number"),
        ("country" = Option<String>, Query, description = "ISO 3166-1 alpha-2, exact"),
        ("sms_consent" = Option<String>, Query, description = "subscribed, unsubscribed or not_subscribed"),
        ("whatsapp_consent" = Option<String>, Query, description = "subscribed, unsubscribed or not_subscribed"),
        ("email_consent" = Option<String>, Query, description = "subscribed, unsubscribed or not_subscribed"),
        ("list" = Option<String>, Query, description = "ID of a list the contact belongs to"),
        ("columns" = Option<String>, Query, description = "comma-separated columns to return; messaging_id always comes"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of contacts", body = ContactPage),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<ContactPage>> {
    let catalog = Catalog::load(&state, &workspace).await?;
    page_of(
        &state,
        &workspace,
        &catalog,
        ListRequest::from_pairs(&pairs, &catalog.attributes)?,
    )
    .await
}

/// One page of a listing request, shown with the catalog.
pub(super) async fn page_of(
    state: &AppState,
    workspace: &crate::model::WorkspaceId,
    catalog: &Catalog,
    request: ListRequest,
) -> Result<Json<ContactPage>> {
    for filter in &request.query.filters {
        if let ContactFilter::InList(id) = filter
            && catalog.list(id).is_none()
        {
            return Err(Error::invalid("list", format!("no list has ID {id}")));
        }
    }
    let page = state
        .contacts
        .list(workspace, &request.query, &request.page)
        .await?;
    let items = page
        .items
        .iter()
        .map(|contact| {
            let body = ContactBody::new(contact, catalog);
            match &request.columns {
                Some(columns) => body.project(columns),
                None => serde_json::to_value(body).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(ContactPage {
        items,
        next_cursor: page.next_cursor.map(|c| c.0),
    }))
}

/// Contacts Usage: how many contacts the workspace holds, and its limit.
#[utoipa::path(
    get, path = "/v1/contacts/usage", operation_id = "getUsage", tag = "listing",
    responses((status = 200, description = "Usage", body = UsageBody)),
)]
pub async fn usage(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
) -> Result<Json<UsageBody>> {
    Ok(Json(UsageBody {
        count: state.contacts.count(&workspace).await?,
        limit: state.usage_limit,
    }))
}
