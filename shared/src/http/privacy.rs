//! Privacy requests: erase a contact (and keep it erased), and the
//! suppressions that keep erased or unwanted identifiers out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_DISPOSITION;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::AuditEntryBody;
use super::auth::{Actor, Workspace};
use super::dto::{ContactBody, ListRef};
use super::extract::{ApiJson, ContactId, PathParams, QueryPairs};
use super::problem::Problem;
use crate::AppState;
use crate::catalog::Catalog;
use crate::error::{Collector, Result};
use crate::model::{ConsentChange, Email, ExternalId, MessagingId, PhoneNumber, WorkspaceId, now};
use crate::privacy::service::{self, Erasure};
use crate::privacy::suppression::{Identifier, Suppression, SuppressionReason};
use crate::query::PageRequest;

/// One suppressed identifier: its field and the start of its keyed hash
/// (the identifier itself is not kept).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressedFieldBody {
    /// `email`, `phone` or `external_id`.
    pub field: String,
    /// The first 8 hex digits of its keyed hash.
    pub hash_prefix: String,
}

/// Identifiers kept out of the workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionBody {
    pub suppression_id: String,
    pub fields: Vec<SuppressedFieldBody>,
    /// `erased` (a contact was erased) or `requested` (suppressed directly).
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// Who asked: a token's or a user's name.
    pub actor: String,
}

impl From<&Suppression> for SuppressionBody {
    fn from(suppression: &Suppression) -> Self {
        Self {
            suppression_id: suppression.id.to_string(),
            fields: suppression
                .fields
                .iter()
                .map(|f| SuppressedFieldBody {
                    field: f.field.clone(),
                    hash_prefix: f.hash.prefix().to_owned(),
                })
                .collect(),
            reason: match suppression.reason {
                SuppressionReason::Erased => "erased",
                SuppressionReason::Requested => "requested",
            }
            .to_owned(),
            created_at: suppression.created_at,
            actor: suppression.actor.clone(),
        }
    }
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureBody {
    /// The erased contact.
    pub messaging_id: String,
    /// The suppression that keeps it out.
    pub suppression: SuppressionBody,
    /// Rows holding the person removed from stored import error CSVs
    /// (each file is written again without them).
    pub error_rows_removed: u64,
    /// Export files are deleted a week after they are made: one made
    /// before the erasure may hold the contact until this time.
    pub exports_expire_by: DateTime<Utc>,
}

/// A page of suppressions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionPage {
    pub items: Vec<SuppressionBody>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// An import that created or changed a contact, and when it first did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRef {
    pub import_id: String,
    pub at: DateTime<Utc>,
}

/// Everything the workspace holds on one contact: what a data subject
/// access request asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDataBody {
    pub generated_at: DateTime<Utc>,
    /// Every attribute, generic and custom, and the consent now.
    pub contact: ContactBody,
    /// Every consent change, newest first, with its source.
    pub consent_history: Vec<ConsentChange>,
    /// The lists it belongs to.
    pub lists: Vec<ListRef>,
    /// The imports that created or changed it, each with when it first
    /// did, oldest first.
    pub imports: Vec<ImportRef>,
    /// Who changed it, when, and which fields: its audit entries, newest
    /// first.
    pub audit: Vec<AuditEntryBody>,
}

/// The personal-data document of the contact `id`, as a download.
pub(crate) async fn personal_data_response(
    state: &AppState,
    workspace: &WorkspaceId,
    id: &MessagingId,
) -> Result<impl IntoResponse + use<>> {
    let (data, catalog) = tokio::try_join!(
        service::personal_data(state, workspace, id),
        Catalog::load(state, workspace)
    )?;
    let body = PersonalDataBody {
        generated_at: now(),
        contact: ContactBody::new(&data.contact, &catalog),
        lists: catalog
            .existing_lists(&data.contact.lists)
            .map(|l| ListRef {
                id: l.id.to_string(),
                name: l.name.to_string(),
            })
            .collect(),
        consent_history: data.history,
        imports: data
            .imports
            .into_iter()
            .map(|mark| ImportRef {
                import_id: mark.import_id,
                at: mark.at,
            })
            .collect(),
        audit: data
            .audit
            .iter()
            .map(|e| AuditEntryBody::new(e, &catalog))
            .collect(),
    };
    let disposition = format!("attachment; filename=\"personal-data-{id}.json\"");
    Ok(([(CONTENT_DISPOSITION, disposition)], Json(body)))
}

