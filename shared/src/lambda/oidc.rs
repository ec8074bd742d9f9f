//! Signing in to the console on AWS: OpenID Connect's authorization code
//! flow with PKCE at the issuer whose tokens the API's JWT authorizer
//! accepts. The ID token it returns is the session, checked on every
//! request as the authorizer checks the API's bearer tokens: signed by a
//! key of the issuer's JWKS, from that issuer, for this client, unexpired;
//! its workspace claim names the workspace.

use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use crate::console::{Credentials, Provider, SignInSecrets};
use crate::model::WorkspaceId;

/// The signature algorithms a session token may use: public-key ones only
/// (never `none` or a shared secret), whatever the token's header says.
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// How often an unknown key ID may make the keys be fetched again (keys
/// rotate; a forged key ID must not make every request fetch them).
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// How often the keys are read again anyway, so that a key the issuer
/// removed stops being trusted.
pub const KEY_REFRESH: Duration = Duration::from_secs(60 * 60);
/// The wait after the first failed fetch of the keys; it doubles with each
/// failure in a row, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// The issuer's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The issuer's keys as last read, and when they may be read again.
struct Keys {
    set: JwkSet,
    read_at: Instant,
    next_fetch: Instant,
    failures: u32,
}

/// An OpenID Connect issuer and this console's client at it.
pub struct Oidc {
    issuer: String,
    client_id: String,
    claim: String,
    console_url: Option<String>,
    key_refresh: Duration,
    endpoints: Endpoints,
    keys: RwLock<Keys>,
    /// Held while the keys are fetched: one fetch at a time.
    fetching: Mutex<()>,
    http: reqwest::Client,
}

/// What the console needs to know of its issuer.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL (the JWT authorizer's `issuer`).
    pub issuer: String,
    /// The console's client ID (one of the authorizer's audiences).
    pub client_id: String,
    /// The claim that names the workspace.
    pub claim: String,
    /// Where the console is served, e.g. `https://contacts.example.com`;
    /// `None`: the host each request names (API Gateway serves only its own).
    pub console_url: Option<String>,
    /// How often the issuer's keys are read again ([`KEY_REFRESH`]).
    pub key_refresh: Duration,
}

