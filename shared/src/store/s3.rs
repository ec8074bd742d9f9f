//! The object store on S3: multipart uploads for large bodies, streamed
//! downloads, presigned links.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::AsyncReadExt;

use super::objects::{ObjectInfo, ObjectKey, ObjectReader, ObjectStore, PresignedUrl};
use crate::error::{Error, Result};

/// Size of each part of a multipart upload (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Objects in one S3 bucket.
#[derive(Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
}

impl S3ObjectStore {
    /// A store over `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    async fn upload_parts(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        first: Vec<u8>,
        body: &mut ObjectReader,
    ) -> Result<Vec<CompletedPart>> {
        let mut parts = Vec::new();
        let mut chunk = first;
        for number in 1.. {
            let out = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key.as_ref())
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(unexpected)?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag)
                    .build(),
            );
            chunk = read_chunk(body).await?;
            if chunk.is_empty() {
                break;
            }
        }
        Ok(parts)
    }
}

/// An ETag without its quotes.
fn unquoted(etag: &str) -> &str {
    etag.trim_matches('"')
}

/// Reads up to [`PART_SIZE`] bytes.
async fn read_chunk(body: &mut ObjectReader) -> Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(PART_SIZE);
    let mut limited = body.take(PART_SIZE as u64);
    limited
        .read_to_end(&mut chunk)
        .await
        .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context("reading an upload")))?;
    Ok(chunk)
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(&self, key: &ObjectKey, mut body: ObjectReader, content_type: &str) -> Result<()> {
        let first = read_chunk(&mut body).await?;
        if first.len() < PART_SIZE {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key.as_ref())
                .content_type(content_type)
                .body(ByteStream::from(first))
                .send()
                .await
                .map_err(unexpected)?;
            return Ok(());
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .content_type(content_type)
            .send()
            .await
            .map_err(unexpected)?;
        let upload_id = upload
            .upload_id
            .ok_or_else(|| anyhow::anyhow!("S3 returned no upload ID"))?;
        match self.upload_parts(key, &upload_id, first, &mut body).await {
            Ok(parts) => {
                self.client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key.as_ref())
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(unexpected)?;
                Ok(())
            }
            Err(error) => {
                let _ = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key.as_ref())
                    .upload_id(&upload_id)
                    .send()
                    .await;
                Err(error)
            }
        }
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<ObjectReader>> {
        self.get_from(key, 0, None).await
    }

    async fn get_from(
        &self,
        key: &ObjectKey,
        offset: u64,
        version: Option<&str>,
    ) -> Result<Option<ObjectReader>> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .set_if_match(version.map(|v| format!("\"{v}\"")));
        let request = if offset > 0 {
            request.range(format!("bytes={offset}-"))
        } else {
            request
        };
        match request.send().await {
            // Checked here too: not every S3-compatible server honours If-Match.
            Ok(out) if version.is_some_and(|v| out.e_tag().map(unquoted) != Some(v)) => Ok(None),
            Ok(out) => Ok(Some(Box::pin(out.body.into_async_read()))),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(error)
                if error
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                Ok(None)
            }
            Err(error) => Err(unexpected(error)),
        }
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                bytes: out
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                version: out.e_tag().map(unquoted).unwrap_or_default().to_owned(),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(unexpected(error)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .send()
            .await
            .map_err(unexpected)?;
        Ok(())
    }

    async fn presign_get(&self, key: &ObjectKey, expires_in: Duration) -> Result<PresignedUrl> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .presigned(presigning(expires_in)?)
            .await
            .map_err(unexpected)?;
        Ok(presigned(request.uri(), expires_in))
    }

    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .content_type(content_type)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(unexpected)?;
        Ok(presigned(request.uri(), expires_in))
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(expires_in).map_err(unexpected)
}

fn presigned(uri: &str, expires_in: Duration) -> PresignedUrl {
    PresignedUrl {
        url: uri.to_owned(),
        expires_at: chrono::Utc::now() + chrono::Duration::from_std(expires_in).unwrap_or_default(),
    }
}

fn unexpected(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("S3"))
}
