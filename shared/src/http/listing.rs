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
///
/// Text filters search by word starts, ignoring case and accents: every
/// word of the search must start a word of the field (`ann le` finds
/// `Ann Lee`, `jur` finds `Jürgen`). Names split into words at spaces and,
/// within a word, at punctuation (`Jean-Luc` has `jean-luc`, `jean`, `luc`).
/// An email's words are the whole address, the local part's pieces
/// between `.`, `_`, `-` and `+`, the domain and its labels. A phone search
/// is its digits: the start of the E.164 digits, of the national number or
/// of the national format (`030…`), or the number's last digits. Searches
/// of one character work; two or more (a phone: four digits or more) are
/// answered from an index on every store. `<field>[contains]` finds text anywhere in the field instead.
/// Custom attributes filter as `attr.<name>=<value>` (text by word starts,
/// `[contains]` anywhere; boolean exact; number, date and datetime equal)
/// and, for number, date and datetime, `attr.<name>[eq|gt|lt]=<value>`.
#[utoipa::path(
    get, path = "/v1/contacts", operation_id = "listContacts", tag = "listing",
    params(
        ("full_name" = Option<String>, Query, min_length = 1, max_length = 255, description = "every word starts a word of the first or last name, ignoring case and accents"),
        ("first_name" = Option<String>, Query, min_length = 1, max_length = 255, description = "every word starts a word of the first name, ignoring case and accents"),
        ("last_name" = Option<String>, Query, min_length = 1, max_length = 255, description = "every word starts a word of the last name, ignoring case and accents"),
        ("phone" = Option<String>, Query, min_length = 1, max_length = 255, description = "digits (others are ignored; at least one): the start of the E.164 digits, of the national number or national format, or the last digits"),
        ("email" = Option<String>, Query, min_length = 1, max_length = 255, description = "every word starts a word of the address (the whole address, the local part's pieces, the domain and its labels), ignoring case and accents"),
        ("full_name[contains]" = Option<String>, Query, min_length = 1, max_length = 255, description = "text anywhere in the full name, ignoring case"),
        ("first_name[contains]" = Option<String>, Query, min_length = 1, max_length = 255, description = "text anywhere in the first name, ignoring case"),
        ("last_name[contains]" = Option<String>, Query, min_length = 1, max_length = 255, description = "text anywhere in the last name, ignoring case"),
        ("phone[contains]" = Option<String>, Query, min_length = 1, max_length = 255, description = "text anywhere in the E.164 number"),
        ("email[contains]" = Option<String>, Query, min_length = 1, max_length = 255, description = "text anywhere in the email address, ignoring case"),
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
        (status = 200, description = "A page of contacts", body = ContactPage,
            links(("merge" = (
                operation_id = "mergeContacts",
                parameters(("messaging_id" = "$response.body#/items/0/messaging_id")),
                request_body = json!({"merge": ["$response.body#/items/1/messaging_id"]}),
                description = "Merge the page's second contact into its first",
            )))),
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
