//! The export function: runs the export engine ([`ExportRunner`]) on
//! messages from its queue. `POST /v1/exports` sends the first message;
//! a run that nears its invocation's deadline stops after a batch (its
//! unsent rows kept in the pending object), hands its lease on and sends
//! the next message.
//!
//! One invocation runs an export while it holds its lease, which ends a
//! little after the invocation's deadline. A message whose run dies comes
//! back after the queue's visibility timeout (longer than a run), finds the
//! lease expired and takes over from the last checkpoint; a message that
//! finds the lease held waits for it, and one that finds the export ended
//! does nothing. An export whose last [`ATTEMPTS`] runs all died fails.

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde::{Deserialize, Serialize};

use super::continuations::ContinuationQueue;
use super::import::{ATTEMPTS, DEFAULT_MARGIN, Deadline, Outcome};
use super::turns::{QueuedEnv, Turn, take_turn};
use crate::error::Result;
use crate::export::job::{ExportId, ExportJob, ExportStatus};
use crate::export::runner::{DEFAULT_BATCH, ExportRunner};
use crate::jobs::figures::RunFigures;
use crate::jobs::{Launcher, Lease};
use crate::model::{WorkspaceId, now};

/// A message asking for a run of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub workspace: String,
    pub export_id: ExportId,
}

impl ExportMessage {
    fn of(job: &ExportJob) -> Self {
        Self {
            workspace: job.workspace.clone(),
            export_id: job.id.clone(),
        }
    }
}

/// The API starts an export by sending its first message.
#[async_trait]
impl Launcher<ExportJob> for ContinuationQueue {
    async fn launch(&self, job: &ExportJob) -> Result<()> {
        self.send(&ExportMessage::of(job), Duration::ZERO).await
    }
}

/// What the function did with one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportHandled {
    pub export_id: Option<ExportId>,
    pub outcome: Outcome,
}

/// The export function over its stores and its queue.
pub struct ExportFunction {
    runner: ExportRunner,
    queue: ContinuationQueue,
    margin: Duration,
}

impl ExportFunction {
    /// The function over `runner`'s stores, continuing through `queue`.
    pub fn new(runner: ExportRunner, queue: ContinuationQueue) -> Self {
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
    /// HTTP functions' variables, `CONTACTS_BUCKET` and
    /// `CONTACTS_EXPORT_QUEUE`, optionally `CONTACTS_EXPORT_BATCH` (contacts
    /// read at a time) and `CONTACTS_EXPORT_MARGIN_SECONDS`.
    pub async fn from_env() -> anyhow::Result<Self> {
        let env = QueuedEnv::load("CONTACTS_EXPORT", DEFAULT_BATCH).await?;
        let ports = env
            .state
            .export_ports()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("CONTACTS_BUCKET and CONTACTS_EXPORT_QUEUE must be set")?
            .clone();
        let runner = ExportRunner::new(env.state, ports.store, ports.objects).with_batch(env.batch);
        Ok(Self::new(runner, env.queue).with_margin(env.margin))
    }

    /// Handles a batch of messages.
    pub async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<SqsEvent>,
    ) -> std::result::Result<Vec<ExportHandled>, lambda_runtime::Error> {
        let deadline = Deadline::of(&event.context);
        let mut handled = Vec::new();
        for message in &event.payload.records {
            handled.push(self.message(message, deadline).await?);
        }
        Ok(handled)
    }

    async fn message(&self, message: &SqsMessage, deadline: Deadline) -> Result<ExportHandled> {
        let body = message.body.as_deref().unwrap_or_default();
        let Ok(asked) = serde_json::from_str::<ExportMessage>(body) else {
            tracing::error!(body, "an export message is not one");
            return Ok(ExportHandled {
                export_id: None,
                outcome: Outcome::Ignored,
            });
        };
        let handled = |outcome| {
            Ok(ExportHandled {
                export_id: Some(asked.export_id.clone()),
                outcome,
            })
        };
        let workspace = WorkspaceId::parse(&asked.workspace)?;
        let store = self.runner.store();
        let died = format!(
            "the export stopped {ATTEMPTS} times in a row before its next checkpoint; \
             start a new export"
        );
        let turn = take_turn(
            store.as_ref(),
            &self.queue,
            &asked,
            (&workspace, asked.export_id.as_ref()),
            deadline,
            &died,
        )
        .await?;
        let (job, mine) = match turn {
            Turn::Mine(job, lease) => (job, lease),
            Turn::Over(outcome) => return handled(outcome),
        };
        let mut ran = self
            .runner
            .run(&workspace, &job.id, deadline.budget(self.margin))
            .await?;
        let figures = RunFigures::of_export(&ran, now());
        figures.log();
        if ran.status.is_finished() {
            figures.publish();
            return handled(if ran.status == ExportStatus::Completed {
                Outcome::Completed
            } else {
                Outcome::Failed
            });
        }
        ran.lease = Some(Lease::new(now()));
        if store.hand_over_job(&ran, Some(&mine.token)).await? {
            self.queue.send(&asked, Duration::ZERO).await?;
        }
        handled(Outcome::Continued)
    }
}
