//! Clients for the DynamoDB stand-in the test command starts
//! (`CONTACTS_TEST_DYNAMODB_ENDPOINT`), and a fresh table per test.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use contacts::store::dynamo::{DynamoStore, create_table};

/// The stand-in's endpoint; the test command sets it.
pub fn dynamodb_endpoint() -> String {
    std::env::var("CONTACTS_TEST_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!("CONTACTS_TEST_DYNAMODB_ENDPOINT is not set: run the tests with ./scripts/test, which starts DynamoDB Local")
    })
}

/// A DynamoDB client for the stand-in.
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    dynamodb_client_at(
        &dynamodb_endpoint(),
        aws_config::retry::RetryConfig::standard(),
    )
}

/// A DynamoDB client for `endpoint` (the stand-in, or a proxy in front of it).
pub fn dynamodb_client_at(
    endpoint: &str,
    retry: aws_config::retry::RetryConfig,
) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// The store whose table's name is kept in `dir` (a new, empty table the
/// first time), so a server restarted over `dir` finds its data again.
pub async fn dynamo_store_in(dir: &std::path::Path) -> DynamoStore {
    let file = dir.join("dynamodb-table");
    match std::fs::read_to_string(&file) {
        Ok(table) => DynamoStore::new(dynamodb_client(), table.trim()),
        Err(_) => {
            let (store, table) = fresh_table().await;
            std::fs::write(&file, table).expect("remember the table");
            store
        }
    }
}

/// A store over a new, empty table.
pub async fn fresh_dynamo_store() -> DynamoStore {
    fresh_table().await.0
}

/// A new, empty table: a store over it, and its name.
pub async fn fresh_table() -> (DynamoStore, String) {
    let client = dynamodb_client();
    let table = format!(
        "contacts-{}",
        contacts::model::MessagingId::generate()
            .as_ref()
            .to_lowercase()
    );
    create_table(&client, &table).await.expect("create table");
    (DynamoStore::new(client, table.clone()), table)
}

/// An in-process S3 stand-in (`s3s-fs`, which checks signatures) on a free
/// loopback port, serving a temporary folder; stops when dropped.
pub struct S3StandIn {
    pub endpoint: String,
    _root: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for S3StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The stand-in's credentials.
pub const S3_KEY: (&str, &str) = ("AKIDCONTACTSTEST", "contacts-test-secret");

impl S3StandIn {
    pub async fn start() -> Self {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let root = tempfile::TempDir::new().expect("temp dir");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(S3_KEY.0, S3_KEY.1));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Self {
            endpoint,
            _root: root,
            server,
        }
    }

    /// An S3 client for the stand-in (path-style addressing).
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                S3_KEY.0, S3_KEY.1, None, None, "tests",
            ))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A new bucket and an object store over it.
    pub async fn fresh_store(&self) -> contacts::store::s3::S3ObjectStore {
        let client = self.client();
        let bucket = format!(
            "contacts-{}",
            contacts::model::MessagingId::generate()
                .as_ref()
                .to_lowercase()
        );
        client
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create bucket");
        contacts::store::s3::S3ObjectStore::new(client, bucket)
    }
}

/// The SQS stand-in's endpoint; the test command sets it.
pub fn sqs_endpoint() -> String {
    std::env::var("CONTACTS_TEST_SQS_ENDPOINT").unwrap_or_else(|_| {
        panic!("CONTACTS_TEST_SQS_ENDPOINT is not set: run the tests with ./scripts/test, which starts an SQS stand-in")
    })
}

/// An SQS client for the stand-in.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    sqs_client_at(&sqs_endpoint())
}

/// An SQS client for `endpoint` (the stand-in, or a proxy in front of it).
pub fn sqs_client_at(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A new, empty queue; returns its URL.
pub async fn fresh_queue(client: &aws_sdk_sqs::Client) -> String {
    let name = format!(
        "continuations-{}",
        contacts::model::MessagingId::generate()
            .as_ref()
            .to_lowercase()
    );
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue URL")
}

/// The key of an S3 event's first record, decoded as the import function
/// decodes it.
pub fn decoded_sample_key(event: &serde_json::Value) -> String {
    let event: aws_lambda_events::event::s3::S3Event =
        serde_json::from_value(event.clone()).expect("an S3 event");
    contacts::lambda::created_objects(&event)
        .into_iter()
        .next()
        .and_then(|object| object.key.ok())
        .map(|key| key.as_ref().to_owned())
        .expect("a usable key")
}

/// Receives the messages of `queue` that are due, as Lambda's SQS event
/// source would deliver them (records of an SQS event), and deletes them,
/// as it does once the handler succeeds.
pub async fn receive_due(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    wait_seconds: i32,
) -> Vec<serde_json::Value> {
    let out = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    let mut records = Vec::new();
    for message in out.messages.unwrap_or_default() {
        let attributes: serde_json::Map<String, serde_json::Value> = message
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name.as_str().to_owned(), serde_json::Value::String(value)))
            .collect();
        records.push(serde_json::json!({
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "awsRegion": "us-east-1",
        }));
        sqs.delete_message()
            .queue_url(queue)
            .receipt_handle(message.receipt_handle.unwrap_or_default())
            .send()
            .await
            .expect("delete");
    }
    records
}
