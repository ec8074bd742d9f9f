//! Serves the links of the embedded object store (`/objects/<key>`), the
//! local stand-in for S3's presigned URLs: the same expiry, a signature over
//! method, key, expiry and (for uploads) content type and length.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use tokio::io::AsyncReadExt;
use tokio_util::io::{ReaderStream, StreamReader};

use super::extract::{PathParams, QueryPairs};
use crate::error::{Error, Result};
use crate::import::queue::ImportQueue;
use crate::store::folder::{FolderStore, upload_claim};
use crate::store::objects::{ObjectKey, ObjectStore, attachment};

/// The link routes, to be nested at `/objects`; a completed upload of an
/// import's CSV is handed to `queue`.
pub fn router(store: FolderStore, queue: Option<ImportQueue>) -> axum::Router {
    axum::Router::new()
        .route("/{*key}", axum::routing::get(download).put(upload))
        .with_state(Links { store, queue })
}

/// What the link routes serve from.
#[derive(Clone)]
pub struct Links {
    store: FolderStore,
    queue: Option<ImportQueue>,
}

/// The largest object a link may upload (a CSV file's limit).
pub const UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

/// A link's key and verified claims.
fn verified(
    store: &FolderStore,
    method: &str,
    raw_key: &str,
    query: &[(String, String)],
    content_type: &str,
) -> Result<ObjectKey> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let key = ObjectKey::parse(raw_key).map_err(|_| Error::RouteNotFound(raw_key.to_owned()))?;
    let expires = param("expires").and_then(|e| e.parse().ok());
    let (Some(expires), Some(signature)) = (expires, param("signature")) else {
        return Err(Error::LinkRefused(
            "the link has no expiry or signature".into(),
        ));
    };
    store
        .verify(method, &key, expires, content_type, signature)
        .map_err(|e| Error::LinkRefused(e.to_string()))?;
    Ok(key)
}

/// `GET /objects/<key>`: the object, streamed.
pub async fn download(
    State(Links { store, .. }): State<Links>,
    PathParams(raw_key): PathParams<String>,
    QueryPairs(query): QueryPairs,
) -> Result<Response> {
    let file_name = query
        .iter()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let key = verified(&store, "GET", &raw_key, &query, &file_name)?;
    let reader = store
        .get(&key)
        .await?
        .ok_or_else(|| Error::RouteNotFound(raw_key.clone()))?;
    let name = match file_name.as_str() {
        "" => raw_key.rsplit('/').next().unwrap_or("download"),
        given => given,
    };
    let content_type = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, attachment(name)),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response())
}

/// `PUT /objects/<key>`: stores the body (up to [`UPLOAD_LIMIT`]), streamed;
/// its `Content-Length` must be the length the link was signed for.
pub async fn upload(
    State(Links { store, queue }): State<Links>,
    PathParams(raw_key): PathParams<String>,
    QueryPairs(query): QueryPairs,
    headers: HeaderMap,
    request: Request,
) -> Result<StatusCode> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let content_type = header(CONTENT_TYPE).to_owned();
    let Ok(length) = header(CONTENT_LENGTH).parse::<u64>() else {
        return Err(Error::LinkRefused(
            "an upload must say its length (Content-Length)".into(),
        ));
    };
    let key = verified(
        &store,
        "PUT",
        &raw_key,
        &query,
        &upload_claim(&content_type, length),
    )?;
    let stream = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let body = StreamReader::new(stream).take(UPLOAD_LIMIT + 1);
    store.put(&key, Box::pin(body), &content_type).await?;
    if store.head(&key).await?.map(|o| o.bytes) > Some(UPLOAD_LIMIT) {
        store.delete(&key).await?;
        return Err(Error::BodyTooLarge {
            limit: usize::try_from(UPLOAD_LIMIT).unwrap_or(usize::MAX),
        });
    }
    if let Some(queue) = queue {
        queue.uploaded(&key);
    }
    Ok(StatusCode::OK)
}
