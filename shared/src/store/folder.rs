//! The embedded object store: objects as files under a folder, shared
//! through links the local server honours (HMAC-signed, expiring), like S3's
//! presigned URLs.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::AsyncWriteExt;

use super::objects::{ObjectInfo, ObjectKey, ObjectReader, ObjectStore, PartUpload, PresignedUrl};
use crate::error::{Error, Result};

/// The file holding the key that signs links, in the store's folder.
const KEY_FILE: &str = ".link-key";
/// Where uploads are written before they are complete.
const PARTIAL: &str = ".partial";

/// Objects as files under one folder.
#[derive(Clone)]
pub struct FolderStore {
    root: PathBuf,
    base_url: String,
    key: [u8; 32],
}

/// Why a link was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link's signature does not match")]
    BadSignature,
    #[error("the link has expired")]
    Expired,
}

impl FolderStore {
    /// A store in `root` (created if needed) whose links start with `base_url`
    /// (e.g. `http://127.0.0.1:3000`). The signing key is kept in the folder,
    /// so links survive a restart.
    pub fn open(root: &Path, base_url: impl Into<String>) -> Result<Self> {
        std::fs::create_dir_all(root.join(PARTIAL))
            .with_context(|| format!("creating the object folder {}", root.display()))?;
        let key_path = root.join(KEY_FILE);
        let key = match std::fs::read(&key_path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0; 32];
                key.copy_from_slice(&bytes);
                key
            }
            _ => {
                let mut key = [0; 32];
                getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&key_path)
                    .and_then(|mut file| file.write_all(&key))
                    .context("saving the link key")?;
                key
            }
        };
        // Whoever reads the key can forge links: its owner only.
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
            .context("protecting the link key")?;
        Ok(Self {
            root: root.to_owned(),
            base_url: base_url.into(),
            key,
        })
    }

    /// The file of an object; keys never leave the folder (no `..`, no empty
    /// or `.` segments).
    fn path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join("objects").join(key.as_ref())
    }

    fn mac(&self, method: &str, key: &ObjectKey, expires: i64, content_type: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any size");
        mac.update(format!("{method}\n{}\n{expires}\n{content_type}", key.as_ref()).as_bytes());
        mac
    }

    /// A signed link; `claim` is the content type of an upload or the file
    /// name of a download, signed with the rest.
    fn link(
        &self,
        method: &str,
        key: &ObjectKey,
        claim: &str,
        expires_in: Duration,
    ) -> PresignedUrl {
        let expires_at = Utc::now() + chrono::Duration::from_std(expires_in).unwrap_or_default();
        let expires = expires_at.timestamp();
        let signature = hex::encode(
            self.mac(method, key, expires, claim)
                .finalize()
                .into_bytes(),
        );
        let path: String = key
            .as_ref()
            .split('/')
            .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        let file_name = if method == "GET" && !claim.is_empty() {
            format!(
                "&filename={}",
                percent_encoding::utf8_percent_encode(claim, SEGMENT)
            )
        } else {
            String::new()
        };
        PresignedUrl {
            url: format!(
                "{}/objects/{path}?expires={expires}&signature={signature}{file_name}",
                self.base_url
            ),
            expires_at,
        }
    }

    /// Checks a link's signature and expiry for `method` (and the claim it
    /// was signed with: an upload's content type, a download's file name).
    pub fn verify(
        &self,
        method: &str,
        key: &ObjectKey,
        expires: i64,
        claim: &str,
        signature: &str,
    ) -> Result<(), LinkError> {
        let signature = hex::decode(signature).map_err(|_| LinkError::BadSignature)?;
        self.mac(method, key, expires, claim)
            .verify_slice(&signature)
            .map_err(|_| LinkError::BadSignature)?;
        if Utc::now().timestamp() > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

/// What an upload link signs besides method, key and expiry: the content
/// type and the length of the body (as S3 signs `Content-Length`).
pub fn upload_claim(content_type: &str, length: u64) -> String {
    format!("{content_type}\n{length}")
}

/// Characters escaped in a path segment of a link.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A file read in large chunks: each read of a `tokio` file is a hand-off
/// to a blocking thread, so small reads (a CSV parser's) cost more in
/// hand-offs than in reading.
fn buffered(file: tokio::fs::File) -> ObjectReader {
    Box::pin(tokio::io::BufReader::with_capacity(READ_CHUNK, file))
}

/// How much a read of an object file asks for at once.
const READ_CHUNK: usize = 1024 * 1024;

/// Runs file work on a blocking thread.
async fn blocking(
    context: &'static str,
    work: impl FnOnce() -> std::io::Result<()> + Send + 'static,
) -> Result<()> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context(context)))?
        .map_err(io(context))
}