impl Oidc {
    /// Reads the issuer's discovery document and keys.
    pub async fn discover(config: OidcConfig) -> anyhow::Result<Self> {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        );
        let endpoints: Endpoints = get_json(&http, &discovery).await?;
        let set: JwkSet = get_json(&http, &endpoints.jwks_uri).await?;
        let now = Instant::now();
        Ok(Self {
            console_url: config
                .console_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            issuer: config.issuer,
            client_id: config.client_id,
            claim: config.claim,
            keys: RwLock::new(Keys {
                set,
                read_at: now,
                next_fetch: now + REFRESH_AT_MOST_EVERY.min(config.key_refresh),
                failures: 0,
            }),
            key_refresh: config.key_refresh,
            endpoints,
            fetching: Mutex::new(()),
            http,
        })
    }

    /// The key a token names: from the keys as last read, read again when
    /// they are older than the refresh period or don't have it — at most
    /// once a minute, one fetch at a time, backing off while fetches fail.
    async fn key(&self, kid: &str) -> Option<Jwk> {
        {
            let keys = self.keys.read().await;
            let fresh = keys.read_at.elapsed() < self.key_refresh;
            let found = keys.set.find(kid);
            if (fresh && found.is_some()) || Instant::now() < keys.next_fetch {
                return found.cloned();
            }
        }
        self.fetch_keys().await;
        self.keys.read().await.set.find(kid).cloned()
    }

    /// Reads the keys again, unless another request just did or a failed
    /// fetch is still being waited out.
    async fn fetch_keys(&self) {
        let _one_at_a_time = self.fetching.lock().await;
        if Instant::now() < self.keys.read().await.next_fetch {
            return;
        }
        let fetched: anyhow::Result<JwkSet> = get_json(&self.http, &self.endpoints.jwks_uri).await;
        let mut keys = self.keys.write().await;
        let now = Instant::now();
        match fetched {
            Ok(set) => {
                *keys = Keys {
                    set,
                    read_at: now,
                    next_fetch: now + REFRESH_AT_MOST_EVERY.min(self.key_refresh),
                    failures: 0,
                };
            }
            Err(error) => {
                keys.failures = keys.failures.saturating_add(1);
                let wait = FIRST_BACKOFF
                    .saturating_mul(1 << keys.failures.min(16).saturating_sub(1))
                    .min(MAX_BACKOFF);
                keys.next_fetch = now + wait;
                tracing::warn!(error = %error, retry_in_seconds = wait.as_secs(), "fetching the issuer's keys failed");
            }
        }
    }

    /// The claims of a token signed by one of the issuer's keys with an
    /// allowed algorithm that key is for, from this issuer, for this
    /// client, unexpired.
    async fn verified_claims(&self, token: &str) -> Option<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if !ALGORITHMS.contains(&header.alg) {
            tracing::info!(alg = ?header.alg, "a session token's algorithm is not allowed");
            return None;
        }
        let jwk = self.key(header.kid.as_deref()?).await?;
        let for_this = jwk
            .common
            .key_algorithm
            .is_none_or(|alg| alg == KeyAlgorithm::from(header.alg));
        let for_signing = jwk
            .common
            .public_key_use
            .as_ref()
            .is_none_or(|usage| *usage == PublicKeyUse::Signature);
        if !for_this || !for_signing {
            tracing::info!(alg = ?header.alg, "a session token's key is not for its algorithm");
            return None;
        }
        let key = DecodingKey::from_jwk(&jwk).ok()?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| tracing::info!(error = %e, "a session token was refused"))
            .ok()
            .map(|data| data.claims)
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<T> {
    http.get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("GET {url}"))?
        .json()
        .await
        .with_context(|| format!("reading {url}"))
}

#[async_trait]
impl Credentials for Oidc {
    async fn workspace(&self, token: &str) -> Option<WorkspaceId> {
        let claims = self.verified_claims(token).await?;
        WorkspaceId::parse(claims.get(&self.claim)?.as_str()?).ok()
    }

    /// `sub:` and the ID token's subject.
    async fn actor(&self, token: &str) -> String {
        let subject = self.verified_claims(token).await.and_then(|claims| {
            claims
                .get("sub")
                .and_then(|sub| sub.as_str())
                .map(str::to_owned)
        });
        subject.map_or_else(|| "console".to_owned(), |sub| format!("sub:{sub}"))
    }

    fn provider(&self) -> Option<&dyn Provider> {
        Some(self)
    }
}

#[async_trait]
impl Provider for Oidc {
    fn console_url(&self) -> Option<&str> {
        self.console_url.as_deref()
    }

    fn authorize_url(&self, redirect_uri: &str, sign_in: &SignInSecrets) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", sign_in.state.as_str()),
            ("nonce", sign_in.nonce.as_str()),
            ("code_challenge", sign_in.challenge().as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        format!("{}?{query}", self.endpoints.authorization_endpoint)
    }

    async fn exchange(
        &self,
        redirect_uri: &str,
        code: &str,
        sign_in: &SignInSecrets,
    ) -> anyhow::Result<String> {
        #[derive(Deserialize)]
        struct Tokens {
            id_token: String,
        }
        let tokens: Tokens = self
            .http
            .post(&self.endpoints.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.client_id.as_str()),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", sign_in.verifier.as_str()),
            ])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("the issuer refused the sign-in code")?
            .json()
            .await
            .context("the issuer's token response has no ID token")?;
        let claims = self
            .verified_claims(&tokens.id_token)
            .await
            .context("the issuer's ID token is not valid")?;
        if claims.get("nonce").and_then(Value::as_str) != Some(sign_in.nonce.as_str()) {
            anyhow::bail!("the ID token was not issued for this sign-in (its nonce differs)");
        }
        Ok(tokens.id_token)
    }
}
