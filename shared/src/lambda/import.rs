//! The import function: a thin shell that runs the import engine
//! ([`Runner`]) on S3 uploads and on continuations.
//!
//! - An upload (`imports/<workspace>/<name>.csv`, or `.xlsx`) is checked against the
//!   object still there (an event for a replaced version does nothing), then
//!   claimed by its object version, so a second delivery finds the same
//!   import, already leased, and does nothing. A file named by an import's
//!   ID is that import's upload; any other name is a bucket drop: a new
//!   import with the settings of `<name>.json` beside it, or safe defaults
//!   when there is none.
//! - One invocation runs an import while it holds its lease, which ends a
//!   little after the invocation's deadline. Before its deadline the run
//!   stops at a checkpoint and hands the lease to a continuation message;
//!   a watchdog message, sent before the run with the run's own lease,
//!   takes over if the invocation dies without handing over.
//! - An import whose last [`ATTEMPTS`] runs all stopped before a checkpoint
//!   (an invocation killed, an error; counted on the lease, and by a
//!   message's deliveries) fails with that reason; nothing is removed.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::continuations::{Continuation, ContinuationQueue};
use super::{CreatedObject, created_objects};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::import::job::{ImportId, ImportJob, ImportStatus, Lease, Upload};
use crate::import::settings::{ImportSettings, parse_settings};
use crate::import::{Budget, Runner};
use crate::jobs::figures::RunFigures;
use crate::model::{WorkspaceId, now};

/// How many runs in a row may stop before a checkpoint before the import fails.
pub const ATTEMPTS: u32 = 3;
/// How long a lease outlives its invocation's deadline.
pub(super) const LEASE_SLACK: Duration = Duration::from_secs(5);
/// The time reserved by default, before the deadline, to end a batch and
/// hand over.
pub(super) const DEFAULT_MARGIN: Duration = Duration::from_secs(60);
/// The largest sidecar read.
const SIDECAR_BYTES: u64 = 64 * 1024;

/// What the function did with one record of its event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub import_id: Option<ImportId>,
    pub outcome: Outcome,
}

impl Handled {
    fn of(import: &ImportId, outcome: Outcome) -> Self {
        Self {
            import_id: Some(import.clone()),
            outcome,
        }
    }

    /// An outcome with no import to name.
    fn unnamed(outcome: Outcome) -> Self {
        Self {
            import_id: None,
            outcome,
        }
    }
}

/// The outcomes of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The import ran to its end.
    Completed,
    /// The import failed; its `failure` says why.
    Failed,
    /// The run stopped at a checkpoint and handed over to a continuation.
    Continued,
    /// Another run holds the import (a repeated delivery).
    Running,
    /// The import had already ended.
    Finished,
    /// Waiting for the lease of an invocation that may still run.
    Waiting,
    /// The message's lease was handed on or taken over since.
    Superseded,
    /// The object changed or went away after the event.
    Stale,
    /// Not a CSV under `imports/<workspace>/`, or an unknown import.
    Ignored,
}

/// The import function over its stores and its continuation queue.
pub struct ImportFunction {
    runner: Runner,
    queue: ContinuationQueue,
    margin: Duration,
}

impl ImportFunction {
    /// The function over `runner`'s stores, continuing through `queue`. An
    /// internal error fails the invocation, not the import: its watchdog
    /// runs it again from its last checkpoint.
    pub fn new(runner: Runner, queue: ContinuationQueue) -> Self {
        Self {
            runner: runner.retrying_errors(),
            queue,
            margin: DEFAULT_MARGIN,
        }
    }

