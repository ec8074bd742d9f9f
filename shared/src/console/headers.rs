//! The headers every console response carries: a content security policy
//! (the page's own stylesheet, script and calls, plus the object store the
//! upload wizard sends files to), no framing by other sites, no sniffing
//! of content types, and no referrer (filter URLs carry personal data).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::OnceCell;

use crate::store::objects::ObjectStore;

/// The policy, made once the origin of upload links is known.
#[derive(Clone)]
pub struct PageHeaders {
    uploads: Option<Arc<dyn ObjectStore>>,
    policy: Arc<OnceCell<HeaderValue>>,
}

impl PageHeaders {
    /// Headers for pages that upload to `uploads`, if they do.
    pub fn new(uploads: Option<Arc<dyn ObjectStore>>) -> Self {
        Self {
            uploads,
            policy: Arc::default(),
        }
    }

    /// The content security policy; without the upload origin (and not
    /// kept) while upload links can't be made.
    async fn policy(&self) -> HeaderValue {
        let made = self
            .policy
            .get_or_try_init(|| async {
                let origin = match &self.uploads {
                    Some(objects) => Some(objects.upload_origin().await?),
                    None => None,
                };
                Ok::<_, crate::error::Error>(policy(origin.as_deref()))
            })
            .await;
        match made {
            Ok(policy) => policy.clone(),
            Err(error) => {
                tracing::warn!(error = %error, "the upload links' origin is not known yet");
                policy(None)
            }
        }
    }
}

fn policy(upload_origin: Option<&str>) -> HeaderValue {
    let connect = upload_origin.map_or(String::new(), |origin| format!(" {origin}"));
    HeaderValue::from_str(&format!(
        "default-src 'self'; connect-src 'self'{connect}; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    ))
    .unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
    })
}

/// Adds the headers to a console response.
pub async fn add(State(page): State<PageHeaders>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let policy = page.policy().await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, policy);
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
