//! `contacts-local`: the whole API on one port over the embedded store.

use contacts::local::{DEV_TOKEN, LocalConfig, LocalServer};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = LocalConfig::from_env()?;
    let server = LocalServer::bind(&config).await?;
    let addr = server.local_addr()?;
    tracing::info!(data_dir = %config.data_dir.display(), "contacts-local listening on http://{addr}");
    if std::env::var_os("CONTACTS_TOKENS").is_none() {
        tracing::info!(
            "development token: curl -H 'Authorization: Bearer {DEV_TOKEN}' http://{addr}/v1/contacts"
        );
    }
    server.serve(shutdown_signal()).await?;
    tracing::info!("stopped; every committed change is on disk");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
