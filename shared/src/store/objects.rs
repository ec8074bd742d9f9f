//! The object-store port: files such as CSV uploads, import reports and
//! exports, streamed in and out, shared through expiring links.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::io::AsyncRead;

use crate::error::Result;
use crate::model::InvalidValue;

/// A byte stream read from or written to an object.
pub type ObjectReader = Pin<Box<dyn AsyncRead + Send>>;

/// The key of an object: 1–1024 bytes of `/`-separated segments, none empty,
/// `.` or `..`, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates an object key.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid = (1..=1024).contains(&raw.len())
            && !raw.chars().any(char::is_control)
            && raw
                .split('/')
                .all(|segment| !matches!(segment, "" | "." | ".."));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue(format!("{raw:?} is not an object key")))
        }
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A link that lets its holder read or write one object until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub bytes: u64,
    /// Changes whenever the object is replaced (S3's ETag, without quotes).
    pub version: String,
}

/// An object written in parts, possibly across runs: the upload's ID and
/// the tags of the parts sent so far, in order. Kept in a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartUpload {
    pub id: String,
    pub parts: Vec<String>,
}

/// The least size of every part but the last (S3's rule).
pub const MIN_PART: usize = 5 * 1024 * 1024;

/// How a download link names the file it saves (`Content-Disposition`).
pub fn attachment(file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .collect();
    format!("attachment; filename=\"{name}\"")
}

/// Stores objects.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Writes the object from `body`, replacing any object at `key`; large
    /// bodies are sent in parts, never held whole in memory.
    async fn put(&self, key: &ObjectKey, body: ObjectReader, content_type: &str) -> Result<()>;

    /// Streams the object; `None` when there is none.
    async fn get(&self, key: &ObjectKey) -> Result<Option<ObjectReader>>;

    /// Streams the object from byte `offset` (less than its size) to its end;
    /// `None` when there is none, or when `version` is given and the object
    /// has been replaced since.
    async fn get_from(
        &self,
        key: &ObjectKey,
        offset: u64,
        version: Option<&str>,
    ) -> Result<Option<ObjectReader>>;

    /// The object's size and version; `None` when there is none.
    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>>;

    /// Removes the object; removing a missing one is not an error.
    async fn delete(&self, key: &ObjectKey) -> Result<()>;

    /// A link to download the object for `expires_in`, saved as `file_name`
    /// when one is given.
    async fn presign_get(
        &self,
        key: &ObjectKey,
        expires_in: Duration,
        file_name: Option<&str>,
    ) -> Result<PresignedUrl>;

    /// Starts writing the object at `key` in parts; nothing is visible at
    /// `key` until [`ObjectStore::finish_parts`].
    async fn start_parts(&self, key: &ObjectKey, content_type: &str) -> Result<PartUpload>;

    /// Sends the next part (every part but the last at least [`MIN_PART`]
    /// bytes) and notes its tag in `upload`.
    async fn put_part(
        &self,
        key: &ObjectKey,
        upload: &mut PartUpload,
        bytes: Vec<u8>,
    ) -> Result<()>;

    /// Makes the parts the object at `key`, in order.
    async fn finish_parts(&self, key: &ObjectKey, upload: &PartUpload) -> Result<()>;

    /// Drops an unfinished upload and its parts.
    async fn abort_parts(&self, key: &ObjectKey, upload: &PartUpload) -> Result<()>;

    /// A link to upload the object for `expires_in`: exactly `length`
    /// bytes with this content type (any other length is refused, so a
    /// link can't store more than it was made for).
    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUrl>;

    /// Where upload links point (`scheme://host[:port]`): the origin a page
    /// that uploads through them must be allowed to connect to.
    async fn upload_origin(&self) -> Result<String> {
        let probe = ObjectKey::parse("imports/origin.csv")?;
        let link = self
            .presign_put(&probe, "text/csv", 1, Duration::from_secs(60))
            .await?;
        origin(&link.url).ok_or_else(|| {
            crate::error::Error::Unexpected(anyhow::anyhow!(
                "an upload link has no origin: {}",
                link.url
            ))
        })
    }
}

/// The `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!scheme.is_empty() && !authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}
