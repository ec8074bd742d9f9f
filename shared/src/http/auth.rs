//! Which workspace a request acts for. The seam is [`WorkspaceResolver`]:
//! locally bearer tokens map to workspaces by configuration; behind API
//! Gateway a resolver reads the JWT authorizer's claims.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::{Error, Result};
use crate::model::{InvalidValue, WorkspaceId};

/// Maps an incoming request to the workspace it may act for.
pub trait WorkspaceResolver: Send + Sync {
    /// The request's workspace, or `Unauthorized`.
    fn resolve(&self, request: &Parts) -> Result<WorkspaceId>;

    /// Who the request acts as, for records of who did what (never a
    /// secret); called once `resolve` has let the request in.
    fn actor(&self, request: &Parts) -> String;
}

/// Static bearer tokens, each granting one workspace.
#[derive(Debug, Clone)]
pub struct BearerTokens(HashMap<String, WorkspaceId>);

impl BearerTokens {
    /// Reads `token=workspace` pairs separated by commas.
    pub fn parse(spec: &str) -> Result<Self, InvalidValue> {
        spec.split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (token, workspace) = pair.split_once('=').ok_or_else(|| {
                    InvalidValue(format!("{pair:?} is not a token=workspace pair"))
                })?;
                if token.trim().is_empty() {
                    return Err(InvalidValue(format!("{pair:?} has an empty token")));
                }
                Ok((
                    token.trim().to_owned(),
                    WorkspaceId::parse(workspace.trim())?,
                ))
            })
            .collect::<Result<HashMap<_, _>, _>>()
            .and_then(|tokens| {
                if tokens.is_empty() {
                    Err(InvalidValue("no token=workspace pair is given".into()))
                } else {
                    Ok(Self(tokens))
                }
            })
    }
}

impl BearerTokens {
    /// The workspace `token` opens, if any.
    pub fn workspace_for(&self, token: &str) -> Option<&WorkspaceId> {
        self.0.get(token.trim())
    }
}

impl WorkspaceResolver for BearerTokens {
    fn resolve(&self, request: &Parts) -> Result<WorkspaceId> {
        let header = request
            .headers
            .get(AUTHORIZATION)
            .ok_or(Error::Unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(Error::Unauthorized(
                "the Authorization header must be Bearer <token>",
            ))?;
        self.workspace_for(token)
            .cloned()
            .ok_or(Error::Unauthorized("the bearer token is not recognised"))
    }

    fn actor(&self, request: &Parts) -> String {
        let token = request
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        token_actor(token)
    }
}

/// Who a workspace token acts as: `token:` and the first 8 hex digits of
/// its SHA-256 (the token itself is a secret).
pub fn token_actor(token: &str) -> String {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(token.trim().as_bytes()));
    format!("token:{}", &digest[..8])
}

/// Who an authenticated request acts as (see [`WorkspaceResolver::actor`]).
pub struct Actor(pub String);

impl FromRequestParts<AppState> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        Ok(Actor(state.auth.actor(parts)))
    }
}

/// The authenticated workspace of a request.
pub struct Workspace(pub WorkspaceId);

impl FromRequestParts<AppState> for Workspace {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        state.auth.resolve(parts).map(Workspace)
    }
}