fn io(context: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::Unexpected(anyhow::Error::new(e).context(context))
}

/// An object's size and version: a replaced object is a new file (written
/// aside, then renamed into place), so its inode and time tell versions apart.
fn info(meta: &std::fs::Metadata) -> ObjectInfo {
    use std::os::unix::fs::MetadataExt;
    ObjectInfo {
        bytes: meta.len(),
        version: format!(
            "{:x}-{:x}-{:x}",
            meta.ino(),
            meta.mtime_nsec() + meta.mtime() * 1_000_000_000,
            meta.len()
        ),
    }
}

#[async_trait]
impl ObjectStore for FolderStore {
    async fn put(
        &self,
        key: &ObjectKey,
        mut body: ObjectReader,
        _content_type: &str,
    ) -> Result<()> {
        let partial = self.root.join(PARTIAL).join(ulid::Ulid::new().to_string());
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(io("creating an object"))?;
        let written = async {
            tokio::io::copy(&mut body, &mut file).await?;
            file.flush().await?;
            file.sync_all().await
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(io("writing an object")(error));
        }
        let target = self.path(key);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io("creating an object folder"))?;
        }
        tokio::fs::rename(&partial, &target)
            .await
            .map_err(io("storing an object"))
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<ObjectReader>> {
        match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => Ok(Some(buffered(file))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading an object")(e)),
        }
    }

    async fn get_from(
        &self,
        key: &ObjectKey,
        offset: u64,
        version: Option<&str>,
    ) -> Result<Option<ObjectReader>> {
        use tokio::io::AsyncSeekExt;
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading an object")(e)),
        };
        if let Some(version) = version {
            let meta = file.metadata().await.map_err(io("reading an object"))?;
            if info(&meta).version != version {
                return Ok(None);
            }
        }
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io("reading an object"))?;
        Ok(Some(buffered(file)))
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(meta) => Ok(Some(info(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading an object's size")(e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("deleting an object")(e)),
            _ => Ok(()),
        }
    }

    async fn presign_get(
        &self,
        key: &ObjectKey,
        expires_in: Duration,
        file_name: Option<&str>,
    ) -> Result<PresignedUrl> {
        Ok(self.link("GET", key, file_name.unwrap_or_default(), expires_in))
    }

    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        Ok(self.link("PUT", key, &upload_claim(content_type, length), expires_in))
    }

    async fn start_parts(&self, _key: &ObjectKey, _content_type: &str) -> Result<PartUpload> {
        let upload = PartUpload {
            id: ulid::Ulid::new().to_string(),
            parts: Vec::new(),
        };
        tokio::fs::create_dir_all(self.parts_dir(&upload)?)
            .await
            .map_err(io("starting an upload"))?;
        Ok(upload)
    }

    async fn put_part(
        &self,
        _key: &ObjectKey,
        upload: &mut PartUpload,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let dir = self.parts_dir(upload)?;
        let tag = format!("{:05}", upload.parts.len() + 1);
        let name = tag.clone();
        blocking("writing a part", move || {
            let partial = dir.join(format!("{name}.partial"));
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&partial, dir.join(&name))
        })
        .await?;
        upload.parts.push(tag);
        Ok(())
    }

    async fn finish_parts(&self, key: &ObjectKey, upload: &PartUpload) -> Result<()> {
        let dir = self.parts_dir(upload)?;
        let target = self.path(key);
        let tags = upload.parts.clone();
        // Joined by the kernel (`copy_file_range`), not through a buffer.
        blocking("joining parts", move || {
            let whole = dir.join("whole");
            let mut file = std::fs::File::create(&whole)?;
            for tag in &tags {
                std::io::copy(&mut std::fs::File::open(dir.join(tag))?, &mut file)?;
            }
            file.sync_all()?;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&whole, &target)
        })
        .await?;
        self.abort_parts(key, upload).await
    }

    async fn abort_parts(&self, _key: &ObjectKey, upload: &PartUpload) -> Result<()> {
        match tokio::fs::remove_dir_all(self.parts_dir(upload)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("dropping an upload")(e)),
            _ => Ok(()),
        }
    }
}

impl FolderStore {
    /// Where the parts of an upload wait (its ID is a ULID this store made).
    fn parts_dir(&self, upload: &PartUpload) -> Result<PathBuf> {
        let id = ulid::Ulid::from_string(&upload.id)
            .map_err(|_| anyhow::anyhow!("{:?} is not an upload of this store", upload.id))?;
        Ok(self.root.join(PARTIAL).join(format!("{id}.parts")))
    }
}
