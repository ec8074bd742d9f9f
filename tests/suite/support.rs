//! A local server on a free loopback port over a fresh data folder, and a
//! client for it.

use std::net::SocketAddr;
use std::sync::Arc;

use contacts::AppState;
use contacts::http::auth::BearerTokens;
use contacts::local::{LocalConfig, LocalServer};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The token of workspace `alpha`.
pub const ALPHA: &str = "token-alpha";
/// The token of workspace `beta`.
pub const BETA: &str = "token-beta";

/// A running local server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub data: TempDir,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// A server with no usage limit.
    pub async fn start() -> Self {
        Self::start_with(None, TempDir::new().expect("temp dir")).await
    }

    /// A server over `data` whose workspaces may hold `limit` contacts.
    /// With `CONTACTS_TEST_BACKEND=dynamodb` it serves a fresh DynamoDB table
    /// instead of the embedded store in `data`.
    pub async fn start_with(limit: Option<u64>, data: TempDir) -> Self {
        Self::start_importing(
            limit,
            data,
            contacts::local::DEFAULT_IMPORT_BATCH_ROWS,
            None,
        )
        .await
    }

    /// A server whose imports commit `batch_rows` rows at a time and, with
    /// `stop_after`, stop each run after that many batches (as if the
    /// process died there).
    pub async fn start_importing(
        limit: Option<u64>,
        data: TempDir,
        batch_rows: usize,
        stop_after: Option<u64>,
    ) -> Self {
        let config = LocalConfig {
            addr: "127.0.0.1:0".parse().expect("addr"),
            data_dir: data.path().to_owned(),
            tokens: BearerTokens::parse(&format!("{ALPHA}=alpha,{BETA}=beta")).expect("tokens"),
            usage_limit: limit,
            import_batch_rows: batch_rows,
            import_max_bytes: contacts::import::csvfile::MAX_BYTES,
            export_budget: Default::default(),
            import_budget: contacts::import::Budget {
                batches: stop_after,
                ..Default::default()
            },
            audit_retention: Default::default(),
            allowed_hosts: String::new(),
        };
        let server = match std::env::var("CONTACTS_TEST_BACKEND").as_deref() {
            Ok("dynamodb") => {
                let store = crate::aws::dynamo_store_in(data.path()).await;
                let state = AppState::over(store.clone(), Arc::new(config.tokens.clone()), limit);
                LocalServer::bind_state(&config, state, Some(Arc::new(store))).await
            }
            Ok(other) if other != "embedded" => panic!("unknown CONTACTS_TEST_BACKEND {other:?}"),
            _ => LocalServer::bind(&config).await,
        }
        .expect("bind");
        let addr = server.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            data,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops gracefully and hands back the data folder.
    pub async fn stop(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server");
        }
        let dir = TempDir::new().expect("temp dir");
        std::mem::replace(&mut self.data, dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request as workspace `alpha`.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_token(ALPHA, method, path)
    }

    /// A request with `token`.
    pub fn as_token(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(token)
    }

    /// Creates a contact as `alpha`; panics unless 201.
    pub async fn create(&self, body: Value) -> Value {
        let (status, body) = send(self.req(Method::POST, "/v1/contacts").json(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Reads a contact as `alpha`.
    pub async fn get(&self, id: &str) -> (StatusCode, Value) {
        send(self.req(Method::GET, &format!("/v1/contacts/{id}"))).await
    }

    /// Lists as `alpha` with a query string.
    pub async fn list(&self, query: &str) -> (StatusCode, Value) {
        send(self.req(Method::GET, &format!("/v1/contacts?{query}"))).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Sends and reads the body as JSON (`null` when empty).
pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

/// A valid contact body numbered `n`.
pub fn contact(n: usize) -> Value {
    json!({
        "external_id": format!("crm-{n}"),
        "first_name": "Ann",
        "last_name": format!("Lee{n}"),
        "phone": format!("+1234567{:04}", n),
        "email": format!("ann{n}@example.com"),
    })
}

/// The `field`s a problem body names, in order.
pub fn problem_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a problem response: status, `application/problem+json`, a `type`
/// and `detail`.
pub async fn expect_problem(request: RequestBuilder, status: StatusCode) -> Value {
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/"))
    );
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

/// The `external_id`s of a page's items, in order.
pub fn external_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["external_id"].as_str().unwrap_or("-").to_owned())
        .collect()
}

/// Asserts that no cell a spreadsheet could read from the CSV `text` starts
/// a formula, whichever list separator its locale splits at (`,`, `;` or
/// tab), quotes and blanks around it stripped — unless the cell is plainly
/// a number or an E.164 phone.
pub fn assert_formula_safe_in_every_locale(text: &str) {
    const FORMULA: [char; 8] = [
        '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ];
    for line in text.lines() {
        for separator in [',', ';', '\t'] {
            for piece in line.split(separator) {
                let cell =
                    piece.trim_matches(|c: char| c == '"' || c == '\u{feff}' || c.is_whitespace());
                let digits = cell.trim_start_matches(['+', '-']);
                let number =
                    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.');
                assert!(
                    number || !cell.starts_with(FORMULA),
                    "a spreadsheet splitting at {separator:?} reads the formula {cell:?} in {line:?}"
                );
            }
        }
    }
}
