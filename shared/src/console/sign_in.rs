//! The sign-in page: a workspace token, kept in the session cookie.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::page;
use super::session::{Submitted, signed_in, signed_out};
use super::{Console, Failure};
use axum::body::Bytes;

/// Where to go once signed in.
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    next: Option<String>,
}

impl Next {
    /// A path on this site (never another site).
    fn path(&self) -> &str {
        self.next
            .as_deref()
            .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
            .unwrap_or("/")
    }
}

/// The sign-in form.
pub async fn form(Query(next): Query<Next>) -> Response {
    render(&next, None)
}

fn render(next: &Next, problem: Option<&str>) -> Response {
    page::bare(
        if problem.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        "Sign in",
        html! {
            p { "Sign in with your workspace's access token." }
            form method="post" action="/sign-in" {
                input type="hidden" name="next" value=(next.path());
                div.field .invalid[problem.is_some()] {
                    label for="token" { "Access token" }
                    input #token name="token" type="password" autocomplete="current-password" required autofocus
                        aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| "token-error")];
                    @if let Some(problem) = problem { p.error #token-error { (problem) } }
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}

/// Checks the token; a good one opens the session.
pub async fn submit(State(console): State<Console>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct Form {
        token: String,
        next: Option<String>,
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return render(&Next::default(), Some("Enter your access token."));
    };
    let next = Next { next: form.next };
    let token = form.token.trim();
    if console.credentials.workspace(token).is_none() {
        return render(
            &next,
            Some("This token is not recognised. Check it and try again."),
        );
    }
    signed_in(token, next.path())
}

/// Ends the session.
pub async fn sign_out(_: Submitted) -> Result<Response, Failure> {
    Ok(signed_out())
}
