//! Who is signed in to the console: a workspace token kept in a `Secure`,
//! `HttpOnly`, `SameSite=Strict` cookie and checked on every request, and
//! the CSRF token every form that changes data must carry.

use async_trait::async_trait;

use crate::AppState;
use crate::audit::Audit;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

use super::Console;
use super::failure::Failure;
use super::sign_in::ReturnPath;
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

/// Turns a session token into the workspace it opens: a workspace token
/// typed on the sign-in page (locally), or an identity provider's ID token
/// (on AWS).
#[async_trait]
pub trait Credentials: Send + Sync {
    /// The workspace `token` opens, if it is (still) good.
    async fn workspace(&self, token: &str) -> Option<WorkspaceId>;

    /// Who `token` signs in as, for records of who did what (never a
    /// secret): asked only of a good token.
    async fn actor(&self, token: &str) -> String;

    /// The identity provider people sign in at; `None`: they type a token.
    fn provider(&self) -> Option<&dyn Provider> {
        None
    }
}

#[async_trait]
impl Credentials for BearerTokens {
    async fn workspace(&self, token: &str) -> Option<WorkspaceId> {
        self.workspace_for(token).cloned()
    }

    async fn actor(&self, token: &str) -> String {
        crate::http::auth::token_actor(token)
    }
}

/// An OpenID Connect issuer: where the browser signs in, and the exchange
/// of the code it comes back with for the session token.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Where the console is served, if fixed; else the host a request names.
    fn console_url(&self) -> Option<&str>;

    /// The issuer's sign-in page for this sign-in, coming back to
    /// `redirect_uri`.
    fn authorize_url(&self, redirect_uri: &str, sign_in: &SignInSecrets) -> String;

    /// The session token for the `code` the browser brought back to this
    /// sign-in: an ID token issued for its nonce.
    async fn exchange(
        &self,
        redirect_uri: &str,
        code: &str,
        sign_in: &SignInSecrets,
    ) -> anyhow::Result<String>;
}

/// What ties a sign-in at the provider to the browser that started it:
/// the `state` it comes back with, the PKCE verifier, and the `nonce` its
/// ID token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSecrets {
    pub state: String,
    pub verifier: String,
    pub nonce: String,
}

impl SignInSecrets {
    /// Fresh random secrets; `None` if the system has no randomness to give.
    pub fn new() -> Option<Self> {
        Some(Self {
            state: random_text(16)?,
            verifier: random_text(32)?,
            nonce: random_text(16)?,
        })
    }

    /// The PKCE challenge of the verifier (S256).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(self.verifier.as_bytes()))
    }
}

fn random_text(bytes: usize) -> Option<String> {
    let mut buffer = vec![0; bytes];
    getrandom::fill(&mut buffer).ok()?;
    Some(URL_SAFE_NO_PAD.encode(buffer))
}

/// A session's CSRF token: a digest of the session token, so that only
/// whoever holds the cookie knows it, and any server instance can check it
/// without shared state.
fn csrf_token(session: &str) -> String {
    let mut digest = sha2::Sha256::new();
    digest.update(b"contacts-console-csrf\0");
    digest.update(session.as_bytes());
    hex::encode(digest.finalize())
}

/// A signed-in user: their workspace, the CSRF token their forms carry, and
/// the one-time message left for this page, if any.
pub struct Session {
    pub workspace: WorkspaceId,
    /// Who is signed in (see [`Credentials::actor`]).
    pub actor: String,
    pub csrf: String,
    pub notice: Option<String>,
}

impl Session {
    /// Records the changes this user makes.
    pub fn audit<'a>(&'a self, app: &'a AppState) -> Audit<'a> {
        app.audit(&self.workspace, &self.actor)
    }
}

