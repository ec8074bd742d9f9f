//! The local server: every router on one port over the embedded store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::AppState;
use crate::http::auth::BearerTokens;
use crate::store::embedded::EmbeddedStore;
use crate::store::folder::FolderStore;

/// The token that works when `CONTACTS_TOKENS` is not set.
pub const DEV_TOKEN: &str = "dev-token";
/// The workspace [`DEV_TOKEN`] opens.
pub const DEV_WORKSPACE: &str = "dev";

/// Configuration of the local server, from `CONTACTS_*` environment variables.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// `CONTACTS_ADDR`, default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// `CONTACTS_DATA_DIR`, default `./.contacts-data`.
    pub data_dir: PathBuf,
    /// `CONTACTS_TOKENS`: `token=workspace` pairs, default `dev-token=dev`.
    pub tokens: BearerTokens,
    /// `CONTACTS_USAGE_LIMIT`: contacts per workspace; unset for no limit.
    pub usage_limit: Option<u64>,
}

impl LocalConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup` (a variable's value, if set).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let addr = lookup("CONTACTS_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let tokens =
            lookup("CONTACTS_TOKENS").unwrap_or_else(|| format!("{DEV_TOKEN}={DEV_WORKSPACE}"));
        Ok(Self {
            addr: addr
                .parse()
                .with_context(|| format!("CONTACTS_ADDR={addr:?} is not a host:port address"))?,
            data_dir: lookup("CONTACTS_DATA_DIR")
                .unwrap_or_else(|| "./.contacts-data".into())
                .into(),
            tokens: BearerTokens::parse(&tokens).context("CONTACTS_TOKENS")?,
            usage_limit: lookup("CONTACTS_USAGE_LIMIT")
                .map(|limit| {
                    limit.parse().with_context(|| {
                        format!("CONTACTS_USAGE_LIMIT={limit:?} is not a whole number")
                    })
                })
                .transpose()?,
        })
    }
}

/// A local server bound to its port, ready to serve.
pub struct LocalServer {
    listener: TcpListener,
    router: axum::Router,
}

impl LocalServer {
    /// Opens the store and binds the address.
    pub async fn bind(config: &LocalConfig) -> anyhow::Result<Self> {
        let store = EmbeddedStore::open(&config.data_dir)
            .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
        let state = AppState::over(store, Arc::new(config.tokens.clone()), config.usage_limit);
        Self::bind_state(config.addr, state, &config.data_dir).await
    }

    /// Binds `addr` to serve every router over `state`, with the embedded
    /// object store's files under `data_dir/objects`.
    pub async fn bind_state(
        addr: SocketAddr,
        state: AppState,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let objects = FolderStore::open(&data_dir.join("objects"), base_url)?;
        Ok(Self {
            listener,
            router: crate::http::local_router(state, objects),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
