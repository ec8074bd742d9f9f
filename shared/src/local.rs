//! The local server: every router on one port over the embedded store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::import::ImportJob;
use crate::model::WorkspaceId;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::AppState;
use crate::audit::Retention;
use crate::console::Console;
use crate::duplicate_scan::ScanJob;
use crate::duplicate_scan::queue::ScanQueue;
use crate::duplicate_scan::runner::ScanRunner;
use crate::export::queue::ExportQueue;
use crate::export::{ExportJob, ExportRunner};
use crate::http::auth::BearerTokens;
use crate::http::hosts::{AllowedHosts, only_allowed};
use crate::import::queue::ImportQueue;
use crate::import::{Budget, Runner};
use crate::jobs::JobStore;
use crate::store::embedded::EmbeddedStore;
use crate::store::folder::FolderStore;
use crate::store::imports::ImportStore;
use crate::store::objects::ObjectStore;
use crate::{ExportPorts, ScanPorts};

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
    /// `CONTACTS_IMPORT_BATCH_ROWS`: rows an import commits at a time
    /// (default 2,000).
    pub import_batch_rows: usize,
    /// `CONTACTS_IMPORT_MAX_MB`: the largest CSV an import reads, in MiB
    /// (default 50).
    pub import_max_bytes: u64,
    /// How much one import run may do before it stops at a checkpoint (the
    /// next start of the server continues it); unlimited by default.
    pub import_budget: Budget,
    /// The same for exports (counted in batches read).
    pub export_budget: Budget,
    /// `CONTACTS_AUDIT_RETENTION_DAYS`: how long audit entries are kept
    /// (default 400 days); older ones are removed at start-up.
    pub audit_retention: Retention,
    /// `CONTACTS_ALLOWED_HOSTS`: host names, comma-separated, the server
    /// answers for besides `localhost`, `127.0.0.1`, `[::1]` and the
    /// address it listens on (a request naming any other is refused).
    pub allowed_hosts: String,
}

/// Who the audit trail names for an import started from the command line.
pub const COMMAND_LINE_ACTOR: &str = "command-line";

/// Rows an import commits at a time unless configured otherwise.
pub const DEFAULT_IMPORT_BATCH_ROWS: usize = 2_000;

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
            import_batch_rows: lookup("CONTACTS_IMPORT_BATCH_ROWS")
                .map(|rows| {
                    rows.parse().ok().filter(|&n| n > 0).with_context(|| {
                        format!(
                            "CONTACTS_IMPORT_BATCH_ROWS={rows:?} is not a positive whole number"
                        )
                    })
                })
                .transpose()?
                .unwrap_or(DEFAULT_IMPORT_BATCH_ROWS),
            import_max_bytes: lookup("CONTACTS_IMPORT_MAX_MB")
                .map(|mb| {
                    mb.parse::<u64>()
                        .ok()
                        .filter(|&n| n > 0)
                        .map(|n| n * 1024 * 1024)
                        .with_context(|| {
                            format!("CONTACTS_IMPORT_MAX_MB={mb:?} is not a positive whole number")
                        })
                })
                .transpose()?
                .unwrap_or(crate::import::csvfile::MAX_BYTES),
            import_budget: Budget::default(),
            export_budget: Budget::default(),
            audit_retention: Retention::from_env(&lookup)?,
            allowed_hosts: lookup("CONTACTS_ALLOWED_HOSTS").unwrap_or_default(),
        })
    }
}

/// A local server bound to its port, ready to serve.
pub struct LocalServer {
    listener: TcpListener,
    router: axum::Router,
    queues: Option<(ImportQueue, ExportQueue, ScanQueue)>,
}

impl LocalServer {
    /// Opens the store and binds the address.
    pub async fn bind(config: &LocalConfig) -> anyhow::Result<Self> {
        let store = open_store(config)?;
        store.keep_text_index();
        let purged = store.purge_audit(config.audit_retention).await?;
        if purged > 0 {
            tracing::info!(purged, "removed audit entries past their retention");
        }
        let state = AppState::over(
            store.clone(),
            Arc::new(config.tokens.clone()),
            config.usage_limit,
        )
        .with_audit_retention(config.audit_retention);
        Self::bind_state(config, state, Some(Arc::new(store))).await
    }

