//! `contacts-local`: the whole API on one port over the embedded store, or
//! `contacts-local import --workspace W [--settings s.json] FILE.csv` to
//! import a file into the same store without the API, or
//! `contacts-local reindex` to fill the store's search index again from
//! every contact (a repair).

use std::io::IsTerminal;
use std::path::PathBuf;

use contacts::local::{
    DEV_TOKEN, LocalConfig, LocalServer, errors_file, import_file, index_text, rebuild_text_index,
};
use contacts::model::WorkspaceId;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: contacts-local \
    [import --workspace WORKSPACE [--settings SETTINGS.json] FILE.csv | reindex]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logging()?;
    let config = LocalConfig::from_env()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve(config).await,
        Some("import") => import(config, &args[1..]).await,
        Some("reindex") if args.len() == 1 => {
            let indexed = rebuild_text_index(&config).await?;
            tracing::info!(indexed, "search index filled again from every contact");
            Ok(())
        }
        Some(_) => anyhow::bail!("{USAGE}"),
    }
}

async fn serve(config: LocalConfig) -> anyhow::Result<()> {
    let server = LocalServer::bind(&config).await?;
    let addr = server.local_addr()?;
    tracing::info!(data_dir = %config.data_dir.display(), "contacts-local listening on http://{addr}");
    if std::env::var_os("CONTACTS_TOKENS").is_none() {
        tracing::info!("web console: open http://{addr}/ and sign in with {DEV_TOKEN}");
        tracing::info!(
            "development token: curl -H 'Authorization: Bearer {DEV_TOKEN}' http://{addr}/v1/contacts"
        );
    }
    server.serve(shutdown_signal()).await?;
    tracing::info!("stopped; every committed change is on disk");
    Ok(())
}

async fn import(config: LocalConfig, args: &[String]) -> anyhow::Result<()> {
    let (mut workspace, mut settings, mut file) = (None, None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--workspace" => workspace = args.next().cloned(),
            "--settings" => settings = args.next().map(PathBuf::from),
            other if !other.starts_with("--") && file.is_none() => {
                file = Some(PathBuf::from(other))
            }
            _ => anyhow::bail!("{USAGE}"),
        }
    }
    let (Some(workspace), Some(file)) = (workspace, file) else {
        anyhow::bail!("{USAGE}");
    };
    let workspace = WorkspaceId::parse(&workspace)?;
    let job = import_file(&config, &workspace, settings.as_deref(), &file).await?;
    let mut report = serde_json::json!({
        "import_id": job.id.to_string(),
        "status": job.status,
        "counts": job.counts,
        "failure": job.failure,
    });
    if job.counts.rejected > 0 {
        report["errors_csv"] = errors_file(&config, &job)?.display().to_string().into();
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    let indexed = index_text(&config).await?;
    tracing::info!(indexed, "search index up to date");
    if job.failure.is_some() {
        std::process::exit(1);
    }
    Ok(())
}

/// Logs to stdout: plain text (coloured only on a terminal), or one JSON
/// object per line with `CONTACTS_LOG_FORMAT=json`; `RUST_LOG` filters.
fn init_logging() -> anyhow::Result<()> {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(std::io::stdout().is_terminal());
    match std::env::var("CONTACTS_LOG_FORMAT").as_deref() {
        Err(_) | Ok("text") => logs.init(),
        Ok("json") => logs.json().init(),
        Ok(other) => anyhow::bail!("CONTACTS_LOG_FORMAT={other:?} is not text or json"),
    }
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
