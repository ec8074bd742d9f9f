//! The OpenAPI 3 document, generated from the handlers and types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::problem::Problem;
use super::{
    attributes, audit, consent, contacts, duplicates, exports, imports, listing, lists, merge,
    privacy, scans, settings,
};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Contacts API", description = "All Contacts: contacts, their consent, custom attributes, lists, table settings, CSV imports and exports."),
    paths(
        contacts::create, contacts::get, contacts::edit, contacts::delete, contacts::lists, merge::merge,
        consent::put, consent::history,
        listing::list, listing::usage, duplicates::list, duplicates::dismiss,
        scans::start, scans::list, scans::get,
        privacy::erase, privacy::personal_data, privacy::suppress, privacy::list, privacy::lift,
        audit::list,
        attributes::list, attributes::create, attributes::edit, attributes::delete,
        lists::list, lists::create, lists::get, lists::rename, lists::delete,
        lists::members, lists::add_members, lists::remove_member,
        settings::get, settings::put,
        imports::create, imports::get, imports::list, imports::preview, imports::template,
        exports::create, exports::get, exports::list,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// The bearer scheme, and on every operation the problems any request can
/// meet: 400 (bad input) and 401 (no or unknown token); 413 and 415 where a
/// body is read.
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
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("400".to_owned())
                    .or_insert_with(|| problem("Invalid input").into());
                responses
                    .entry("401".to_owned())
                    .or_insert_with(|| problem("No or unknown bearer token").into());
                if operation.request_body.is_some() {
                    responses
                        .entry("413".to_owned())
                        .or_insert_with(|| problem("Body larger than 64 KiB").into());
                    responses
                        .entry("415".to_owned())
                        .or_insert_with(|| problem("Body is not JSON").into());
                }
            }
        }
    }
}

/// `GET /openapi.json`.
pub async fn document() -> Json<serde_json::Value> {
    static DOCUMENT: std::sync::LazyLock<serde_json::Value> = std::sync::LazyLock::new(|| {
        let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        spell_links(&mut document);
        super::rules::apply(&mut document);
        document
    });
    Json(DOCUMENT.clone())
}

/// Gives response links the field names OpenAPI defines (`operationId`,
/// `operationRef`, `requestBody`): `utoipa` 5 writes them in snake case.
fn spell_links(document: &mut serde_json::Value) {
    let operations = document
        .get_mut("paths")
        .and_then(|paths| paths.as_object_mut())
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let links = operation
            .get_mut("responses")
            .and_then(|responses| responses.as_object_mut())
            .into_iter()
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("links")?.as_object_mut())
            .flat_map(|links| links.values_mut())
            .filter_map(|link| link.as_object_mut());
        for link in links {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(from) {
                    link.insert(to.to_owned(), value);
                }
            }
        }
    }
}
