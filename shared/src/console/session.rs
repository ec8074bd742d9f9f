//! Who is signed in to the console: a workspace token kept in a `Secure`,
//! `HttpOnly`, `SameSite=Strict` cookie and checked on every request, and
//! the CSRF token every form that changes data must carry.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{KeyInit, Mac};

use super::Console;
use super::failure::Failure;
use crate::http::auth::BearerTokens;
use crate::model::WorkspaceId;

/// The cookie holding the signed-in token.
const SESSION_COOKIE: &str = "contacts_session";
/// The cookie holding a one-time message for the next page.
const NOTICE_COOKIE: &str = "contacts_notice";
/// The form field (and header, for scripts) carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Turns a token typed on the sign-in page into the workspace it opens.
pub trait Credentials: Send + Sync {
    /// The workspace `token` opens, if any.
    fn workspace(&self, token: &str) -> Option<WorkspaceId>;
}

impl Credentials for BearerTokens {
    fn workspace(&self, token: &str) -> Option<WorkspaceId> {
        self.workspace_for(token).cloned()
    }
}

/// The key CSRF tokens are derived with; new for every process, so a form
/// rendered before a restart must be reloaded.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    /// A fresh random key.
    pub fn generate() -> anyhow::Result<Self> {
        let mut key = [0; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        Ok(Self(key))
    }

    fn mac(&self, token: &str) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"csrf\0");
        mac.update(token.as_bytes());
        mac
    }

    /// The CSRF token of a session.
    fn token_for(&self, session: &str) -> String {
        hex::encode(self.mac(session).finalize().into_bytes())
    }

    /// Whether `given` is the session's CSRF token (in constant time).
    fn verify(&self, session: &str, given: &str) -> bool {
        hex::decode(given).is_ok_and(|bytes| self.mac(session).verify_slice(&bytes).is_ok())
    }
}

/// A signed-in user: their workspace, the CSRF token their forms carry, and
/// the one-time message left for this page, if any.
pub struct Session {
    pub workspace: WorkspaceId,
    pub csrf: String,
    pub notice: Option<String>,
    token: String,
}

impl FromRequestParts<Console> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Failure> {
        let token = cookie(&parts.headers, SESSION_COOKIE);
        let workspace = token
            .as_deref()
            .and_then(|token| console.credentials.workspace(token));
        match (token, workspace) {
            (Some(token), Some(workspace)) => Ok(Self {
                workspace,
                csrf: console.csrf.token_for(&token),
                notice: cookie(&parts.headers, NOTICE_COOKIE),
                token,
            }),
            _ => Err(Failure::SignIn(return_to(parts))),
        }
    }
}

/// Where to come back to after signing in: this page, if it was a `GET`.
fn return_to(parts: &Parts) -> String {
    if parts.method == axum::http::Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned())
    } else {
        "/".to_owned()
    }
}

/// A form submitted by the signed-in user, with its CSRF token checked:
/// the fields in order, without the token.
pub struct Submitted {
    pub session: Session,
    pub fields: Vec<(String, String)>,
}

impl Submitted {
    /// The first value of `name`, if given and not blank.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.trim().is_empty())
    }

    /// Every value of `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.fields
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl FromRequest<Console> for Submitted {
    type Rejection = Failure;

    async fn from_request(request: Request, console: &Console) -> Result<Self, Failure> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, console).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), console)
            .await
            .map_err(|_| Failure::Expired)?;
        let mut fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| Failure::Expired)?;
        let given = fields
            .iter()
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value.as_str());
        session.check(console, given)?;
        fields.retain(|(key, _)| key != CSRF_FIELD);
        Ok(Self { session, fields })
    }
}

impl Session {
    /// Refuses a request whose CSRF token isn't this session's.
    fn check(&self, console: &Console, given: Option<&str>) -> Result<(), Failure> {
        if given.is_some_and(|given| console.csrf.verify(&self.token, given)) {
            Ok(())
        } else {
            Err(Failure::Expired)
        }
    }
}

/// A call from the console's script that changes data: signed in, with the
/// session's CSRF token in the `X-CSRF-Token` header (the body is the
/// handler's to read).
pub struct ScriptCall(pub Session);

impl FromRequestParts<Console> for ScriptCall {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Failure> {
        let session = Session::from_request_parts(parts, console).await?;
        let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        session.check(console, given)?;
        Ok(Self(session))
    }
}

/// The value of the cookie `name`, if sent.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()
                .map(|v| v.into_owned())
        })
        .filter(|value| !value.is_empty())
}

fn set_cookie(name: &str, value: &str, max_age: u64) -> HeaderValue {
    let value = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("contacts_invalid=; Max-Age=0"))
}

/// Signs in with `token` (already checked) and goes to `next`.
pub fn signed_in(token: &str, next: &str) -> Response {
    let mut response = Redirect::to(next).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SESSION_COOKIE, token, 12 * 60 * 60));
    response
}

/// Signs out and shows the sign-in page.
pub fn signed_out() -> Response {
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
    response
}

/// Goes to `to`, leaving `notice` for the page there.
pub fn redirect_with_notice(to: &str, notice: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(NOTICE_COOKIE, notice, 60));
    response
}

/// Clears the notice a page has shown.
pub fn clear_notice(response: &mut Response) {
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(NOTICE_COOKIE, "", 0));
}
