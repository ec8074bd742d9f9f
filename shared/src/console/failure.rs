//! Every console error leaves here, once, as a page a person can act on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::page;
use crate::error::Error;

/// Why a console request did not get its page.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Nobody is signed in; sign in, then come back to this path.
    #[error("sign in first")]
    SignIn(String),
    /// A form without this session's CSRF token: forged, or rendered before
    /// the server restarted.
    #[error("this form has expired")]
    Expired,
    /// The domain refused or failed.
    #[error(transparent)]
    Domain(#[from] Error),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::SignIn(next) => {
                let next: String = form_urlencoded(&next);
                Redirect::to(&format!("/sign-in?next={next}")).into_response()
            }
            Failure::Expired => page::bare(
                StatusCode::FORBIDDEN,
                "This form has expired",
                html! {
                    p { "The page was open too long, or the server restarted since it was loaded. Nothing was changed." }
                    p { "Go back with your browser, reload the page, then try again." }
                    p { a href="/" { "Back to All Contacts" } }
                },
            ),
            Failure::Domain(error) => {
                let (status, title) = error.status_and_title();
                let detail = match &error {
                    Error::Unexpected(cause) => {
                        tracing::error!(error = ?cause, "console request failed");
                        "Something went wrong on our side. Please try again.".to_owned()
                    }
                    other => sentence(&other.in_words()),
                };
                page::bare(
                    status,
                    title,
                    html! {
                        p { (detail) }
                        p { a href="/" { "Back to All Contacts" } }
                    },
                )
            }
        }
    }
}

/// An unknown path: a page for a browser, the API's problem for anything
/// else (and for every path of the API).
pub async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let wants_page = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_page || path.starts_with("/v1/") || path.starts_with("/objects/") {
        return Error::RouteNotFound(path).into_response();
    }
    page::bare(
        StatusCode::NOT_FOUND,
        "Page not found",
        html! {
            p { "There is no page at " code { (path) } "." }
            p { a href="/" { "Go to All Contacts" } }
        },
    )
}

/// A message as a sentence: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

/// `text` encoded for a query string.
pub fn form_urlencoded(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|encoded| encoded.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