/// Everything the workspace holds on a contact, in one JSON document to
/// hand over (a data subject access request): its attributes and consent,
/// its whole consent history, its lists, the imports that changed it, and
/// its audit entries.
#[utoipa::path(
    get, path = "/v1/contacts/{messaging_id}/personal-data", operation_id = "getPersonalData", tag = "privacy",
    params(("messaging_id" = String, Path)),
    responses(
        (status = 200, description = "The document, as an attachment", body = PersonalDataBody,
            headers(("Content-Disposition" = String))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn personal_data(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    ContactId(id): ContactId,
) -> Result<impl IntoResponse> {
    personal_data_response(&state, &workspace, &id).await
}

/// Identifiers to keep out, of someone who is no contact (a complaint).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "complaint@example.com", "phone": "+14155550101"}))]
pub struct SuppressRequest {
    #[serde(default)]
    pub email: Option<String>,
    /// E.164, e.g. `+14155550101`.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}

impl SuppressRequest {
    fn identifiers(&self) -> Result<Vec<Identifier>> {
        let mut errors = Collector::default();
        let mut found = Vec::new();
        if let Some(raw) = &self.email {
            found.extend(
                errors
                    .check("email", Email::parse(raw))
                    .map(Identifier::Email),
            );
        }
        if let Some(raw) = &self.phone {
            found.extend(
                errors
                    .check("phone", PhoneNumber::parse(raw))
                    .map(Identifier::Phone),
            );
        }
        if let Some(raw) = &self.external_id {
            found.extend(
                errors
                    .check("external_id", ExternalId::parse(raw))
                    .map(Identifier::ExternalId),
            );
        }
        if self.email.is_none() && self.phone.is_none() && self.external_id.is_none() {
            errors.push(
                "email",
                "give an email, a phone or an external_id to suppress",
            );
        }
        errors.finish()?;
        Ok(found)
    }
}

/// Erase a contact's personal data and keep it erased: the contact is
/// deleted as `DELETE` does (history, memberships, search entries), and
/// its email, phone and External ID are suppressed (kept only as keyed
/// hashes), so a create or an import bringing them back is refused until
/// the suppression is lifted. Erasing it again answers the same.
#[utoipa::path(
    post, path = "/v1/contacts/{messaging_id}/erase", operation_id = "eraseContact", tag = "privacy",
    params(("messaging_id" = String, Path)),
    responses(
        (status = 200, description = "Erased", body = ErasureBody,
            links(("lift" = (operation_id = "liftSuppression",
                parameters(("suppression_id" = "$response.body#/suppression/suppression_id")))))),
        (status = 404, description = "No such contact", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn erase(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ContactId(id): ContactId,
) -> Result<Json<ErasureBody>> {
    let Erasure {
        suppression,
        error_rows_removed,
        exports_expire_by,
    } = service::erase(&state, &state.audit(&workspace, &actor), &id).await?;
    Ok(Json(ErasureBody {
        messaging_id: id.to_string(),
        suppression: (&suppression).into(),
        error_rows_removed,
        exports_expire_by,
    }))
}

/// Suppress identifiers of someone who is not a contact (a complaint, a
/// request to be left alone): creates and imports refuse them.
#[utoipa::path(
    post, path = "/v1/suppressions", operation_id = "suppress", tag = "privacy",
    request_body = SuppressRequest,
    responses(
        (status = 201, description = "Suppressed", body = SuppressionBody,
            links(("lift" = (operation_id = "liftSuppression",
                parameters(("suppression_id" = "$response.body#/suppression_id")))))),
    ),
)]
pub async fn suppress(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    ApiJson(request): ApiJson<SuppressRequest>,
) -> Result<(StatusCode, Json<SuppressionBody>)> {
    let identifiers = request.identifiers()?;
    let suppression =
        service::suppress(&state, &state.audit(&workspace, &actor), &identifiers).await?;
    Ok((StatusCode::CREATED, Json((&suppression).into())))
}

/// The workspace's suppressions, newest first: fields, hash prefixes,
/// when and who; never the identifiers.
#[utoipa::path(
    get, path = "/v1/suppressions", operation_id = "listSuppressions", tag = "privacy",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, description = "A page of suppressions", body = SuppressionPage)),
)]
pub async fn list(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<SuppressionPage>> {
    let page = PageRequest::from_pairs(&pairs)?;
    let found = service::list(&state, &workspace, &page).await?;
    Ok(Json(SuppressionPage {
        items: found.items.iter().map(SuppressionBody::from).collect(),
        next_cursor: found.next_cursor.map(|c| c.0),
    }))
}

/// Lift a suppression (the person came back and consented): its
/// identifiers may be created and imported again.
#[utoipa::path(
    delete, path = "/v1/suppressions/{suppression_id}", operation_id = "liftSuppression", tag = "privacy",
    params(("suppression_id" = String, Path)),
    responses(
        (status = 204, description = "Lifted"),
        (status = 404, description = "No such suppression", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn lift(
    State(state): State<AppState>,
    Workspace(workspace): Workspace,
    Actor(actor): Actor,
    PathParams(raw): PathParams<String>,
) -> Result<StatusCode> {
    service::lift(&state, &state.audit(&workspace, &actor), &raw).await?;
    Ok(StatusCode::NO_CONTENT)
}
