//! The scan function: runs scans for similar names ([`ScanRunner`]) on
//! messages from its queue; `POST /v1/duplicates/scans` sends the message.
//! A scan reads its workspace in one run: one that nears the invocation's
//! deadline first fails, saying how far it got (the groups of the last
//! finished scan stay). A message whose run dies comes back after the
//! queue's visibility timeout and starts the scan again.

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde::{Deserialize, Serialize};

use super::continuations::ContinuationQueue;
use super::import::{ATTEMPTS, DEFAULT_MARGIN, Deadline, Outcome};
use super::turns::{QueuedEnv, Turn, take_turn};
use crate::duplicate_scan::runner::{DEFAULT_BATCH, ScanRunner};
use crate::duplicate_scan::{ScanId, ScanJob, ScanStatus};
use crate::error::Result;
use crate::jobs::Launcher;
use crate::model::WorkspaceId;

/// A message asking for a run of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanMessage {
    pub workspace: String,
    pub scan_id: ScanId,
}

/// The API starts a scan by sending its message.
#[async_trait]
impl Launcher<ScanJob> for ContinuationQueue {
    async fn launch(&self, job: &ScanJob) -> Result<()> {
        let message = ScanMessage {
            workspace: job.workspace.clone(),
            scan_id: job.id.clone(),
        };
        self.send(&message, Duration::ZERO).await
    }
}

/// What the function did with one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanHandled {
    pub scan_id: Option<ScanId>,
    pub outcome: Outcome,
}

/// The scan function over its stores and its queue.
pub struct ScanFunction {
    runner: ScanRunner,
    queue: ContinuationQueue,
    margin: Duration,
}

impl ScanFunction {
    /// The function over `runner`'s stores, sending messages to `queue`.
    pub fn new(runner: ScanRunner, queue: ContinuationQueue) -> Self {
        Self {
            runner,
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
    /// HTTP functions' variables and `CONTACTS_SCAN_QUEUE`, optionally
    /// `CONTACTS_SCAN_BATCH` (contacts read at a time) and
    /// `CONTACTS_SCAN_MARGIN_SECONDS`.
    pub async fn from_env() -> anyhow::Result<Self> {
        let env = QueuedEnv::load("CONTACTS_SCAN", DEFAULT_BATCH).await?;
        let ports = env
            .state
            .scan_ports()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("CONTACTS_SCAN_QUEUE must be set")?
            .clone();
        let runner = ScanRunner::new(env.state, ports.store).with_batch(env.batch);
        Ok(Self::new(runner, env.queue).with_margin(env.margin))
    }

    /// Handles a batch of messages.
    pub async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<SqsEvent>,
    ) -> std::result::Result<Vec<ScanHandled>, lambda_runtime::Error> {
        let deadline = Deadline::of(&event.context);
        let mut handled = Vec::new();
        for message in &event.payload.records {
            handled.push(self.message(message, deadline).await?);
        }
        Ok(handled)
    }

    async fn message(&self, message: &SqsMessage, deadline: Deadline) -> Result<ScanHandled> {
        let body = message.body.as_deref().unwrap_or_default();
        let Ok(asked) = serde_json::from_str::<ScanMessage>(body) else {
            tracing::error!(body, "a scan message is not one");
            return Ok(ScanHandled {
                scan_id: None,
                outcome: Outcome::Ignored,
            });
        };
        let handled = |outcome| {
            Ok(ScanHandled {
                scan_id: Some(asked.scan_id.clone()),
                outcome,
            })
        };
        let workspace = WorkspaceId::parse(&asked.workspace)?;
        let store = self.runner.store();
        let died =
            format!("the scan stopped {ATTEMPTS} times in a row before its end; start a new scan");
        let turn = take_turn(
            store.as_ref(),
            &self.queue,
            &asked,
            (&workspace, asked.scan_id.as_ref()),
            deadline,
            &died,
        )
        .await?;
        let mine = match turn {
            Turn::Mine(_, lease) => lease,
            Turn::Over(outcome) => return handled(outcome),
        };
        let mut ran = self
            .runner
            .run(&workspace, &asked.scan_id, deadline.budget(self.margin))
            .await?;
        ran.log_run();
        match ran.status {
            ScanStatus::Completed => return handled(Outcome::Completed),
            ScanStatus::Failed => return handled(Outcome::Failed),
            ScanStatus::Queued | ScanStatus::Running => {}
        }
        ran.lease = None;
        ran.fail(format!(
            "the scan read {} of {} contacts before the function's time ran out; \
             the groups of the last finished scan still show",
            ran.contacts_read, ran.contacts_total
        ));
        store.hand_over_job(&ran, Some(&mine.token)).await?;
        handled(Outcome::Failed)
    }
}