    /// The same, reserving `margin` before each deadline.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Builds the function from its environment, once per cold start: the
    /// HTTP functions' variables and `CONTACTS_BUCKET`,
    /// `CONTACTS_IMPORT_QUEUE` (the continuation queue's URL), optionally
    /// `CONTACTS_IMPORT_BATCH_ROWS` and `CONTACTS_IMPORT_MARGIN_SECONDS`.
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = aws_config::from_env()
            .retry_config(retry_config())
            .load()
            .await;
        std::env::var("CONTACTS_BUCKET").context("CONTACTS_BUCKET is not set")?;
        let state = super::state_over(&config)?;
        let queue =
            std::env::var("CONTACTS_IMPORT_QUEUE").context("CONTACTS_IMPORT_QUEUE is not set")?;
        let batch_rows = super::env_number("CONTACTS_IMPORT_BATCH_ROWS", 2000)?;
        let margin = super::env_number("CONTACTS_IMPORT_MARGIN_SECONDS", DEFAULT_MARGIN.as_secs())?;
        let runner = Runner::new(state, usize::try_from(batch_rows).unwrap_or(usize::MAX))?;
        Ok(Self::new(
            runner,
            ContinuationQueue::new(aws_sdk_sqs::Client::new(&config), queue),
        )
        .with_margin(Duration::from_secs(margin)))
    }

    /// Handles an S3 notification or a batch of continuation messages.
    pub async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<Value>,
    ) -> std::result::Result<Vec<Handled>, lambda_runtime::Error> {
        let deadline = Deadline::of(&event.context);
        let source = event.payload["Records"][0]["eventSource"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut handled = Vec::new();
        match source.as_str() {
            "aws:s3" => {
                let event: S3Event = serde_json::from_value(event.payload)?;
                for object in created_objects(&event) {
                    handled.push(self.upload(object, deadline).await?);
                }
            }
            "aws:sqs" => {
                let event: SqsEvent = serde_json::from_value(event.payload)?;
                for message in &event.records {
                    handled.push(self.continuation(message, deadline).await?);
                }
            }
            other => return Err(format!("an event from {other:?} is not handled").into()),
        }
        Ok(handled)
    }

    /// An object was created under `imports/`.
    async fn upload(&self, object: CreatedObject, deadline: Deadline) -> Result<Handled> {
        let ignored = Handled::unnamed(Outcome::Ignored);
        let key = match object.key {
            Ok(key) => key,
            Err(reason) => {
                tracing::error!(
                    bucket = object.bucket,
                    reason,
                    "an upload has an unusable key"
                );
                return Ok(ignored);
            }
        };
        let Some(upload) = Upload::parse(&key) else {
            tracing::info!(key = key.as_ref(), "not an import upload");
            return Ok(ignored);
        };
        let ports = self.runner.ports();
        let current = ports.objects.head(&key).await?;
        let version = match current {
            Some(info) if object.version.as_ref().is_none_or(|v| *v == info.version) => {
                info.version
            }
            _ => {
                tracing::info!(
                    key = key.as_ref(),
                    "the uploaded version is no longer there"
                );
                return Ok(Handled::unnamed(Outcome::Stale));
            }
        };
        let workspace = &upload.workspace;
        let named = match upload.import_id() {
            Some(id) => ports.store.import(workspace, &id).await?,
            None => None,
        };
        let candidate = named
            .as_ref()
            .map_or_else(ImportId::generate, |job| job.id.clone());
        let holder = ports
            .store
            .claim(workspace, key.as_ref(), &version, &candidate)
            .await?;
        let job = match ports.store.import(workspace, &holder).await? {
            Some(job) => job,
            None => {
                let job = self.dropped(&upload, holder.clone()).await?;
                if job.status == ImportStatus::Failed {
                    return Ok(Handled::of(&job.id, Outcome::Failed));
                }
                job
            }
        };
        if job.status.is_finished() {
            return Ok(Handled::of(&job.id, Outcome::Finished));
        }
        if job.lease.is_some() {
            // A repeated delivery: the run this upload started (or its
            // watchdog, should it die) carries the import on.
            return Ok(Handled::of(&job.id, Outcome::Running));
        }
        let mut job = job;
        // The run reads exactly the version the event announced.
        job.checkpoint.version.get_or_insert(version);
        self.take_and_run(job, None, deadline).await
    }

    /// A CSV put into `imports/<workspace>/` under a name of its own: a new
    /// import with the settings beside it, or the defaults. Settings that
    /// are not valid fail it before anything is written.
    async fn dropped(&self, upload: &Upload, id: ImportId) -> Result<ImportJob> {
        let ports = self.runner.ports();
        let sidecar = upload.sidecar_key()?;
        let settings = match ports.objects.get(&sidecar).await? {
            None => Ok(ImportSettings::default()),
            Some(reader) => {
                let mut json = Vec::new();
                reader
                    .take(SIDECAR_BYTES)
                    .read_to_end(&mut json)
                    .await
                    .map_err(|e| Error::Unexpected(e.into()))?;
                let catalog = Catalog::load(self.runner.state(), &upload.workspace).await?;
                parse_settings(&json)
                    .and_then(|settings| settings.check(&catalog).map(|_| settings))
                    .map_err(|error| {
                        format!(
                            "the settings file {} is not valid: {}",
                            sidecar.as_ref(),
                            error.in_words()
                        )
                    })
            }
        };
        let mut job = ImportJob::new(
            &upload.workspace,
            ImportSettings::default(),
            upload.file.clone(),
        );
        job.id = id;
        job.object = Some(upload.key.as_ref().to_owned());
        match settings {
            Ok(settings) => job.settings = settings,
            Err(reason) => job.fail(reason),
        }
        if ports.store.create_import(&job).await? {
            return Ok(job);
        }
        // A repeated delivery of the same upload created it first (and may
        // be running it): that one is the import.
        ports
            .store
            .import(&upload.workspace, &job.id)
            .await?
            .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("an import vanished")))
    }

    /// A continuation (or watchdog) message arrived.
    async fn continuation(&self, message: &SqsMessage, deadline: Deadline) -> Result<Handled> {
        let body = message.body.as_deref().unwrap_or_default();
        let Ok(continuation) = serde_json::from_str::<Continuation>(body) else {
            tracing::error!(body, "a continuation message is not one");
            return Ok(Handled::unnamed(Outcome::Ignored));
        };
        let handled = |outcome| Ok(Handled::of(&continuation.import_id, outcome));
        let workspace = WorkspaceId::parse(&continuation.workspace)?;
        let store = &self.runner.ports().store;
        let Some(job) = store.import(&workspace, &continuation.import_id).await? else {
            return handled(Outcome::Ignored);
        };
        if job.status.is_finished() {
            return handled(Outcome::Finished);
        }
        let Some(lease) = job.lease.clone().filter(|l| l.token == continuation.lease) else {
            return handled(Outcome::Superseded);
        };
        let now = now();
        if !lease.expired(now) {
            // Its holder may still be running: look again when it can't be.
            let wait = (lease.until - now).to_std().unwrap_or_default();
            self.queue.send(&continuation, wait).await?;
            return handled(Outcome::Waiting);
        }
        let attempts = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1);
        // A message whose handling failed before it took the lease comes
        // back with the same lease: count it as a run that died.
        let lease = Lease {
            runs: lease.runs.max(attempts.saturating_sub(1)),
            ..lease
        };
        self.take_and_run(job, Some(lease), deadline).await
    }

    /// Takes the import's lease from `held` (if nobody took it first) and
    /// runs it until it ends or the deadline nears.
    async fn take_and_run(
        &self,
        mut job: ImportJob,
        held: Option<Lease>,
        deadline: Deadline,
    ) -> Result<Handled> {
        let store = &self.runner.ports().store;
        let id = job.id.clone();
        let handled = |outcome| Ok(Handled::of(&id, outcome));
        if job.status.is_finished() {
            return handled(Outcome::Finished);
        }
        if held.as_ref().is_some_and(|l| !l.expired(now())) {
            return handled(Outcome::Running);
        }
        let from = held.as_ref().map(|l| l.token.as_str());
        if held.as_ref().is_some_and(|l| l.runs >= ATTEMPTS) {
            // That many runs died before reaching a checkpoint.
            job.lease = None;
            job.fail(format!(
                "the import stopped {ATTEMPTS} times in a row before its next checkpoint; \
                 rows already imported are kept and nothing was removed: import the same \
                 file again with the same settings to complete it"
            ));
            store.hand_over(&job, from).await?;
            return handled(Outcome::Failed);
        }
        let mine = Lease::after(held.as_ref(), deadline.at + to_delta(LEASE_SLACK));
        // The watchdog goes first: should this invocation die at any point
        // after taking the lease, it takes over.
        let watchdog = Continuation {
            workspace: job.workspace.clone(),
            import_id: job.id.clone(),
            lease: mine.token.clone(),
        };
        let wait = (mine.until - now()).to_std().unwrap_or_default();
        self.queue.send(&watchdog, wait).await?;
        job.lease = Some(mine.clone());
        if job.status == ImportStatus::WaitingForUpload {
            job.status = ImportStatus::Queued;
        }
        if !store.hand_over(&job, from).await? {
            return handled(Outcome::Running);
        }
        let workspace = job.workspace_id()?;

        let budget = deadline.budget(self.margin);
        let mut ran = self.runner.run(&workspace, &job.id, budget).await?;
        let figures = RunFigures::of_import(&ran, now());
        figures.log();
        if ran.status.is_finished() {
            figures.publish();
            let outcome = if ran.status == ImportStatus::Completed {
                Outcome::Completed
            } else {
                Outcome::Failed
            };
            return handled(outcome);
        }
        // Released, under the token the watchdog already carries: whether
        // the continuation below is sent or lost (or this invocation dies
        // before sending it), a message holding that token comes and
        // carries the import on.
        ran.lease = Some(Lease::released(&mine.token, now()));
        if store.hand_over(&ran, Some(&mine.token)).await? {
            self.queue.send(&watchdog, Duration::ZERO).await?;
        }
        handled(Outcome::Continued)
    }
}

/// How the import function's clients retry: throttling errors
/// (`ProvisionedThroughputExceeded`, `ThrottlingException`, …) and
/// transient ones up to 10 attempts, with exponential backoff and jitter
/// (the SDK's standard mode).
pub fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(10)
}

/// An invocation's deadline, as a time and as an instant.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    pub(super) at: DateTime<Utc>,
    pub(super) instant: Instant,
}

impl Deadline {
    /// The invocation's deadline; without one (a local invoke), 15 minutes.
    /// A run's budget: until `margin` before the deadline.
    pub(super) fn budget(&self, margin: Duration) -> Budget {
        Budget {
            deadline: Some(
                self.instant
                    .checked_sub(margin)
                    .unwrap_or_else(Instant::now),
            ),
            ..Budget::default()
        }
    }

    pub(super) fn of(context: &lambda_runtime::Context) -> Self {
        let now = Utc::now();
        let at = i64::try_from(context.deadline)
            .ok()
            .filter(|ms| *ms > 0)
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or(now + TimeDelta::minutes(15));
        let left = (at - now).to_std().unwrap_or_default();
        Self {
            at,
            instant: Instant::now() + left,
        }
    }
}

pub(super) fn to_delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::zero())
}
