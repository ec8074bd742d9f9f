//! Merging duplicate contacts into one.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{Actor, Workspace};
use super::contacts::{absent_or, contact_response};
use super::dto::ContactBody;
use super::extract::{ApiJson, ContactId};
use super::problem::Problem;
use crate::catalog::Catalog;
use crate::error::{Collector, Result};
use crate::model::{MergeField, MergeRequest, MessagingId};
use crate::{AppState, service};

/// Which contacts to merge into the one in the path, and how.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "merge": ["01JDQ3V6Y8M6F3XG2W5T9K0ABD"],
    "fields": {"email": "01JDQ3V6Y8M6F3XG2W5T9K0ABD"},
    "versions": {"01JDQ3V6Y8M6F3XG2W5T9K0ABC": 3, "01JDQ3V6Y8M6F3XG2W5T9K0ABD": 1}
}))]
pub struct MergeContactsRequest {
    /// The Messaging IDs of the contacts merged into this one (1 to 9).
    /// They are deleted, and each of their IDs then leads here.
    pub merge: Vec<String>,
    /// For a field (`first_name`, `last_name`, `phone`, `email`, `country`,
    /// `timezone`, or a custom attribute's name), the Messaging ID of the
    /// contact whose value the merged contact takes, even if that is none.
    /// A field left out keeps this contact's value, or when it has none
    /// takes the most recently updated merged contact's.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The version each contact was shown at (the number in its `ETag`): a
    /// contact changed since is refused with 412 and nothing is merged.
    #[serde(default)]
    pub versions: BTreeMap<String, u64>,
}

impl MergeContactsRequest {
    /// The merge into `survivor`, its fields named through `catalog`.
    pub fn into_request(self, survivor: MessagingId, catalog: &Catalog) -> Result<MergeRequest> {
        let mut errors = Collector::default();
        let merge: Vec<MessagingId> = self
            .merge
            .iter()
            .enumerate()
            .filter_map(|(n, raw)| errors.check(&format!("merge[{n}]"), MessagingId::parse(raw)))
            .collect();
        let versions = self
            .versions
            .into_iter()
            .filter_map(|(raw, version)| {
                let id = errors.check(&format!("versions.{raw}"), MessagingId::parse(&raw))?;
                Some((id, version))
            })
            .collect();
        let mut request = MergeRequest {
            survivor,
            merge,
            fields: BTreeMap::new(),
            versions,
        };
        for (name, raw) in &self.fields {
            let at = format!("fields.{name}");
            let field = MergeField::generic(name).or_else(|| {
                catalog
                    .attribute(name)
                    .map(|definition| MergeField::Attribute(definition.id.clone()))
            });
            let Some(field) = field else {
                errors.push(
                    at,
                    format!("{name:?} is neither a field a merge chooses nor a custom attribute"),
                );
                continue;
            };
            match errors.check(&at, MessagingId::parse(raw)) {
                Some(id) if request.names(&id) => {
                    request.fields.insert(field, id);
                }
                Some(id) => errors.push(at, format!("{id} is not one of the contacts merged")),
                None => {}
            }
        }
        errors.merge(request.check());
        errors.finish()?;
        Ok(request)
    }
}

/// Merge duplicates into this contact, all or nothing. Each field comes
/// from the contact `fields` names, else this contact, else the most
/// recently updated merged one; lists are joined; each channel's consent is
/// the one recorded last among them (an unsubscribe wins a tie), and their
/// consent histories move here with one entry per channel from
/// `merge:<ids>`. This contact keeps its External ID; the merged contacts'
/// ones are freed. The merged contacts are deleted: reading one of their
/// IDs answers 308 to this contact, and their usage is given back.
#[utoipa::path(
    post, path = "/v1/contacts/{messaging_id}/merge", operation_id = "mergeContacts", tag = "contacts",
    params(("messaging_id" = String, Path)),
    request_body = MergeContactsRequest,
    responses(
        (status = 200, description = "The merged contact", body = ContactBody, headers(("ETag" = String)),
            links(
                ("get" = (operation_id = "getContact", parameters(("messaging_id" = "$response.body#/messaging_id")))),
                ("consentHistory" = (operation_id = "getConsentHistory", parameters(("messaging_id" = "$response.body#/messaging_id")))),
            )),
        (status = 404, description = "One of the contacts doesn't exist, or was merged already (`merged_into` names where)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "A contact changed since the version given (`messaging_id` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn merge(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ContactId(id): ContactId,
    ApiJson(body): ApiJson<MergeContactsRequest>,
) -> Result<impl IntoResponse> {
    let catalog = Catalog::load(&state, &workspace).await?;
    let request = match body.into_request(id.clone(), &catalog) {
        Ok(request) => request,
        Err(error) => return Err(absent_or(&state, &workspace, &id, error).await),
    };
    let contact = service::merge(
        state.contacts.as_ref(),
        &state.audit(&workspace, &actor),
        &request,
    )
    .await?;
    Ok(contact_response(&contact, &catalog))
}
