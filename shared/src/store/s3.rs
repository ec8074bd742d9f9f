//! The object store on S3: multipart uploads for large bodies, streamed
//! downloads, presigned links.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::AsyncReadExt;

use super::objects::{
    ObjectInfo, ObjectKey, ObjectReader, ObjectStore, PartUpload, PresignedUrl, attachment,
};
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
        let mut upload = self.start_parts(key, content_type).await?;
        let sent = async {
            let mut chunk = first;
            while !chunk.is_empty() {
                self.put_part(key, &mut upload, chunk).await?;
                chunk = read_chunk(&mut body).await?;
            }
            self.finish_parts(key, &upload).await
        }
        .await;
        if sent.is_err() {
            let _ = self.abort_parts(key, &upload).await;
        }
        sent
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

    async fn presign_get(
        &self,
        key: &ObjectKey,
        expires_in: Duration,
        file_name: Option<&str>,
    ) -> Result<PresignedUrl> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .set_response_content_disposition(file_name.map(attachment))
            .presigned(presigning(expires_in)?)
            .await
            .map_err(unexpected)?;
        Ok(presigned(request.uri(), expires_in))
    }

    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        // `Content-Length` is among the signed headers: S3 refuses any
        // other length.
        let length = i64::try_from(length).map_err(|e| Error::Unexpected(e.into()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(unexpected)?;
        Ok(presigned(request.uri(), expires_in))
    }

    async fn start_parts(&self, key: &ObjectKey, content_type: &str) -> Result<PartUpload> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .content_type(content_type)
            .send()
            .await
            .map_err(unexpected)?;
        let id = out
            .upload_id
            .ok_or_else(|| anyhow::anyhow!("S3 returned no upload ID"))?;
        Ok(PartUpload {
            id,
            parts: Vec::new(),
        })
    }

    async fn put_part(
        &self,
        key: &ObjectKey,
        upload: &mut PartUpload,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let number = i32::try_from(upload.parts.len() + 1).unwrap_or(i32::MAX);
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .upload_id(&upload.id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(unexpected)?;
        let tag = out
            .e_tag
            .ok_or_else(|| anyhow::anyhow!("S3 returned no ETag for a part"))?;
        upload.parts.push(tag);
        Ok(())
    }

    async fn finish_parts(&self, key: &ObjectKey, upload: &PartUpload) -> Result<()> {
        let parts = upload
            .parts
            .iter()
            .enumerate()
            .map(|(i, tag)| Self::completed(i + 1, tag))
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .upload_id(&upload.id)
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

    async fn abort_parts(&self, key: &ObjectKey, upload: &PartUpload) -> Result<()> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_ref())
            .upload_id(&upload.id)
            .send()
            .await
            .map_err(unexpected)?;
        Ok(())
    }
}

impl S3ObjectStore {
    /// Part `number` (1-based) of `upload`, as S3 completes it.
    fn completed(number: usize, tag: &str) -> CompletedPart {
        CompletedPart::builder()
            .part_number(i32::try_from(number).unwrap_or(i32::MAX))
            .e_tag(tag)
            .build()
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
