//! The OpenAPI 3 document, generated from the handlers and types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{attributes, consent, contacts, listing, lists, settings};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Contacts API", description = "All Contacts: contacts, their consent, custom attributes, lists and table settings."),
    paths(
        contacts::create, contacts::get, contacts::edit, contacts::delete, contacts::lists,
        consent::put, consent::history,
        listing::list, listing::usage,
        attributes::list, attributes::create, attributes::edit, attributes::delete,
        lists::list, lists::create, lists::get, lists::rename, lists::delete,
        lists::members, lists::add_members, lists::remove_member,
        settings::get, settings::put,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_default()
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
