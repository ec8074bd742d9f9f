//! Signing in: locally a page that takes a workspace token; with an
//! identity provider, its sign-in page (OpenID Connect's authorization code
//! flow with PKCE) and the way back. Either way the session cookie ends up
//! holding the token the console checks on every request.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::page;
use super::session::{
    PendingSignIn, Provider, SignInSecrets, Submitted, pending_sign_in, signed_in, signed_in_page,
    signed_out, started_sign_in,
};
use super::{Console, Failure};

/// Where to go once signed in, as asked (`?next=` or the form's field).
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    next: Option<String>,
}

impl Next {
    /// The path asked for if it is one of this console's, else `/`.
    fn path(&self) -> ReturnPath {
        self.next
            .as_deref()
            .and_then(ReturnPath::parse)
            .unwrap_or_default()
    }
}

/// A path of this console to come back to: one `/` followed by anything
/// but `/` or `\`, and only visible ASCII without `\` (browsers drop tabs
/// and newlines from a URL, so `/<TAB>/evil.example` would be
/// `//evil.example`, another site). Anything else is `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath(String);

impl ReturnPath {
    /// `raw` if it is a path of this console.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix('/')?;
        let clean = raw.chars().all(|c| c.is_ascii_graphic() && c != '\\');
        (clean && !rest.starts_with('/')).then(|| Self(raw.to_owned()))
    }
}

impl Default for ReturnPath {
    fn default() -> Self {
        Self("/".to_owned())
    }
}

impl AsRef<str> for ReturnPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The sign-in page, or the identity provider's.
pub async fn form(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    match console.credentials.provider() {
        Some(provider) => start(provider, &headers, &next),
        None => render(&next, None),
    }
}

/// Where the provider sends the browser back to: the console's fixed URL,
/// or the host this request was sent to (behind API Gateway, only the
/// API's own domains reach the function).
fn redirect_uri(provider: &dyn Provider, headers: &HeaderMap) -> Option<String> {
    let base = match provider.console_url() {
        Some(url) => url.to_owned(),
        None => format!("https://{}", headers.get(HOST)?.to_str().ok()?),
    };
    Some(format!("{base}/sign-in/callback"))
}

/// Sends the browser to the provider, remembering this sign-in's state,
/// PKCE verifier, nonce and destination in a short-lived cookie.
fn start(provider: &dyn Provider, headers: &HeaderMap, next: &Next) -> Response {
    let (Some(secrets), Some(back)) = (SignInSecrets::new(), redirect_uri(provider, headers))
    else {
        return Failure::Domain(anyhow::anyhow!("a sign-in could not start").into())
            .into_response();
    };
    let mut response = Redirect::to(&provider.authorize_url(&back, &secrets)).into_response();
    let pending = PendingSignIn {
        secrets,
        next: next.path(),
    };
    started_sign_in(&mut response, &pending);
    response
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
}

/// The way back from the provider: checks that this browser started this
/// sign-in, exchanges the code for the ID token, and opens the session.
pub async fn callback(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Response {
    let Some(provider) = console.credentials.provider() else {
        return Redirect::to("/sign-in").into_response();
    };
    let failed = |why: &str| {
        page::bare(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            html! { p { (why) } p { a href="/sign-in" { "Sign in again" } } },
        )
    };
    let Some(pending) = pending_sign_in(&headers) else {
        return failed("This sign-in has expired or was started in another browser.");
    };
    if let Some(why) = back.error_description {
        return failed(&format!("The identity provider said: {why}"));
    }
    let (Some(code), Some(state)) = (back.code, back.state) else {
        return failed("The identity provider sent no sign-in code.");
    };
    if state != pending.secrets.state {
        return failed("This sign-in was not started in this browser.");
    }
    let Some(back) = redirect_uri(provider, &headers) else {
        return failed("The request names no host to come back to.");
    };
    let token = match provider.exchange(&back, &code, &pending.secrets).await {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(error = %error, "a sign-in code was refused");
            return failed(
                "The identity provider refused the sign-in; it may have been used already.",
            );
        }
    };
    if console.credentials.workspace(&token).await.is_none() {
        return failed(
            "Your account is not a member of any workspace. Ask an administrator for access.",
        );
    }
    signed_in_page(&token, &pending.next)
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
                input type="hidden" name="next" value=(next.path().as_ref());
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

/// Checks a typed token; a good one opens the session. A sign-in posted
/// from another site is refused: it would plant someone else's session.
pub async fn submit(State(console): State<Console>, headers: HeaderMap, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct Form {
        token: String,
        next: Option<String>,
    }
    if console.credentials.provider().is_some() {
        return Redirect::to("/sign-in").into_response();
    }
    if !sent_from_this_site(&headers) {
        return page::bare(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            html! {
                p { "This sign-in was sent from another site, so it was refused. Nothing was changed." }
                p { a href="/sign-in" { "Sign in here" } }
            },
        );
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Form>(&body) else {
        return render(&Next::default(), Some("Enter your access token."));
    };
    let next = Next { next: form.next };
    let token = form.token.trim();
    if console.credentials.workspace(token).await.is_none() {
        return render(
            &next,
            Some("This token is not recognised. Check it and try again."),
        );
    }
    signed_in(token, &next.path())
}

/// Whether the browser says the request comes from a page of this site
/// (`Sec-Fetch-Site`, else `Origin` against `Host`); a client that sends
/// neither is not a browser posting across sites.
fn sent_from_this_site(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        Some(origin) => {
            let authority = origin
                .split_once("://")
                .map(|(_, authority)| authority.trim_end_matches('/'));
            authority.is_some() && authority == header(HOST.as_str())
        }
        None => true,
    }
}

/// Ends the session.
pub async fn sign_out(_: Submitted) -> Result<Response, Failure> {
    Ok(signed_out())
}
