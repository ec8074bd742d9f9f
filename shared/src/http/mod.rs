//! The HTTP API as `axum` routers: one per function, and one with everything
//! for the local server.

mod attributes;
mod audit;
pub mod auth;
mod consent;
mod contacts;
pub mod dto;
mod duplicates;
mod exports;
pub(crate) mod extract;
pub mod hosts;
pub(crate) mod imports;
mod listing;
mod lists;
pub mod merge;
pub mod objects;
mod openapi;
pub(crate) mod privacy;
pub mod problem;
pub mod rules;
mod scans;
mod settings;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Uri};
use axum::routing::{delete, get, patch, post, put};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use extract::{BODY_LIMIT, QueryPairs};
pub use openapi::ApiDoc;

use crate::AppState;
use crate::error::Error;
use crate::store::folder::FolderStore;

/// Create, read, edit and delete one contact.
pub fn contacts_router(state: AppState) -> Router {
    serve(contact_routes(), state)
}

/// Consent updates and history.
pub fn consent_router(state: AppState) -> Router {
    serve(consent_routes(), state)
}

/// Filtered listing (of all contacts, and of a list's members), usage and
/// duplicates.
pub fn listing_router(state: AppState) -> Router {
    serve(listing_routes(), state)
}

/// The workspace's attributes, lists and settings.
pub fn workspace_router(state: AppState) -> Router {
    serve(workspace_routes(), state)
}

/// Imports: start, follow, list and preview.
pub fn imports_router(state: AppState) -> Router {
    serve(import_routes(), state)
}

/// Exports: start, follow (with a fresh download link), list.
pub fn exports_router(state: AppState) -> Router {
    serve(export_routes(), state)
}

/// Every route on one router, with the OpenAPI document at `/openapi.json`,
/// the links of the embedded object store at `/objects/...` (an upload to an
/// import's CSV key queues that import) and the web `console`'s pages.
pub fn local_router(state: AppState, objects: FolderStore, console: Router) -> Router {
    let queue = state.imports.as_ref().and_then(|ports| ports.queue.clone());
    let routes = contact_routes()
        .merge(consent_routes())
        .merge(listing_routes())
        .merge(workspace_routes())
        .merge(import_routes())
        .merge(export_routes())
        .route("/openapi.json", get(openapi::document))
        .nest_service("/objects", objects::router(objects, queue));
    finish_with(routes.with_state(state).merge(console))
}

fn import_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/imports", post(imports::create).get(imports::list))
        .route("/v1/imports/template", get(imports::template))
        .route("/v1/imports/{import_id}", get(imports::get))
        .route(
            "/v1/imports/preview",
            post(imports::preview).layer(DefaultBodyLimit::max(crate::import::preview::MAX_BYTES)),
        )
}

fn export_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/exports", post(exports::create).get(exports::list))
        .route("/v1/exports/{export_id}", get(exports::get))
}

fn contact_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/contacts", post(contacts::create))
        .route(
            "/v1/contacts/{messaging_id}",
            get(contacts::get)
                .patch(contacts::edit)
                .delete(contacts::delete),
        )
        .route("/v1/contacts/{messaging_id}/lists", get(contacts::lists))
        .route("/v1/contacts/{messaging_id}/merge", post(merge::merge))
        .route("/v1/contacts/{messaging_id}/erase", post(privacy::erase))
        .route(
            "/v1/contacts/{messaging_id}/personal-data",
            get(privacy::personal_data),
        )
        .route(
            "/v1/suppressions",
            post(privacy::suppress).get(privacy::list),
        )
        .route("/v1/suppressions/{suppression_id}", delete(privacy::lift))
        .route("/v1/audit", get(audit::list))
        .route("/v1/duplicates/dismiss", post(duplicates::dismiss))
        .route("/v1/duplicates/scans", post(scans::start).get(scans::list))
        .route("/v1/duplicates/scans/{scan_id}", get(scans::get))
        .route("/v1/lists/{id}/contacts", post(lists::add_members))
        .route(
            "/v1/lists/{id}/contacts/{messaging_id}",
            delete(lists::remove_member),
        )
}

fn consent_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/contacts/{messaging_id}/consent", put(consent::put))
        .route(
            "/v1/contacts/{messaging_id}/consent-history",
            get(consent::history),
        )
}

fn listing_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/contacts", get(listing::list))
        .route("/v1/contacts/usage", get(listing::usage))
        .route("/v1/lists/{id}/contacts", get(lists::members))
        .route("/v1/duplicates", get(duplicates::list))
}

fn workspace_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/attributes",
            get(attributes::list).post(attributes::create),
        )
        .route(
            "/v1/attributes/{name}",
            patch(attributes::edit).delete(attributes::delete),
        )
        .route("/v1/lists", get(lists::list).post(lists::create))
        .route(
            "/v1/lists/{id}",
            get(lists::get).patch(lists::rename).delete(lists::delete),
        )
        .route(
            "/v1/settings/columns",
            get(settings::get).put(settings::put),
        )
}

/// Adds what every router shares: problem replies for unknown routes and
/// methods, the body limit, and one log line per request (path only: query
/// strings can carry personal data).
fn serve(routes: Router<AppState>, state: AppState) -> Router {
    finish(routes.with_state(state))
}

/// The fallbacks and layers of [`serve`], on a router with its state.
fn finish(routes: Router) -> Router {
    finish_with(
        routes.fallback(|uri: Uri| async move { Error::RouteNotFound(uri.path().to_owned()) }),
    )
}

/// The request's ID in the logs: the `X-Request-Id` a proxy or client sent
/// (short and printable), else a new one. On Lambda the runtime's span adds
/// the invocation's `requestId` as well.
fn request_id<B>(request: &Request<B>) -> String {
    request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned)
}

/// The layers of [`serve`] on a router that has its own fallback for
/// unknown paths.
fn finish_with(routes: Router) -> Router {
    routes
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!(
                        "request",
                        request_id = %request_id(request),
                        method = %request.method(),
                        path = %request.uri().path()
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}
