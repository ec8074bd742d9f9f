//! What the Lambda functions share: state from the environment, the
//! workspace from the JWT authorizer, and S3 event decoding; and the import
//! function.

pub mod continuations;
pub mod export;
pub mod import;
pub mod oidc;
pub mod scan;
mod turns;

use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::event::s3::S3Event;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::audit::Retention;
use crate::error::{Error, Result};
use crate::http::auth::WorkspaceResolver;
use crate::model::WorkspaceId;
use crate::store::dynamo::DynamoStore;
use crate::store::objects::ObjectKey;
use crate::store::objects::ObjectStore;
use crate::store::s3::S3ObjectStore;
use crate::{AppState, ExportPorts, ScanPorts};
use continuations::ContinuationQueue;

/// The JWT claim that names the workspace, unless `CONTACTS_WORKSPACE_CLAIM` says otherwise.
pub const DEFAULT_WORKSPACE_CLAIM: &str = "workspace_id";

/// Reads the workspace from a claim of the API Gateway JWT authorizer.
#[derive(Debug, Clone)]
pub struct JwtClaim(pub String);

/// The verified claims of the request's JWT.
fn claims(request: &Parts) -> Option<&std::collections::HashMap<String, String>> {
    match request.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    }
}

impl WorkspaceResolver for JwtClaim {
    fn resolve(&self, request: &Parts) -> Result<WorkspaceId> {
        let claims =
            claims(request).ok_or(Error::Unauthorized("the request carries no verified token"))?;
        let value = claims
            .get(&self.0)
            .ok_or(Error::Unauthorized("the token names no workspace"))?;
        WorkspaceId::parse(value)
            .map_err(|_| Error::Unauthorized("the token's workspace is malformed"))
    }

    /// The token's `sub`.
    fn actor(&self, request: &Parts) -> String {
        claims(request)
            .and_then(|claims| claims.get("sub"))
            .map_or_else(|| "jwt".to_owned(), |sub| format!("sub:{sub}"))
    }
}

/// Builds the state of an HTTP function from its environment, once per
/// cold start: `CONTACTS_TABLE` (required), `CONTACTS_BUCKET` (imports are
/// served where it is set, and exports where `CONTACTS_EXPORT_QUEUE`, the
/// export queue's URL, is set too), `CONTACTS_WORKSPACE_CLAIM`,
/// `CONTACTS_USAGE_LIMIT`, `CONTACTS_AUDIT_RETENTION_DAYS`, and the SDK's own (`AWS_REGION`,
/// `AWS_ENDPOINT_URL` to point at a stand-in, …).
pub async fn state_from_env() -> anyhow::Result<AppState> {
    state_over(&aws_config::load_from_env().await)
}

/// The state over the table `CONTACTS_TABLE` names, with scans for similar
/// names through the queue `CONTACTS_SCAN_QUEUE` names, if it is set;
/// imports over the bucket `CONTACTS_BUCKET` names, if it is set, and
/// exports through the queue `CONTACTS_EXPORT_QUEUE` names, if that is set too.
fn state_over(config: &aws_config::SdkConfig) -> anyhow::Result<AppState> {
    let table = std::env::var("CONTACTS_TABLE").context("CONTACTS_TABLE is not set")?;
    let claim = workspace_claim();
    let usage_limit = std::env::var("CONTACTS_USAGE_LIMIT")
        .ok()
        .map(|limit| {
            limit
                .parse()
                .with_context(|| format!("CONTACTS_USAGE_LIMIT={limit:?} is not a whole number"))
        })
        .transpose()?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table);
    let retention = Retention::from_env(|key| std::env::var(key).ok())?;
    let mut state = AppState::over(store.clone(), Arc::new(JwtClaim(claim)), usage_limit)
        .with_audit_retention(retention);
    if let Ok(queue) = std::env::var("CONTACTS_SCAN_QUEUE") {
        state = state.with_scans(ScanPorts {
            store: Arc::new(store.clone()),
            launcher: Arc::new(ContinuationQueue::new(
                aws_sdk_sqs::Client::new(config),
                queue,
            )),
        });
    }
    let Ok(bucket) = std::env::var("CONTACTS_BUCKET") else {
        return Ok(state);
    };
    let objects: Arc<dyn ObjectStore> = Arc::new(S3ObjectStore::new(s3_client(config), bucket));
    let store = Arc::new(store);
    let state = state.with_imports(store.clone(), objects.clone());
    Ok(match std::env::var("CONTACTS_EXPORT_QUEUE") {
        Ok(queue) => state.with_exports(ExportPorts {
            store,
            objects,
            launcher: Arc::new(ContinuationQueue::new(
                aws_sdk_sqs::Client::new(config),
                queue,
            )),
        }),
        Err(_) => state,
    })
}

