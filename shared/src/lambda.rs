//! What the Lambda functions share: state from the environment, the
//! workspace from the JWT authorizer, and S3 event decoding.

use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::event::s3::S3Event;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

use crate::AppState;
use crate::error::{Error, Result};
use crate::http::auth::WorkspaceResolver;
use crate::model::WorkspaceId;
use crate::store::dynamo::DynamoStore;
use crate::store::objects::ObjectKey;

/// The JWT claim that names the workspace, unless `CONTACTS_WORKSPACE_CLAIM` says otherwise.
pub const DEFAULT_WORKSPACE_CLAIM: &str = "workspace_id";

/// Reads the workspace from a claim of the API Gateway JWT authorizer.
#[derive(Debug, Clone)]
pub struct JwtClaim(pub String);

impl WorkspaceResolver for JwtClaim {
    fn resolve(&self, request: &Parts) -> Result<WorkspaceId> {
        let claims = match request.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        }
        .ok_or(Error::Unauthorized("the request carries no verified token"))?;
        let value = claims
            .get(&self.0)
            .ok_or(Error::Unauthorized("the token names no workspace"))?;
        WorkspaceId::parse(value)
            .map_err(|_| Error::Unauthorized("the token's workspace is malformed"))
    }
}

/// Builds the state of an HTTP function from its environment, once per
/// cold start: `CONTACTS_TABLE` (required), `CONTACTS_WORKSPACE_CLAIM`,
/// `CONTACTS_USAGE_LIMIT`, and the SDK's own (`AWS_REGION`,
/// `AWS_ENDPOINT_URL` to point at a stand-in, …).
pub async fn state_from_env() -> anyhow::Result<AppState> {
    let config = aws_config::load_from_env().await;
    let table = std::env::var("CONTACTS_TABLE").context("CONTACTS_TABLE is not set")?;
    let claim = std::env::var("CONTACTS_WORKSPACE_CLAIM")
        .unwrap_or_else(|_| DEFAULT_WORKSPACE_CLAIM.to_owned());
    let usage_limit = std::env::var("CONTACTS_USAGE_LIMIT")
        .ok()
        .map(|limit| {
            limit
                .parse()
                .with_context(|| format!("CONTACTS_USAGE_LIMIT={limit:?} is not a whole number"))
        })
        .transpose()?;
    Ok(AppState::over(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table),
        Arc::new(JwtClaim(claim)),
        usage_limit,
    ))
}

/// The objects an S3 notification reports as created, with keys decoded
/// (S3 sends them URL-encoded, `+` for a space).
pub fn created_objects(event: &S3Event) -> Vec<(String, Result<ObjectKey, String>)> {
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
            Some((bucket, key))
        })
        .collect()
}

fn decode_key(raw: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| format!("{raw:?} is not UTF-8 once decoded"))
}

/// The `import` function's handler. The import engine is not wired to S3
/// events yet: each created object is logged and left untouched; the
/// decoded keys are returned.
pub async fn handle_upload(
    event: lambda_runtime::LambdaEvent<S3Event>,
) -> Result<Vec<String>, lambda_runtime::Error> {
    let mut seen = Vec::new();
    for (bucket, key) in created_objects(&event.payload) {
        match key {
            Ok(key) => {
                tracing::warn!(
                    bucket,
                    key = key.as_ref(),
                    "CSV import is not available yet; the upload is left untouched"
                );
                seen.push(key.as_ref().to_owned());
            }
            Err(reason) => {
                tracing::error!(bucket, reason, "an uploaded object has an unusable key")
            }
        }
    }
    Ok(seen)
}
