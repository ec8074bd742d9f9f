//! Signing in to the console on AWS: OpenID Connect's authorization code
//! flow with PKCE at the issuer whose tokens the API's JWT authorizer
//! accepts. The ID token it returns is the session, checked on every
//! request as the authorizer checks the API's bearer tokens: signed by a
//! key of the issuer's JWKS, from that issuer, for this client, unexpired;
//! its workspace claim names the workspace.

use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::console::{Credentials, Provider};
use crate::model::WorkspaceId;

/// How often an unknown key ID may make the keys be fetched again (keys
/// rotate; a forged key ID must not make every request fetch them).
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// The issuer's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// An OpenID Connect issuer and this console's client at it.
pub struct Oidc {
    issuer: String,
    client_id: String,
    claim: String,
    console_url: Option<String>,
    endpoints: Endpoints,
    keys: RwLock<(JwkSet, Instant)>,
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
        let keys: JwkSet = get_json(&http, &endpoints.jwks_uri).await?;
        Ok(Self {
            console_url: config
                .console_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            issuer: config.issuer,
            client_id: config.client_id,
            claim: config.claim,
            endpoints,
            keys: RwLock::new((keys, Instant::now())),
            http,
        })
    }

    /// The key a token names, fetching the keys again (at most once a
    /// minute) when it names one not seen yet.
    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        {
            let keys = self.keys.read().await;
            if let Some(jwk) = keys.0.find(kid) {
                return DecodingKey::from_jwk(jwk).ok();
            }
            if keys.1.elapsed() < REFRESH_AT_MOST_EVERY {
                return None;
            }
        }
        let fresh: JwkSet = get_json(&self.http, &self.endpoints.jwks_uri)
            .await
            .map_err(|e| tracing::warn!(error = %e, "fetching the issuer's keys failed"))
            .ok()?;
        let key = fresh
            .find(kid)
            .and_then(|jwk| DecodingKey::from_jwk(jwk).ok());
        *self.keys.write().await = (fresh, Instant::now());
        key
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
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.key(header.kid.as_deref()?).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| tracing::info!(error = %e, "a session token was refused"))
            .ok()?
            .claims;
        WorkspaceId::parse(claims.get(&self.claim)?.as_str()?).ok()
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

    fn authorize_url(&self, redirect_uri: &str, state: &str, challenge: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", state),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        format!("{}?{query}", self.endpoints.authorization_endpoint)
    }

    async fn exchange(
        &self,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
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
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("the issuer refused the sign-in code")?
            .json()
            .await
            .context("the issuer's token response has no ID token")?;
        Ok(tokens.id_token)
    }
}