/// The web console's state from the environment: the API's
/// ([`state_from_env`]) and sign-in at the OpenID Connect issuer
/// `CONTACTS_OIDC_ISSUER` as client `CONTACTS_OIDC_CLIENT_ID`, coming back
/// to `CONTACTS_CONSOLE_URL` (where set; else to the host of the request).
pub async fn console_from_env() -> anyhow::Result<crate::console::Console> {
    let state = state_from_env().await?;
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
    let oidc = oidc::Oidc::discover(oidc::OidcConfig {
        issuer: var("CONTACTS_OIDC_ISSUER")?,
        client_id: var("CONTACTS_OIDC_CLIENT_ID")?,
        claim: workspace_claim(),
        console_url: std::env::var("CONTACTS_CONSOLE_URL")
            .ok()
            .filter(|url| !url.is_empty()),
        key_refresh: oidc::KEY_REFRESH,
    })
    .await
    .context("reading the identity provider's configuration")?;
    Ok(crate::console::Console::new(state, Arc::new(oidc)))
}

/// The JWT claim naming the workspace: `CONTACTS_WORKSPACE_CLAIM`, or the
/// default.
fn workspace_claim() -> String {
    std::env::var("CONTACTS_WORKSPACE_CLAIM").unwrap_or_else(|_| DEFAULT_WORKSPACE_CLAIM.to_owned())
}

/// A whole number from the environment variable `name`, or `default`.
fn env_number(name: &str, default: u64) -> anyhow::Result<u64> {
    std::env::var(name).map_or(Ok(default), |value| {
        value
            .parse()
            .with_context(|| format!("{name}={value:?} is not a whole number"))
    })
}

/// An S3 client; with path-style addressing when an endpoint is configured
/// (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: a stand-in on this machine,
/// where `<bucket>.127.0.0.1` would not resolve).
fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let stand_in = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(stand_in)
            .build(),
    )
}

/// An object an S3 notification reports as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedObject {
    pub bucket: String,
    /// The key, decoded (S3 sends it URL-encoded, `+` for a space), or why
    /// it can't be used.
    pub key: Result<ObjectKey, String>,
    /// The ETag of the version that was created, without quotes.
    pub version: Option<String>,
}

/// The objects an S3 notification reports as created.
pub fn created_objects(event: &S3Event) -> Vec<CreatedObject> {
    event
        .records
        .iter()
        .filter(|record| {
            record
                .event_name
                .as_deref()
                .is_some_and(|name| name.starts_with("ObjectCreated:"))
        })
        .filter_map(|record| {
            let bucket = record.s3.bucket.name.clone()?;
            let raw = record.s3.object.key.as_deref()?;
            let key =
                decode_key(raw).and_then(|key| ObjectKey::parse(&key).map_err(|e| e.to_string()));
            let version = record
                .s3
                .object
                .e_tag
                .as_deref()
                .map(|etag| etag.trim_matches('"').to_owned());
            Some(CreatedObject {
                bucket,
                key,
                version,
            })
        })
        .collect()
}

fn decode_key(raw: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| format!("{raw:?} is not UTF-8 once decoded"))
}
