//! A loopback proxy in front of an AWS stand-in (DynamoDB Local, moto's
//! SQS) that fails or holds chosen requests: matching requests of one
//! operation (the end of `X-Amz-Target`), optionally only those whose body
//! contains given texts, are failed a given number of times after letting
//! some through, with an error the SDK does not retry — or held until the
//! test lets them go on, so it can act in between, or answered with a given
//! body (an index that has not caught up yet). Everything else passes
//! unchanged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use serde_json::json;

use crate::throttling::{forward, json_response, serve_on_loopback};

/// Which requests fail, and how often.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The operation: `SendMessage`, `Query`, `PutItem`, …
    pub operation: &'static str,
    /// Texts the request's body must all contain (none: any request).
    pub containing: Vec<String>,
    /// Matching requests let through before the first failure.
    pub after: usize,
    /// Matching requests failed after those; then the fault is spent.
    pub times: usize,
    /// Instead of failing them, hold the requests until released.
    pub hold: Option<Hold>,
    /// Instead of failing them, answer with this status and body.
    pub answer: Option<(StatusCode, serde_json::Value)>,
}

/// A request held on its way: `arrived` is notified when it is, and it goes
/// on once `release` is notified.
#[derive(Debug, Clone, Default)]
pub struct Hold {
    pub arrived: Arc<Notify>,
    pub release: Arc<Notify>,
}

impl Fault {
    /// Fails the next `times` requests of `operation`.
    pub fn next(operation: &'static str, times: usize) -> Self {
        Self {
            operation,
            containing: Vec::new(),
            after: 0,
            times,
            hold: None,
            answer: None,
        }
    }

    /// Answers the next `times` requests of `operation` with `body`.
    pub fn answer(
        operation: &'static str,
        times: usize,
        status: StatusCode,
        body: serde_json::Value,
    ) -> Self {
        Self {
            answer: Some((status, body)),
            ..Self::next(operation, times)
        }
    }

    /// Holds the next matching request until `hold` releases it.
    pub fn hold(operation: &'static str, hold: &Hold) -> Self {
        Self {
            hold: Some(hold.clone()),
            ..Self::next(operation, 1)
        }
    }

    /// Only requests whose body contains `text` (and the texts before).
    pub fn containing(mut self, text: impl Into<String>) -> Self {
        self.containing.push(text.into());
        self
    }

    /// After letting `after` matching requests through.
    pub fn after(mut self, after: usize) -> Self {
        self.after = after;
        self
    }
}

struct Rules {
    faults: Mutex<Vec<Fault>>,
    failed: AtomicUsize,
    url: String,
    http: reqwest::Client,
}

/// The proxy; stops when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    rules: Arc<Rules>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    /// A proxy passing everything on to `upstream` until told otherwise.
    pub async fn start(upstream: String) -> Self {
        let rules = Arc::new(Rules {
            faults: Mutex::new(Vec::new()),
            failed: AtomicUsize::new(0),
            url: upstream,
            http: reqwest::Client::new(),
        });
        let state = Arc::clone(&rules);
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let rules = Arc::clone(&state);
            async move { pass_or_fail(&rules, request).await }
        });
        let (endpoint, server) = serve_on_loopback(app).await;
        Self {
            endpoint,
            rules,
            server,
        }
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.rules.faults.lock().expect("faults").push(fault);
    }

    /// How many requests were failed or answered so far.
    pub fn failed(&self) -> usize {
        self.rules.failed.load(Ordering::SeqCst)
    }
}

async fn pass_or_fail(rules: &Rules, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    let text = String::from_utf8_lossy(&body);
    let action = {
        let mut faults = rules.faults.lock().expect("faults");
        let matching = faults.iter_mut().find(|f| {
            f.operation == operation
                && f.times > 0
                && f.containing.iter().all(|part| text.contains(part.as_str()))
        });
        match matching {
            Some(fault) if fault.after > 0 => {
                fault.after -= 1;
                None
            }
            Some(fault) => {
                fault.times -= 1;
                Some((fault.hold.clone(), fault.answer.clone()))
            }
            None => None,
        }
    };
    if let Some((_, Some((status, body)))) = &action {
        rules.failed.fetch_add(1, Ordering::SeqCst);
        return json_response(*status, body);
    }
    if let Some((Some(hold), _)) = &action {
        hold.arrived.notify_one();
        hold.release.notified().await;
    } else if action.is_some() {
        rules.failed.fetch_add(1, Ordering::SeqCst);
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"__type": "InjectedFault", "message": format!("{operation} failed on purpose")}),
        );
    }
    forward(
        &rules.http,
        &rules.url,
        parts.method,
        parts.uri.path(),
        parts.headers,
        body,
    )
    .await
}
