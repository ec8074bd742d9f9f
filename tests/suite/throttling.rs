//! A proxy in front of DynamoDB Local that throttles: every `every`-th
//! request is refused as AWS refuses it under load — a
//! `ProvisionedThroughputExceededException` or `ThrottlingException`, or,
//! for batch requests, every item handed back unprocessed — and the rest
//! are passed on unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{Value, json};

/// The proxy; stops when dropped.
pub struct ThrottlingProxy {
    pub endpoint: String,
    pub refused: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for ThrottlingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Upstream {
    url: String,
    http: reqwest::Client,
    every: usize,
    seen: AtomicUsize,
    refused: Arc<AtomicUsize>,
}

impl ThrottlingProxy {
    /// Throttles every `every`-th request on its way to `upstream`.
    pub async fn start(upstream: String, every: usize) -> Self {
        let refused = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(Upstream {
            url: upstream,
            http: reqwest::Client::new(),
            every,
            seen: AtomicUsize::new(0),
            refused: Arc::clone(&refused),
        });
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let state = Arc::clone(&state);
            async move { pass_or_throttle(&state, request).await }
        });
        let (endpoint, server) = serve_on_loopback(app).await;
        Self {
            endpoint,
            refused,
            server,
        }
    }
}

/// Serves `app` on a free loopback port: its address, and the task (abort
/// it to stop).
pub async fn serve_on_loopback(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (endpoint, server)
}

/// A response as DynamoDB's JSON protocol writes one.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .body(Body::from(body.to_string()))
        .expect("response")
}

async fn pass_or_throttle(upstream: &Upstream, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let n = upstream.seen.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_multiple_of(upstream.every) && !target.ends_with("DescribeTable") {
        upstream.refused.fetch_add(1, Ordering::Relaxed);
        let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return match target.rsplit('.').next() {
            Some("BatchWriteItem") => json_response(
                StatusCode::OK,
                &json!({"UnprocessedItems": sent["RequestItems"]}),
            ),
            Some("BatchGetItem") => json_response(
                StatusCode::OK,
                &json!({"Responses": {}, "UnprocessedKeys": sent["RequestItems"]}),
            ),
            _ if (n / upstream.every).is_multiple_of(2) => json_response(
                StatusCode::BAD_REQUEST,
                &json!({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                        "message": "The level of configured provisioned throughput for the table was exceeded."}),
            ),
            _ => json_response(
                StatusCode::BAD_REQUEST,
                &json!({"__type": "com.amazon.coral.availability#ThrottlingException",
                        "message": "Rate of requests exceeds the allowed throughput."}),
            ),
        };
    }
    forward(
        &upstream.http,
        &upstream.url,
        parts.method,
        parts.uri.path(),
        parts.headers,
        body,
    )
    .await
}

/// Sends a request on to the stand-in at `url` and hands back its answer.
pub async fn forward(
    http: &reqwest::Client,
    url: &str,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let mut request = http.request(method, format!("{url}{path}")).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.expect("the stand-in answers");
    let mut builder = Response::builder().status(response.status());
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            builder = builder.header(name, value);
        }
    }
    let bytes = response.bytes().await.unwrap_or_default();
    builder.body(Body::from(bytes)).expect("response")
}