impl FromRequestParts<Console> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Failure> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Failure::SignIn(return_to(parts)));
        };
        match console.credentials.workspace(&token).await {
            Some(workspace) => Ok(Self {
                workspace,
                actor: console.credentials.actor(&token).await,
                csrf: csrf_token(&token),
                notice: cookie(&parts.headers, NOTICE_COOKIE),
            }),
            None => Err(Failure::SignIn(return_to(parts))),
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
        session.check(given)?;
        fields.retain(|(key, _)| key != CSRF_FIELD);
        Ok(Self { session, fields })
    }
}

impl Session {
    /// Refuses a request whose CSRF token isn't this session's (compared
    /// in constant time).
    fn check(&self, given: Option<&str>) -> Result<(), Failure> {
        let same = given.is_some_and(|given| {
            given.len() == self.csrf.len()
                && given
                    .bytes()
                    .zip(self.csrf.bytes())
                    .fold(0, |diff, (a, b)| diff | (a ^ b))
                    == 0
        });
        if same { Ok(()) } else { Err(Failure::Expired) }
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
        session.check(given)?;
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
    cookie_header(name, value, max_age, "Path=/; SameSite=Strict")
}

fn cookie_header(name: &str, value: &str, max_age: u64, scope: &str) -> HeaderValue {
    let value = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "{name}={value}; {scope}; Max-Age={max_age}; HttpOnly; Secure"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("contacts_invalid=; Max-Age=0"))
}

/// The cookie of a sign-in under way at the identity provider: `Lax`, as
/// the way back is a navigation from the provider's site.
const SIGN_IN_COOKIE: &str = "contacts_sign_in";
const SIGN_IN_SCOPE: &str = "Path=/sign-in; SameSite=Lax";

/// A sign-in this browser started.
pub struct PendingSignIn {
    pub secrets: SignInSecrets,
    pub next: ReturnPath,
}

/// Remembers, for ten minutes, a sign-in sent to the provider.
pub fn started_sign_in(response: &mut Response, sign_in: &PendingSignIn) {
    let SignInSecrets {
        state,
        verifier,
        nonce,
    } = &sign_in.secrets;
    response.headers_mut().append(
        SET_COOKIE,
        cookie_header(
            SIGN_IN_COOKIE,
            &format!("{state} {verifier} {nonce} {}", sign_in.next.as_ref()),
            600,
            SIGN_IN_SCOPE,
        ),
    );
}

/// The sign-in this browser started, if any.
pub fn pending_sign_in(headers: &HeaderMap) -> Option<PendingSignIn> {
    let value = cookie(headers, SIGN_IN_COOKIE)?;
    let mut parts = value.splitn(4, ' ');
    Some(PendingSignIn {
        secrets: SignInSecrets {
            state: parts.next()?.to_owned(),
            verifier: parts.next()?.to_owned(),
            nonce: parts.next()?.to_owned(),
        },
        next: parts.next().and_then(ReturnPath::parse).unwrap_or_default(),
    })
}

/// Opens the session with `token` and goes on to `next` from a page of
/// this site: a `SameSite=Strict` cookie set on the way back from another
/// site is sent only with a request this site starts.
pub fn signed_in_page(token: &str, next: &ReturnPath) -> Response {
    let next = next.as_ref();
    let mut response = super::page::bare(
        axum::http::StatusCode::OK,
        "Signed in",
        maud::html! {
            meta http-equiv="refresh" content=(format!("0;url={next}"));
            p { a href=(next) { "Continue" } }
        },
    );
    let headers = response.headers_mut();
    headers.append(SET_COOKIE, set_cookie(SESSION_COOKIE, token, 12 * 60 * 60));
    headers.append(
        SET_COOKIE,
        cookie_header(SIGN_IN_COOKIE, "", 0, SIGN_IN_SCOPE),
    );
    response
}

/// Signs in with `token` (already checked) and goes to `next`.
pub fn signed_in(token: &str, next: &ReturnPath) -> Response {
    let mut response = Redirect::to(next.as_ref()).into_response();
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
