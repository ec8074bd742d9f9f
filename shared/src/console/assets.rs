//! The console's stylesheet and script, embedded in the binary.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

/// Where the stylesheet is served.
pub const STYLESHEET: &str = "/assets/console.css";
/// Where the script is served.
pub const SCRIPT: &str = "/assets/console.js";

const CACHE: &str = "public, max-age=300";

/// The stylesheet.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, CACHE),
        ],
        include_str!("assets/console.css"),
    )
}

/// The script.
pub async fn script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, CACHE),
        ],
        include_str!("assets/console.js"),
    )
}
