//! The OpenAPI 3 document, generated from the handlers and types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{consent, contacts, listing};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Contacts API", description = "All Contacts: browse, create, edit, delete contacts and their consent."),
    paths(
        contacts::create, contacts::get, contacts::edit, contacts::delete,
        consent::put, consent::history,
        listing::list, listing::usage,
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
