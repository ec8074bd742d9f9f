//! The web console: the All Contacts screens as HTML rendered here, over
//! the same services as the API, with one stylesheet and a small script
//! embedded in the binary. Every page works without the script; the script
//! adds dialogs, the filter picker and the upload wizard's steps.

mod assets;
mod attributes;
mod contact_form;
mod contact_page;
mod contacts;
mod downloads;
mod duplicates;
mod failure;
mod headers;
mod imports;
mod lists;
mod merge;
mod page;
mod path;
mod session;
mod sign_in;
mod upload;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use failure::Failure;
pub use session::{Credentials, Provider, SignInSecrets};

use crate::AppState;

/// The console's state: the API's, and who may sign in.
#[derive(Clone)]
pub struct Console {
    pub app: AppState,
    pub credentials: Arc<dyn Credentials>,
}

impl Console {
    /// The console over `app`, signing in with `credentials`.
    pub fn new(app: AppState, credentials: Arc<dyn Credentials>) -> Self {
        Self { app, credentials }
    }
}

/// Every console page, rooted at `/`.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(contacts::page))
        .route("/columns", post(contacts::save_columns))
        .route("/downloads", post(downloads::start))
        .route("/downloads/{export_id}", get(downloads::page))
        .route(
            "/contacts/new",
            get(contact_form::new_form).post(contact_form::create),
        )
        .route("/contacts/{messaging_id}", get(contact_page::details))
        .route(
            "/contacts/{messaging_id}/edit",
            get(contact_form::edit_form).post(contact_form::edit),
        )
        .route(
            "/contacts/{messaging_id}/consent",
            get(contact_page::consent_dialog).post(contact_page::update_consent),
        )
        .route(
            "/contacts/{messaging_id}/delete",
            get(contact_page::delete_dialog).post(contact_page::delete),
        )
        .route(
            "/contacts/{messaging_id}/personal-data",
            get(contact_page::personal_data),
        )
        .route(
            "/contacts/{messaging_id}/erase",
            get(contact_page::erase_dialog).post(contact_page::erase),
        )
        .route("/upload", get(upload::page))
        .route("/upload/template", get(upload::template))
        .route(
            "/upload/preview",
            post(upload::preview).layer(axum::extract::DefaultBodyLimit::max(
                crate::import::preview::MAX_BYTES,
            )),
        )
        .route("/upload/start", post(upload::start))
        .route("/imports/{import_id}", get(imports::page))
        .route("/duplicates", get(duplicates::page))
        .route("/duplicates/dismiss", post(duplicates::dismiss))
        .route("/duplicates/scans", post(duplicates::start_scan))
        .route("/duplicates/merge", get(merge::screen).post(merge::merge))
        .route("/lists", get(lists::page).post(lists::create))
        .route(
            "/lists/{id}/rename",
            get(lists::rename_form).post(lists::rename),
        )
        .route(
            "/lists/{id}/delete",
            get(lists::delete_form).post(lists::delete),
        )
        .route(
            "/attributes",
            get(attributes::page).post(attributes::create),
        )
        .route(
            "/attributes/{name}/edit",
            get(attributes::edit_form).post(attributes::edit),
        )
        .route(
            "/attributes/{name}/delete",
            get(attributes::delete_form).post(attributes::delete),
        )
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/callback", get(sign_in::callback))
        .route("/sign-out", post(sign_in::sign_out))
        .route(assets::STYLESHEET, get(assets::stylesheet))
        .route(assets::SCRIPT, get(assets::script))
        .fallback(failure::not_found)
        .layer(axum::middleware::from_fn_with_state(
            headers::PageHeaders::new(console.app.imports.as_ref().map(|p| p.objects.clone())),
            headers::add,
        ))
        .with_state(console)
}
