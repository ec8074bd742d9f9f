//! The queues that carry an import or an export from one invocation of its
//! function to the next (SQS, with a dead-letter queue behind each).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::import::job::ImportId;

/// The longest delay SQS allows on a message.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// A message asking a fresh invocation to go on with an import: whoever
/// holds the lease `lease` (and only they) may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    pub workspace: String,
    pub import_id: ImportId,
    pub lease: String,
}

/// Sends messages (JSON) to one SQS queue.
#[derive(Clone)]
pub struct ContinuationQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl ContinuationQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends `message`, to be delivered after `delay`, rounded up to whole
    /// seconds (at most [`MAX_DELAY`]; longer delays are cut to it): a
    /// message waiting for a lease never comes back before it ends.
    pub async fn send<T: Serialize + Sync>(&self, message: &T, delay: Duration) -> Result<()> {
        let body = serde_json::to_string(message).map_err(|e| Error::Unexpected(e.into()))?;
        let whole = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        let seconds = i32::try_from(whole.min(MAX_DELAY.as_secs())).unwrap_or(0);
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(seconds)
            .send()
            .await
            .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context("sending to a queue")))?;
        Ok(())
    }
}