    /// Binds `config.addr` to serve every router over `state`, with the
    /// embedded object store's files under `data_dir/objects`, and imports
    /// and exports kept in `jobs` (run in this process; unfinished ones
    /// resume now).
    pub async fn bind_state<S>(
        config: &LocalConfig,
        state: AppState,
        jobs: Option<Arc<S>>,
    ) -> anyhow::Result<Self>
    where
        S: ImportStore + JobStore<ExportJob> + JobStore<ScanJob> + 'static,
    {
        let addr = config.addr;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let objects = FolderStore::open(&config.data_dir.join("objects"), base_url)?;
        let (state, queues) = match jobs {
            Some(jobs) => {
                let objects: Arc<dyn ObjectStore> = Arc::new(objects.clone());
                let exports = ExportQueue::new(
                    ExportRunner::new(state.clone(), jobs.clone(), objects.clone()),
                    config.export_budget.clone(),
                );
                let scans = ScanQueue::new(
                    ScanRunner::new(state.clone(), jobs.clone()),
                    Budget::default(),
                );
                let state = state
                    .with_imports(jobs.clone(), objects.clone())
                    .with_exports(ExportPorts {
                        store: jobs.clone(),
                        objects,
                        launcher: Arc::new(exports.clone()),
                    })
                    .with_scans(ScanPorts {
                        store: jobs,
                        launcher: Arc::new(scans.clone()),
                    });
                let runner = Runner::new(state.clone(), config.import_batch_rows)?
                    .with_max_bytes(config.import_max_bytes);
                let imports = ImportQueue::new(runner, config.import_budget.clone());
                let resumed =
                    imports.resume().await? + exports.resume().await? + scans.resume().await?;
                if resumed > 0 {
                    tracing::info!(resumed, "resuming unfinished imports, exports and scans");
                }
                (
                    state.with_queue(imports.clone()),
                    Some((imports, exports, scans)),
                )
            }
            None => (state, None),
        };
        let console = Console::new(state.clone(), Arc::new(config.tokens.clone()));
        let hosts = AllowedHosts::new(listener.local_addr()?, &config.allowed_hosts);
        let router = crate::http::local_router(state, objects, crate::console::router(console))
            .layer(axum::middleware::from_fn_with_state(hosts, only_allowed));
        Ok(Self {
            listener,
            router,
            queues,
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
            .await?;
        if let Some((imports, exports, scans)) = self.queues {
            tokio::join!(imports.stop(), exports.stop(), scans.stop());
        }
        Ok(())
    }
}

/// Imports `file` into `workspace` of the store in `config.data_dir`, with
/// the settings in `settings` (a sidecar JSON; the defaults when `None`), in
/// this process, and returns the finished import. The error CSV, if any, is
/// the file [`errors_file`] names.
pub async fn import_file(
    config: &LocalConfig,
    workspace: &WorkspaceId,
    settings: Option<&Path>,
    file: &Path,
) -> anyhow::Result<ImportJob> {
    let settings = match settings {
        Some(path) => {
            let json = std::fs::read(path)
                .with_context(|| format!("reading the settings {}", path.display()))?;
            crate::import::settings::parse_settings(&json)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.in_words()))?
        }
        None => crate::import::ImportSettings::default(),
    };
    let store = open_store(config)?;
    let objects = FolderStore::open(
        &config.data_dir.join("objects"),
        format!("http://{}", config.addr),
    )?;
    let state = AppState::over(
        store.clone(),
        Arc::new(config.tokens.clone()),
        config.usage_limit,
    )
    .with_audit_retention(config.audit_retention)
    .with_imports(Arc::new(store), Arc::new(objects.clone()));
    let name = file
        .file_name()
        .and_then(|n| crate::import::service::FileName::parse(&n.to_string_lossy()).ok());
    let audit = state.audit(workspace, COMMAND_LINE_ACTOR);
    let job = crate::import::service::create(&state, &audit, settings, name)
        .await
        .map_err(describe)?;
    let input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    objects
        .put(&job.csv_key()?, Box::pin(input), "text/csv")
        .await
        .map_err(describe)?;
    let runner = Runner::new(state, config.import_batch_rows)
        .map_err(describe)?
        .with_max_bytes(config.import_max_bytes);
    runner
        .run(workspace, &job.id, config.import_budget.clone())
        .await
        .map_err(describe)
}

/// Brings the text index of the store in `config.data_dir` up to date (an
/// import leaves that to the background); returns how many contacts it indexed.
pub async fn index_text(config: &LocalConfig) -> anyhow::Result<u64> {
    Ok(open_store(config)?.catch_up_text_index().await?)
}

/// Fills the text indexes of the store in `config.data_dir` again from every
/// contact (the repair when they are found wrong); returns how many
/// contacts they hold.
pub async fn rebuild_text_index(config: &LocalConfig) -> anyhow::Result<u64> {
    Ok(open_store(config)?.rebuild_text_index().await?)
}

/// The embedded store in `config.data_dir`.
fn open_store(config: &LocalConfig) -> anyhow::Result<EmbeddedStore> {
    EmbeddedStore::open(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))
}

/// Where [`import_file`] leaves an import's error CSV.
pub fn errors_file(config: &LocalConfig, job: &ImportJob) -> anyhow::Result<PathBuf> {
    Ok(config
        .data_dir
        .join("objects/objects")
        .join(job.errors_key()?.as_ref()))
}

/// An error in words, with every invalid field.
fn describe(error: crate::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", error.in_words())
}
