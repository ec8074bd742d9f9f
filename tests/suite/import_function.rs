//! The import function's handler on S3 events and continuation messages,
//! as Lambda delivers them: objects in the S3 stand-in, the table in
//! DynamoDB Local, continuations through the SQS stand-in.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use contacts::AppState;
use contacts::import::job::{ImportJob, ImportStatus, Lease};
use contacts::import::{ImportSettings, Runner};
use contacts::lambda::continuations::ContinuationQueue;
use contacts::lambda::import::{Handled, ImportFunction, Outcome};
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use contacts::model::{Contact, WorkspaceId};
use contacts::query::{ContactQuery, PageRequest};
use contacts::store::ContactStore;
use contacts::store::dynamo::DynamoStore;
use contacts::store::imports::ImportStore;
use contacts::store::objects::{ObjectKey, ObjectStore};
use contacts::store::s3::S3ObjectStore;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::aws::{S3StandIn, fresh_dynamo_store, fresh_queue, sqs_client};
use crate::faults::{Fault, FaultProxy, Hold};

const WS: &str = "acme";

/// The function over fresh stores, with its continuation queue.
struct Rig {
    function: ImportFunction,
    store: DynamoStore,
    objects: S3ObjectStore,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    state: AppState,
    /// Where faults are injected, when the function reaches its stores
    /// through proxies.
    faults: Option<Faults>,
    _s3: S3StandIn,
}

/// Proxies in front of DynamoDB Local and the SQS stand-in, and the table.
struct Faults {
    dynamodb: FaultProxy,
    sqs: FaultProxy,
    table: String,
}

impl Rig {
    /// Batches of `batch_rows` rows; no time is reserved before a deadline.
    async fn start(batch_rows: usize) -> Self {
        Self::over(fresh_dynamo_store().await, batch_rows).await
    }

    /// The same, over `store`.
    async fn over(store: DynamoStore, batch_rows: usize) -> Self {
        Self::build(store, sqs_client(), batch_rows, None).await
    }

    /// The same, over `store`, the workspace allowed `limit` contacts.
    async fn limited(store: DynamoStore, batch_rows: usize, limit: u64) -> Self {
        Self::build(store, sqs_client(), batch_rows, Some(limit)).await
    }

    /// The same, the function reaching DynamoDB and SQS through proxies
    /// that fail what a test tells them to.
    async fn faulty(batch_rows: usize) -> Self {
        let (_, table) = crate::aws::fresh_table().await;
        let faults = Faults {
            dynamodb: FaultProxy::start(crate::aws::dynamodb_endpoint()).await,
            sqs: FaultProxy::start(crate::aws::sqs_endpoint()).await,
            table: table.clone(),
        };
        let client = crate::aws::dynamodb_client_at(
            &faults.dynamodb.endpoint,
            contacts::lambda::import::retry_config(),
        );
        let sqs = crate::aws::sqs_client_at(&faults.sqs.endpoint);
        let mut rig = Self::build(DynamoStore::new(client, table), sqs, batch_rows, None).await;
        rig.faults = Some(faults);
        rig
    }

    /// The function over `store`, sending its messages with `function_sqs`.
    async fn build(
        store: DynamoStore,
        function_sqs: aws_sdk_sqs::Client,
        batch_rows: usize,
        limit: Option<u64>,
    ) -> Self {
        let s3 = S3StandIn::start().await;
        let objects = s3.fresh_store().await;
        let sqs = sqs_client();
        let queue = fresh_queue(&sqs).await;
        let state = AppState::over(
            store.clone(),
            Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
            limit,
        )
        .with_imports(Arc::new(store.clone()), Arc::new(objects.clone()));
        let runner = Runner::new(state.clone(), batch_rows).expect("runner");
        let function = ImportFunction::new(runner, ContinuationQueue::new(function_sqs, &queue))
            .with_margin(std::time::Duration::ZERO);
        Self {
            function,
            store,
            objects,
            sqs,
            queue,
            state,
            faults: None,
            _s3: s3,
        }
    }

    /// The proxies of a [`Rig::faulty`] rig.
    fn faults(&self) -> &Faults {
        self.faults.as_ref().expect("a rig made by Rig::faulty")
    }

    fn ws(&self) -> WorkspaceId {
        WorkspaceId::parse(WS).expect("workspace")
    }

    /// Puts an object; returns its version (ETag).
    async fn put(&self, key: &str, body: &str) -> String {
        self.put_bytes(key, body.as_bytes()).await
    }

    /// Puts `body` at `key`; returns its version.
    async fn put_bytes(&self, key: &str, body: &[u8]) -> String {
        let key = ObjectKey::parse(key).expect("key");
        self.objects
            .put(
                &key,
                Box::pin(std::io::Cursor::new(body.to_vec())),
                "text/csv",
            )
            .await
            .expect("put");
        self.objects
            .head(&key)
            .await
            .expect("head")
            .expect("found")
            .version
    }

    /// Runs the handler on an event, with `ms` milliseconds to its deadline.
    async fn invoke(&self, event: Value, ms: i64) -> Vec<Handled> {
        self.try_invoke(event, ms).await.expect("handler")
    }

    /// The same, the invocation allowed to fail (as Lambda would see it).
    async fn try_invoke(
        &self,
        event: Value,
        ms: i64,
    ) -> Result<Vec<Handled>, lambda_runtime::Error> {
        let mut context = Context::default();
        context.deadline = u64::try_from(chrono::Utc::now().timestamp_millis() + ms).expect("ms");
        self.function.handle(LambdaEvent::new(event, context)).await
    }

    /// Delivers due messages until the import ends, each invocation allowed
    /// to fail (its message is then lost, as after its last retry); fails
    /// if the import is still unfinished after `rounds` receives.
    async fn deliver_until_finished(&self, job: &ImportJob, rounds: usize) -> ImportJob {
        self.deliver_with_deadline(job, rounds, 600_000).await
    }

    /// The same, each invocation with `ms` milliseconds to its deadline.
    async fn deliver_with_deadline(&self, job: &ImportJob, rounds: usize, ms: i64) -> ImportJob {
        let mut handled = Vec::new();
        for _ in 0..rounds {
            let now = self.job(&job.id).await;
            if now.status.is_finished() {
                return now;
            }
            for message in self.due_messages(1).await {
                let outcome = self.try_invoke(json!({"Records": [message]}), ms).await;
                handled.push(outcome.map_err(|e| e.to_string()));
            }
        }
        let stuck = self.job(&job.id).await;
        panic!(
            "the import is stuck: {:?} {:?} after {handled:?}",
            stuck.status, stuck.lease
        );
    }

    /// Delivers the S3 event for `key` at `version`, with plenty of time.
    async fn uploaded(&self, key: &str, version: &str) -> Vec<Handled> {
        self.invoke(s3_event(key, version), 600_000).await
    }

    /// Receives the continuation messages that are due, as Lambda's SQS
    /// event source would deliver them.
    async fn due_messages(&self, wait_seconds: i32) -> Vec<Value> {
        crate::aws::receive_due(&self.sqs, &self.queue, wait_seconds).await
    }

    /// Contacts imported by a bucket drop, before the test's own import.
    async fn seed(&self, text: &str) {
        let key = format!("imports/{WS}/seed.csv");
        let version = self.put(&key, text).await;
        let handled = self.uploaded(&key, &version).await;
        assert_eq!(outcomes(&handled), [Outcome::Completed]);
    }

    /// Puts the import's checkpoint back to where its first batch began,
    /// as if no commit had finished.
    async fn roll_back_to_the_header(&self, job: &ImportJob) {
        self.roll_back_past(job, HEADER).await;
    }

    /// Moves the import's checkpoint back to just after `header`.
    async fn roll_back_past(&self, job: &ImportJob, header: &str) {
        let mut rolled_back = self.job(&job.id).await;
        rolled_back.counts = Default::default();
        rolled_back.progress.rows_done = 0;
        rolled_back.checkpoint.byte_offset = header.len() as u64;
        rolled_back.checkpoint.line = 2;
        self.store
            .save_import(&rolled_back)
            .await
            .expect("roll back");
    }

    /// Delivers continuations until the import has ended.
    async fn run_to_the_end(&self, job: &ImportJob) {
        while !self.job(&job.id).await.status.is_finished() {
            for message in self.due_messages(1).await {
                self.invoke(json!({"Records": [message]}), 600_000).await;
            }
        }
    }

    async fn job(&self, id: &contacts::import::ImportId) -> ImportJob {
        self.store
            .import(&self.ws(), id)
            .await
            .expect("read")
            .expect("found")
    }

    async fn contacts(&self) -> Vec<Contact> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(500);
        loop {
            let found = self
                .store
                .list(&self.ws(), &ContactQuery::default(), &page)
                .await
                .expect("list");
            all.extend(found.items);
            match found.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return all,
            }
        }
    }

    /// The first name of the contact holding `external_id`.
    async fn first_name(&self, external_id: &str) -> Option<String> {
        let id = contacts::model::ExternalId::parse(external_id).expect("id");
        let contact = self
            .store
            .get_by_external_id(&self.ws(), &id)
            .await
            .expect("read")
            .expect("a contact holds it");
        contact.first_name.map(|name| name.to_string())
    }

    async fn external_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .contacts()
            .await
            .iter()
            .map(|c| {
                c.external_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect();
        ids.sort();
        ids
    }
}

/// The `events/` sample with another key (encoded as S3 does: `+` for a
/// space, `%XX` for other bytes) and ETag.
fn s3_event(key: &str, version: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(&crate::events::sample("import-s3-object-created.json"))
            .expect("an S3 event");
    let object = &mut event["Records"][0]["s3"]["object"];
    object["key"] = Value::String(encode_key(key));
    object["eTag"] = Value::String(version.to_owned());
    event
}

fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'/' | b'.' | b'-' | b'_' => (b as char).to_string(),
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn outcomes(handled: &[Handled]) -> Vec<Outcome> {
    handled.iter().map(|h| h.outcome).collect()
}

/// The header row of [`csv`].
const HEADER: &str = "External ID,First Name,Email\n";

fn csv(rows: impl IntoIterator<Item = usize>) -> String {
    let mut text = String::from(HEADER);
    for n in rows {
        text.push_str(&format!("x-{n:03},Person {n},p{n}@example.com\n"));
    }
    text
}

/// Creates an import the way the API does (sidecar first); returns it.
async fn api_import(rig: &Rig, settings: ImportSettings) -> ImportJob {
    let name = contacts::import::service::FileName::parse("list.csv").expect("name");
    let ws = rig.ws();
    contacts::import::service::create(
        &rig.state,
        &rig.state.audit(&ws, "token:test"),
        settings,
        Some(name),
    )
    .await
    .expect("create")
}

/// An API import whose CSV, `text`, is in the bucket; with the S3 event
/// that announces it.
async fn staged(rig: &Rig, settings: ImportSettings, text: &str) -> (ImportJob, Value) {
    let job = api_import(rig, settings).await;
    let key = job.csv_key().expect("key");
    let version = rig.put(key.as_ref(), text).await;
    (job, s3_event(key.as_ref(), &version))
}

/// Starts an API import of `rows` whose first invocation has a moment: it
/// commits one batch and hands over to a continuation. Returns the import
/// and the S3 event that started it.
async fn handed_over(
    rig: &Rig,
    settings: ImportSettings,
    rows: std::ops::RangeInclusive<usize>,
) -> (ImportJob, Value) {
    let (job, event) = staged(rig, settings, &csv(rows)).await;
    let first = rig.invoke(event.clone(), 1).await;
    assert_eq!(outcomes(&first), [Outcome::Continued]);
    (job, event)
}

#[tokio::test]
async fn the_sample_event_imports_its_bucket_drop_once() {
    let rig = Rig::start(100).await;
    let key = "imports/demo/My Contacts é+1.csv";
    let version = rig.put(key, &csv(1..=3)).await;
    let mut event: Value =
        serde_json::from_str(&crate::events::sample("import-s3-object-created.json"))
            .expect("an S3 event");
    event["Records"][0]["s3"]["object"]["eTag"] = Value::String(version);
    let handled = rig.invoke(event.clone(), 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let id = handled[0].import_id.clone().expect("an import");
    let demo = WorkspaceId::parse("demo").expect("ws");
    let job = rig
        .store
        .import(&demo, &id)
        .await
        .expect("read")
        .expect("listed in the workspace");
    assert_eq!(job.file.name, "My Contacts é+1.csv");
    assert_eq!(job.counts.created, 3);

    let again = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&again), [Outcome::Finished], "a second delivery");
    assert_eq!(again[0].import_id, Some(id));
    let page = rig
        .store
        .list(&demo, &ContactQuery::default(), &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 3, "imported once");
}

/// Files dropped into the bucket as they were downloaded, with no settings:
/// a Mailchimp export (no External ID column) and a workbook. Both import
/// their people; the workbook's UTF-8 copy is gone once the import ends.
#[tokio::test]
async fn an_exporter_s_csv_and_a_workbook_dropped_as_they_are_import_their_people() {
    let rig = Rig::start(100).await;
    let mailchimp = crate::api_exporters::exported("mailchimp.csv");
    let sheet = contacts::export::workbook::from_csv(
        "\"Name\",\"Mobile\",\"Country\"\n\"Ana Lima\",\"011 98765 4321\",\"Brazil\"\n".as_bytes(),
    )
    .await
    .expect("workbook");
    for (key, body, created) in [
        ("imports/acme/subscribed_members_export.csv", mailchimp, 2),
        ("imports/acme/people.xlsx", sheet, 1),
    ] {
        let version = rig.put_bytes(key, &body).await;
        let handled = rig.invoke(s3_event(key, &version), 600_000).await;
        assert_eq!(outcomes(&handled), [Outcome::Completed], "{key}");
        let job = rig
            .job(&handled[0].import_id.clone().expect("an import"))
            .await;
        assert_eq!(job.counts.created, created, "{key}: {:?}", job.counts);
        assert_eq!(job.counts.rejected, 0, "{key}: {:?}", job.counts);
        let converted = job.converted_key().expect("key");
        assert!(rig.objects.head(&converted).await.expect("head").is_none());
    }
    let mut people: Vec<(String, String, String)> = rig
        .contacts()
        .await
        .iter()
        .map(|c| {
            assert_eq!(c.external_id, None);
            (
                c.first_name
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                c.reach.phone().map(ToString::to_string).unwrap_or_default(),
                c.country
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
        })
        .collect();
    people.sort();
    let expected = [
        ("Ana", "+5511987654321", "BR"),
        ("Jürgen", "+4930901820", "DE"),
        ("Sofía", "+34612345678", "ES"),
    ];
    assert_eq!(
        people,
        expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
}

#[tokio::test]
async fn an_api_import_runs_with_its_settings_when_its_csv_lands() {
    let rig = Rig::start(100).await;
    let settings: ImportSettings = serde_json::from_value(json!({
        "update_existing": {"match_by": "external_id", "missing_attributes": "keep"}
    }))
    .expect("settings");
    rig.seed("External ID,First Name,Email\nx-001,Old,old@example.com\n")
        .await;
    let (job, event) = staged(&rig, settings, &csv(1..=2)).await;
    let handled = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    assert_eq!(handled[0].import_id, Some(job.id.clone()));
    let done = rig.job(&job.id).await;
    assert_eq!((done.counts.created, done.counts.updated), (1, 1));
    let names: Vec<String> = rig
        .contacts()
        .await
        .iter()
        .map(|c| {
            c.first_name
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(names.contains(&"Person 1".to_owned()), "{names:?}");
}

#[tokio::test]
async fn a_bucket_drop_takes_its_sidecar_or_safe_defaults_and_a_bad_sidecar_fails_writing_nothing()
{
    let rig = Rig::start(100).await;
    rig.seed("External ID,First Name,Email\nx-001,Kept,kept@example.com\n")
        .await;

    let drop = format!("imports/{WS}/weekly export.csv");
    let version = rig.put(&drop, &csv(1..=3)).await;
    let handled = rig.uploaded(&drop, &version).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let job = rig.job(handled[0].import_id.as_ref().expect("id")).await;
    assert_eq!(job.settings, ImportSettings::default());
    assert_eq!(
        (job.counts.created, job.counts.skipped_existing),
        (2, 1),
        "new contacts only"
    );
    assert_eq!(rig.first_name("x-001").await.as_deref(), Some("Kept"));
    let listed = rig
        .store
        .imports(&rig.ws(), &PageRequest::first(10))
        .await
        .expect("imports");
    assert!(
        listed
            .items
            .iter()
            .any(|j| j.file.name == "weekly export.csv"),
        "listed like any import"
    );

    // A drop with its settings beside it, written first.
    rig.put(
        &format!("imports/{WS}/updates.json"),
        r#"{"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}}"#,
    )
    .await;
    let updates = format!("imports/{WS}/updates.csv");
    let version = rig
        .put(
            &updates,
            "External ID,First Name,Email\nx-001,Updated,kept@example.com\n",
        )
        .await;
    let handled = rig.uploaded(&updates, &version).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let job = rig.job(handled[0].import_id.as_ref().expect("id")).await;
    assert!(
        job.settings.update_existing.is_some(),
        "the sidecar's settings"
    );
    assert_eq!(job.counts.updated, 1);
    assert_eq!(rig.first_name("x-001").await.as_deref(), Some("Updated"));

    let bad = format!("imports/{WS}/bad.csv");
    rig.put(
        &format!("imports/{WS}/bad.json"),
        r#"{"existing_contacts": "forget"}"#,
    )
    .await;
    let version = rig.put(&bad, &csv(10..=12)).await;
    let handled = rig.uploaded(&bad, &version).await;
    assert_eq!(outcomes(&handled), [Outcome::Failed]);
    let failed = rig.job(handled[0].import_id.as_ref().expect("id")).await;
    assert_eq!(failed.status, ImportStatus::Failed);
    let failure = failed.failure.unwrap_or_default();
    assert!(
        failure.contains("bad.json") && failure.contains("existing_contacts"),
        "{failure}"
    );
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-003"],
        "nothing written"
    );
}

#[tokio::test]
async fn events_out_of_order_run_only_the_version_that_is_there() {
    let rig = Rig::start(100).await;
    let key = format!("imports/{WS}/daily.csv");
    let old = rig.put(&key, &csv(1..=2)).await;
    let new = rig.put(&key, &csv(5..=6)).await;
    assert_ne!(old, new);
    let handled = rig.uploaded(&key, &new).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let late = rig.uploaded(&key, &old).await;
    assert_eq!(
        outcomes(&late),
        [Outcome::Stale],
        "the overwritten version never runs"
    );
    assert_eq!(rig.external_ids().await, ["x-005", "x-006"]);
}

#[tokio::test]
async fn a_continuation_carries_an_import_across_three_invocations() {
    let rig = Rig::start(2).await;
    // Each invocation has a moment: one batch of 2 rows (the last one, the
    // file's end), then it hands over.
    let (job, event) = handed_over(&rig, ImportSettings::default(), 1..=5).await;
    let again = rig.invoke(event, 1).await;
    assert_eq!(
        outcomes(&again),
        [Outcome::Running],
        "a repeated delivery does nothing"
    );

    let mut invocations = 1;
    let mut seen = Vec::new();
    while !rig.job(&job.id).await.status.is_finished() {
        let messages = rig.due_messages(1).await;
        for message in messages {
            let handled = rig.invoke(json!({"Records": [message]}), 1).await;
            if matches!(handled[0].outcome, Outcome::Continued | Outcome::Completed) {
                invocations += 1;
            }
            seen.extend(outcomes(&handled));
        }
        assert!(invocations <= 3, "{seen:?}");
    }
    assert_eq!(invocations, 3, "{seen:?}");
    let done = rig.job(&job.id).await;
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!((done.counts.rows, done.counts.created), (5, 5));
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-003", "x-004", "x-005"]
    );
}

#[tokio::test]
async fn a_watchdog_resumes_an_import_whose_invocation_died() {
    let rig = Rig::start(2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=4).await;
    let watchdog = died_holding_the_lease(&rig, &job, 0).await;
    let handled = rig.invoke(watchdog.clone(), 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    assert_eq!(rig.external_ids().await.len(), 4);
    let late = rig.invoke(watchdog, 600_000).await;
    assert_eq!(outcomes(&late), [Outcome::Finished]);
}

/// The continuation is lost, and the run it went to died holding a lease
/// (the `runs`-th in a row to stop before a checkpoint) that has now
/// expired. Returns that run's watchdog message.
async fn died_holding_the_lease(rig: &Rig, job: &ImportJob, runs: u32) -> Value {
    let _lost = rig.due_messages(1).await;
    let mut died = rig.job(&job.id).await;
    let handed = died.lease.clone().map(|l| l.token);
    let dead = Lease {
        runs,
        ..Lease::new(contacts::model::now() - chrono::TimeDelta::seconds(1))
    };
    died.lease = Some(dead.clone());
    assert!(
        rig.store
            .hand_over(&died, handed.as_deref())
            .await
            .expect("hand over")
    );
    json!({"Records": [{
        "messageId": "watchdog",
        "body": json!({"workspace": WS, "import_id": job.id, "lease": dead.token}).to_string(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }]})
}

/// Three runs in a row that died before a checkpoint (killed at their
/// deadline, out of memory): the third one's watchdog fails the import.
#[tokio::test]
async fn three_runs_in_a_row_that_die_fail_the_import() {
    let rig = Rig::start(2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=4).await;
    let watchdog = died_holding_the_lease(&rig, &job, 3).await;
    let handled = rig.invoke(watchdog, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Failed]);
    let failed = rig.job(&job.id).await;
    assert!(failed.failure.unwrap_or_default().contains("3 times"));
    assert_eq!(rig.external_ids().await.len(), 2, "the first batch is kept");
}

#[tokio::test]
async fn a_continuation_that_keeps_failing_fails_the_import_and_removes_nothing() {
    let rig = Rig::start(2).await;
    rig.seed(&csv(100..=101)).await;
    let settings: ImportSettings =
        serde_json::from_value(json!({"existing_contacts": "remove"})).expect("settings");
    let (job, _) = handed_over(&rig, settings, 1..=6).await;
    let mut messages = rig.due_messages(1).await;
    assert_eq!(
        messages.len(),
        1,
        "the continuation (the watchdog is later)"
    );
    let mut message = messages.remove(0);
    message["attributes"]["ApproximateReceiveCount"] = json!("4");
    let handled = rig.invoke(json!({"Records": [message]}), 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Failed]);
    assert_failed_keeping_the_first_batch(&rig, &job, "3 times").await;
}

/// The import failed saying `why`, keeping its first batch and the
/// contacts seeded before it (it removed nothing).
async fn assert_failed_keeping_the_first_batch(rig: &Rig, job: &ImportJob, why: &str) {
    let failed = rig.job(&job.id).await;
    assert_eq!(failed.status, ImportStatus::Failed);
    assert!(
        failed.failure.as_deref().unwrap_or_default().contains(why),
        "{:?} should say {why}",
        failed.failure
    );
    assert_eq!(failed.counts.removed, 0);
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-100", "x-101"],
        "the first batch is kept, nothing is removed"
    );
}

#[tokio::test]
async fn the_api_samples_start_an_import_that_its_upload_runs() {
    let rig = Rig::start(100).await;
    let router = contacts::http::imports_router(rig.state.clone());
    let (status, created) = crate::events::invoke(
        router.clone(),
        &crate::events::sample("imports-create.json"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let url = created["upload_url"].as_str().expect("upload_url");
    let response = reqwest::Client::new()
        .put(url)
        .header("content-type", "text/csv")
        .body(csv(1..=3))
        .send()
        .await
        .expect("upload");
    assert!(response.status().is_success(), "{}", response.status());

    // S3 now notifies the import function.
    let id = created["import_id"].as_str().expect("import_id");
    let key = format!("imports/demo/{id}.csv");
    let version = rig
        .objects
        .head(&ObjectKey::parse(&key).expect("key"))
        .await
        .expect("head")
        .expect("uploaded")
        .version;
    let handled = rig.uploaded(&key, &version).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);

    let (status, listed) =
        crate::events::invoke(router, &crate::events::sample("imports-list.json")).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["import_id"], id);
    assert_eq!(listed["items"][0]["status"], "completed");
    assert_eq!(listed["items"][0]["counts"]["created"], 3);
    assert_eq!(listed["items"][0]["file"]["name"], "customers.csv");
}

/// The README's import on the Lambda stand-ins, as written: the file its
/// `printf` writes, put at the key its `curl` names (the sample's key,
/// decoded), and the sample with the ETag its `sed` puts in, run through
/// the import function; then its listing sample shows the import.
#[tokio::test]
async fn the_readme_lambda_import_works_as_written() {
    let readme = std::fs::read_to_string(format!("{}/../README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("README.md");
    let block = readme
        .split("An import on the same stand-ins")
        .nth(1)
        .and_then(|rest| rest.split("```sh").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README's import sequence");
    let line = |start: &str| {
        block
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?}"))
    };
    let content = line("printf '")
        .split('\'')
        .nth(1)
        .expect("printf's text")
        .replace("\\n", "\n");
    let url = line("curl ").split('"').rev().nth(1).expect("curl's URL");
    let encoded = url
        .split("/contacts-local/")
        .nth(1)
        .expect("a key in the bucket");
    let key = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("UTF-8")
        .into_owned();
    let sample = crate::events::sample("import-s3-object-created.json");
    let sed = line("sed ");
    let placeholder = sed
        .split("s/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("sed's pattern");
    assert!(
        sample.contains(&format!("\"eTag\": \"{placeholder}\"")),
        "{sed}"
    );
    assert!(sed.contains("events/import-s3-object-created.json > uploaded.json"));
    assert!(block.contains("cargo lambda invoke fn-import $L --data-file uploaded.json"));
    assert!(
        block.contains("cargo lambda invoke fn-imports $L --data-file events/imports-list.json")
    );

    let rig = Rig::start(100).await;
    let version = rig.put(&key, &content).await;
    let event: Value =
        serde_json::from_str(&sample.replace(placeholder, &version)).expect("an S3 event");
    assert_eq!(
        crate::aws::decoded_sample_key(&event),
        key,
        "the curl puts the object the sample names"
    );
    let handled = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let (status, listed) = crate::events::invoke(
        contacts::http::imports_router(rig.state.clone()),
        &crate::events::sample("imports-list.json"),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["status"], "completed");
    assert_eq!(listed["items"][0]["counts"]["created"], 2);
}

/// A run that stopped after writing a batch's contacts and remembered keys
/// but before its checkpoint (a crash inside a commit) repeats that batch:
/// it finds the contacts it created by their IDs and counts them as
/// created, takes its own remembered keys for no duplicates, and the import
/// ends with exactly the file's contacts and counts.
#[tokio::test]
async fn a_batch_repeated_after_a_crash_inside_its_commit_counts_exactly() {
    let rig = Rig::start(2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=5).await;
    assert_eq!(rig.job(&job.id).await.counts.created, 2);
    rig.roll_back_to_the_header(&job).await;
    rig.run_to_the_end(&job).await;
    let done = rig.job(&job.id).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!(
        (
            done.counts.rows,
            done.counts.created,
            done.counts.skipped_existing,
            done.counts.rejected
        ),
        (5, 5, 0, 0)
    );
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-003", "x-004", "x-005"]
    );
}

/// Under throttling — requests refused with `ProvisionedThroughputExceeded`
/// or `ThrottlingException`, batch items handed back unprocessed — an
/// import (creates, then updates of the same contacts) retries and ends
/// with exactly the file's contacts, counts and usage.
#[tokio::test]
async fn an_import_under_throttling_loses_nothing_and_applies_nothing_twice() {
    let (_, table) = crate::aws::fresh_table().await;
    let proxy = crate::throttling::ThrottlingProxy::start(crate::aws::dynamodb_endpoint(), 5).await;
    let client =
        crate::aws::dynamodb_client_at(&proxy.endpoint, contacts::lambda::import::retry_config());
    let rig = Rig::over(DynamoStore::new(client, table), 10).await;
    rig.seed(&csv(1..=40)).await;
    let settings: ImportSettings = serde_json::from_value(json!({
        "update_existing": {"match_by": "external_id", "missing_attributes": "keep"}
    }))
    .expect("settings");
    let edited = csv(21..=60).replace("Person", "Renamed");
    let (job, event) = staged(&rig, settings, &edited).await;
    let handled = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let done = rig.job(&job.id).await;
    assert_eq!(
        (
            done.counts.rows,
            done.counts.created,
            done.counts.updated,
            done.counts.rejected
        ),
        (40, 20, 20, 0)
    );
    assert!(
        proxy.refused.load(std::sync::atomic::Ordering::Relaxed) > 10,
        "throttled"
    );
    let contacts = rig.contacts().await;
    assert_eq!(contacts.len(), 60);
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 60);
    let renamed = contacts
        .iter()
        .filter(|c| {
            c.first_name
                .as_ref()
                .is_some_and(|n| n.as_ref().starts_with("Renamed"))
        })
        .count();
    assert_eq!(renamed, 40);
    assert!(
        contacts.iter().all(|c| c.version <= 2),
        "no update applied twice"
    );
}

/// Deletes the contact items of the workspace, leaving their guards and
/// counts: what a run that died between its guards and its contacts leaves.
async fn drop_contact_items(rig: &Rig, table: &str) {
    let raw = crate::aws::dynamodb_client();
    for contact in rig.contacts().await {
        raw.delete_item()
            .table_name(table)
            .key(
                "pk",
                AttributeValue::S(format!("C#{WS}#{}", contact.messaging_id)),
            )
            .key("sk", AttributeValue::S("C".into()))
            .send()
            .await
            .expect("delete");
    }
}

/// A run that died after its batch's guards and counts but before its
/// contacts: the repeat finds the guards its rows' IDs hold, writes the
/// contacts without counting them again, and the import ends exact.
#[tokio::test]
async fn a_batch_repeated_after_its_guards_but_before_its_contacts_counts_exactly() {
    let (store, table) = crate::aws::fresh_table().await;
    let rig = Rig::over(store, 2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=5).await;
    drop_contact_items(&rig, &table).await;
    rig.roll_back_to_the_header(&job).await;
    rig.run_to_the_end(&job).await;
    let done = rig.job(&job.id).await;
    assert_eq!(
        (done.counts.rows, done.counts.created, done.counts.rejected),
        (5, 5, 0)
    );
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-003", "x-004", "x-005"]
    );
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 5);
}

/// A new contact as the API makes it, with `external_id`.
fn api_contact(external_id: &str) -> contacts::store::NewRecord {
    let new = contacts::model::NewContact {
        external_id: contacts::model::ExternalId::parse(external_id).ok(),
        first_name: None,
        last_name: None,
        reach: contacts::model::Reach::new(
            None,
            contacts::model::Email::parse("api@example.com").ok(),
        )
        .expect("reach"),
        country: None,
        timezone: None,
        consent: Vec::new(),
        attributes: Default::default(),
        lists: Default::default(),
    };
    Contact::create(
        new,
        &contacts::model::ConsentSource::api(),
        contacts::model::now(),
    )
    .expect("contact")
}

/// The guard of `external_id`.
fn guard_key(external_id: &str) -> std::collections::HashMap<String, AttributeValue> {
    [
        (
            "pk".to_owned(),
            AttributeValue::S(format!("X#{WS}#{external_id}")),
        ),
        ("sk".to_owned(), AttributeValue::S("X".into())),
    ]
    .into()
}

/// Makes the guard of `external_id` two hours old.
async fn age_guard(table: &str, external_id: &str) {
    let two_hours_ago = contacts::model::now() - chrono::TimeDelta::hours(2);
    crate::aws::dynamodb_client()
        .update_item()
        .table_name(table)
        .set_key(Some(guard_key(external_id)))
        .update_expression("SET guarded_at = :at")
        .expression_attribute_values(
            ":at",
            AttributeValue::N(two_hours_ago.timestamp_micros().to_string()),
        )
        .send()
        .await
        .expect("age the guard");
}

/// The time (µs) and holder of the guard of `external_id`.
async fn guard_of(table: &str, external_id: &str) -> (i64, String) {
    let item = crate::aws::dynamodb_client()
        .get_item()
        .table_name(table)
        .set_key(Some(guard_key(external_id)))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("a guard");
    let at = match item.get("guarded_at") {
        Some(AttributeValue::N(at)) => at.parse().expect("a time"),
        _ => 0,
    };
    let holder = match item.get("holder") {
        Some(AttributeValue::S(holder)) => holder.clone(),
        _ => String::new(),
    };
    (at, holder)
}

/// A guard whose contact never came holds its External ID only for a while:
/// a create naming it is refused at first, and succeeds once the guard is
/// older than any run could be; the usage count stays exact.
#[tokio::test]
async fn a_guard_left_without_its_contact_is_freed_once_old() {
    let (store, table) = crate::aws::fresh_table().await;
    let rig = Rig::over(store, 1).await;
    handed_over(&rig, ImportSettings::default(), 1..=3).await;
    drop_contact_items(&rig, &table).await;
    let fresh = rig
        .store
        .insert(&rig.ws(), &api_contact("x-001"), None)
        .await;
    assert!(
        matches!(
            fresh,
            Err(contacts::error::Error::DuplicateExternalId { .. })
        ),
        "{fresh:?}"
    );
    age_guard(&table, "x-001").await;
    rig.store
        .insert(&rig.ws(), &api_contact("x-001"), None)
        .await
        .expect("the old guard is freed");
    assert_eq!(rig.external_ids().await, ["x-001"]);
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 1);
}

/// The continuation that carries an import on from a checkpoint is lost
/// (its send fails, and so the invocation): the lease was handed over
/// under the token the run's watchdog already carries, so the watchdog
/// carries the import on, and it ends exact — no sweeper needed.
#[tokio::test]
async fn a_lost_continuation_still_ends_the_import() {
    let rig = Rig::faulty(2).await;
    let (job, event) = staged(&rig, ImportSettings::default(), &csv(1..=5)).await;
    // The run's watchdog goes first; the continuation after its batch fails.
    rig.faults()
        .sqs
        .inject(Fault::next("SendMessage", 1).after(1));
    let first = rig.try_invoke(event, 1).await;
    assert!(first.is_err(), "the invocation fails with its send");
    assert_eq!(rig.faults().sqs.failed(), 1);
    assert_eq!(rig.job(&job.id).await.counts.created, 2, "one batch ran");

    let done = rig.deliver_until_finished(&job, 30).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!((done.counts.rows, done.counts.created), (5, 5));
    assert_eq!(
        rig.external_ids().await,
        ["x-001", "x-002", "x-003", "x-004", "x-005"]
    );
}

/// A file of 3 good rows and 4 with a bad email.
fn with_rejected_rows() -> String {
    let mut text = csv(1..=3);
    for n in 4..=7 {
        text.push_str(&format!("x-{n:03},Person {n},not-an-email-{n}\n"));
    }
    text
}

/// The import's error CSV, as stored (`None` when there is none).
async fn stored_error_csv(rig: &Rig, job: &ImportJob) -> Option<String> {
    let key = job.errors_key().expect("key");
    let mut reader = rig.objects.get(&key).await.expect("get")?;
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut text)
        .await
        .expect("read");
    Some(text)
}

/// Starts an import of [`with_rejected_rows`] whose one invocation fails
/// as `fault` makes it; then lets its watchdog finish it. Returns the
/// import as it ended and its error CSV.
async fn report_after(fault: Fault) -> (ImportJob, Option<String>) {
    let rig = Rig::faulty(50).await;
    let (job, event) = staged(&rig, ImportSettings::default(), &with_rejected_rows()).await;
    rig.faults().dynamodb.inject(fault);
    let first = rig.try_invoke(event, 1).await;
    assert!(first.is_err(), "the invocation fails: {first:?}");
    assert_eq!(rig.faults().dynamodb.failed(), 1);
    let errors = stored_error_csv(&rig, &job).await;
    assert!(
        errors.as_deref().is_none_or(|e| e.lines().count() == 5),
        "no file cut short: {errors:?}"
    );
    let done = rig.deliver_until_finished(&job, 30).await;
    let errors = stored_error_csv(&rig, &job).await;
    (done, errors)
}

fn assert_whole_report(done: &ImportJob, errors: Option<&str>) {
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!((done.counts.created, done.counts.rejected), (3, 4));
    let errors = errors.expect("an error CSV");
    let lines: Vec<&str> = errors.lines().collect();
    assert_eq!(lines.len(), 5, "{errors}");
    for (line, n) in lines[1..].iter().zip(4..) {
        assert!(line.starts_with(&format!("\"x-{n:03}\",")), "{errors}");
    }
}

/// Reading the rejected rows fails while the error CSV is being written:
/// no file cut short is stored, the rows are kept, and the next run writes
/// the whole file.
#[tokio::test]
async fn an_error_csv_whose_rows_could_not_be_read_is_written_whole_by_the_next_run() {
    let (done, errors) = report_after(Fault::next("Query", 1).containing("IR#")).await;
    assert_whole_report(&done, errors.as_deref());
}

/// The import's final state can't be stored after its error CSV was
/// written: its rejected rows are still there, so the next run writes the
/// same file again instead of an empty one.
#[tokio::test]
async fn an_error_csv_survives_a_run_stopped_before_its_final_state() {
    let fault = Fault::next("BatchWriteItem", 1)
        .containing("DeleteRequest")
        .containing("\"IU\"");
    let (done, errors) = report_after(fault).await;
    assert_whole_report(&done, errors.as_deref());
}

/// Three invocations in a row each commit a batch and then die before
/// handing over (their hand-over fails): each made progress, so none
/// counts towards failing the import, and it ends exact.
#[tokio::test]
async fn runs_that_die_after_a_checkpoint_never_fail_the_import() {
    let rig = Rig::faulty(2).await;
    let (job, event) = staged(&rig, ImportSettings::default(), &csv(1..=9)).await;
    // A hand-over at the end of a run stores a lease with no runs counted.
    rig.faults()
        .dynamodb
        .inject(Fault::next("PutItem", 3).containing(r#"runs\":0"#));
    let first = rig.try_invoke(event, 1).await;
    assert!(first.is_err(), "{first:?}");
    // Each watchdog's run has a moment: one batch, then it dies too.
    let done = rig.deliver_with_deadline(&job, 60, 1).await;
    assert_eq!(rig.faults().dynamodb.failed(), 3);
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!((done.counts.rows, done.counts.created), (9, 9));
    assert_eq!(rig.external_ids().await.len(), 9);
}

/// The same bucket drop delivered twice at once: one import, run once.
#[tokio::test]
async fn a_bucket_drop_delivered_twice_at_once_imports_once() {
    let rig = Rig::start(2).await;
    let key = format!("imports/{WS}/twice.csv");
    let version = rig.put(&key, &csv(1..=6)).await;
    let event = s3_event(&key, &version);
    let (a, b) = tokio::join!(
        rig.try_invoke(event.clone(), 600_000),
        rig.try_invoke(event, 600_000)
    );
    let mut seen: Vec<Outcome> = [a, b]
        .into_iter()
        .flat_map(|handled| outcomes(&handled.expect("handler")))
        .collect();
    seen.sort_by_key(|o| format!("{o:?}"));
    assert!(seen.contains(&Outcome::Completed), "{seen:?}");
    let page = rig
        .store
        .imports(&rig.ws(), &PageRequest::first(10))
        .await
        .expect("imports");
    assert_eq!(page.items.len(), 1, "one import");
    let done = &page.items[0];
    assert_eq!((done.counts.rows, done.counts.created), (6, 6));
    assert_eq!(rig.external_ids().await.len(), 6);
}

/// A continuation redriven from the dead-letter queue a week after its
/// import started (queues keep messages 14 days, remembered keys last 7):
/// the import fails saying why, rather than resuming without what it
/// remembered, and removes nothing.
#[tokio::test]
async fn an_import_resumed_after_its_keys_expired_fails_and_removes_nothing() {
    let rig = Rig::start(2).await;
    rig.seed(&csv(100..=101)).await;
    let settings: ImportSettings =
        serde_json::from_value(json!({"existing_contacts": "remove"})).expect("settings");
    let (job, _) = handed_over(&rig, settings, 1..=6).await;
    let mut old = rig.job(&job.id).await;
    old.started_at = Some(contacts::model::now() - chrono::TimeDelta::days(7));
    rig.store.save_import(&old).await.expect("save");
    let messages = rig.due_messages(1).await;
    assert_eq!(messages.len(), 1, "the continuation");
    let handled = rig
        .invoke(json!({"Records": [messages[0].clone()]}), 600_000)
        .await;
    assert_eq!(outcomes(&handled), [Outcome::Failed]);
    assert_failed_keeping_the_first_batch(&rig, &job, "7 days").await;
}

/// A create frees an abandoned guard while a late repeat of the import's
/// batch writes the guard's contact (between the create's look at the
/// contact and its freeing transaction): the freeing checks, in the
/// transaction, that the contact is still absent, so the create is refused
/// and the External ID stays its contact's alone.
#[tokio::test]
async fn a_guard_is_not_freed_while_its_late_contact_is_written() {
    let rig = Rig::faulty(1).await;
    handed_over(&rig, ImportSettings::default(), 1..=3).await;
    let table = rig.faults().table.clone();
    let raw = crate::aws::dynamodb_client();
    let contact = rig
        .contacts()
        .await
        .into_iter()
        .find(|c| {
            c.external_id
                .as_ref()
                .is_some_and(|id| id.as_ref() == "x-001")
        })
        .expect("x-001");
    let key: std::collections::HashMap<String, AttributeValue> = [
        (
            "pk".to_owned(),
            AttributeValue::S(format!("C#{WS}#{}", contact.messaging_id)),
        ),
        ("sk".to_owned(), AttributeValue::S("C".into())),
    ]
    .into();
    let item = raw
        .get_item()
        .table_name(&table)
        .set_key(Some(key.clone()))
        .send()
        .await
        .expect("get")
        .item
        .expect("the contact's item");
    raw.delete_item()
        .table_name(&table)
        .set_key(Some(key))
        .send()
        .await
        .expect("not written yet");
    age_guard(&table, "x-001").await;

    let hold = Hold::default();
    rig.faults()
        .dynamodb
        .inject(Fault::hold("TransactWriteItems", &hold).containing("guarded_at = :at"));
    let (store, ws) = (rig.store.clone(), rig.ws());
    let create = tokio::spawn(async move { store.insert(&ws, &api_contact("x-001"), None).await });
    hold.arrived.notified().await;
    raw.put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .expect("the late repeat writes the contact");
    hold.release.notify_one();
    let created = create.await.expect("task");
    assert!(
        matches!(
            &created,
            Err(contacts::error::Error::DuplicateExternalId { holder, .. })
                if *holder == contact.messaging_id
        ),
        "{created:?}"
    );
    assert_eq!(
        guard_of(&table, "x-001").await.1,
        contact.messaging_id.to_string()
    );
    assert_eq!(rig.external_ids().await, ["x-001"]);
}

/// A batch repeated more than an hour after its guards were written (its
/// contacts never came) renews the guards it finds its own before writing
/// the contacts, so none of them can be freed as abandoned under it.
#[tokio::test]
async fn a_late_repeat_renews_its_guards_before_writing_its_contacts() {
    let (store, table) = crate::aws::fresh_table().await;
    let rig = Rig::over(store, 2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=5).await;
    drop_contact_items(&rig, &table).await;
    age_guard(&table, "x-001").await;
    let before = contacts::model::now().timestamp_micros();
    rig.roll_back_to_the_header(&job).await;
    rig.run_to_the_end(&job).await;
    let (at, _) = guard_of(&table, "x-001").await;
    assert!(at >= before, "renewed: {at} < {before}");
    let done = rig.job(&job.id).await;
    assert_eq!((done.counts.rows, done.counts.created), (5, 5));
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 5);
}

/// New contacts only, a row per batch, and the email and phone indexes
/// behind the writes (every lookup on them finds nothing yet): a row that
/// repeats the email or phone of a contact created two batches earlier is
/// still that row's duplicate, not a second contact.
#[tokio::test]
async fn a_repeated_email_or_phone_is_a_duplicate_however_far_the_index_lags() {
    let rig = Rig::faulty(1).await;
    rig.faults().dynamodb.inject(Fault::answer(
        "ExecuteStatement",
        1_000,
        axum::http::StatusCode::OK,
        json!({"Items": []}),
    ));
    let text = "External ID,First Name,Email,Phone Number\n\
        x-001,Ann,ann@example.com,\n\
        x-002,Bo,bo@example.com,+12025550143\n\
        x-003,Ann again,ANN@example.com,\n\
        x-004,Bo again,,+1 202 555 0143\n";
    let (job, event) = staged(&rig, ImportSettings::default(), text).await;
    let handled = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let done = rig.job(&job.id).await;
    assert_eq!(
        (done.counts.rows, done.counts.created, done.counts.rejected),
        (4, 2, 2)
    );
    assert_eq!(rig.external_ids().await, ["x-001", "x-002"]);
    let errors = stored_error_csv(&rig, &done).await.expect("error CSV");
    assert!(errors.contains("duplicate Email: row 2"), "{errors}");
    assert!(errors.contains("duplicate Phone Number: row 3"), "{errors}");
}

/// A file without External IDs whose first batch is repeated after its
/// commit while the email index lags: the repeat finds no contact by email,
/// creates its rows' contacts again under the same IDs, and counts none of
/// them twice; every row is one contact.
#[tokio::test]
async fn a_file_without_external_ids_repeated_while_the_index_lags_counts_exactly() {
    let rig = Rig::faulty(2).await;
    let header = "First Name,Email\n";
    let mut text = String::from(header);
    for n in 1..=5 {
        text.push_str(&format!("Person {n},p{n}@example.com\n"));
    }
    let (job, event) = staged(&rig, ImportSettings::default(), &text).await;
    let first = rig.invoke(event, 1).await;
    assert_eq!(outcomes(&first), [Outcome::Continued]);
    assert_eq!(rig.job(&job.id).await.counts.created, 2);
    rig.faults().dynamodb.inject(Fault::answer(
        "ExecuteStatement",
        1_000,
        axum::http::StatusCode::OK,
        json!({"Items": []}),
    ));
    rig.roll_back_past(&job, header).await;
    rig.run_to_the_end(&job).await;
    let done = rig.job(&job.id).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!(
        (done.counts.rows, done.counts.created, done.counts.rejected),
        (5, 5, 0)
    );
    let contacts = rig.contacts().await;
    assert_eq!(contacts.len(), 5);
    assert!(contacts.iter().all(|c| c.external_id.is_none()));
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 5);
}

/// Writing a batch's contacts fails after its guards were taken (an
/// error the retries don't cure): the invocation fails, not the import,
/// and the watchdog repeats the batch, exact — every row created once,
/// the usage counted once.
#[tokio::test]
async fn an_error_between_guards_and_contacts_is_repeated_not_fatal() {
    let rig = Rig::faulty(2).await;
    let (job, event) = staged(&rig, ImportSettings::default(), &csv(1..=5)).await;
    rig.faults()
        .dynamodb
        .inject(Fault::next("BatchWriteItem", 1).containing(r#""sk":{"S":"C"}"#));
    let first = rig.try_invoke(event, 1).await;
    assert!(first.is_err(), "{first:?}");
    assert_eq!(rig.faults().dynamodb.failed(), 1);
    assert!(!rig.job(&job.id).await.status.is_finished());
    let done = rig.deliver_until_finished(&job, 30).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!((done.counts.rows, done.counts.created), (5, 5));
    assert_eq!(rig.external_ids().await.len(), 5);
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 5);
}

/// An import that died between its guards and its contacts and was never
/// resumed leaves guards holding External IDs; importing the same file
/// again within the hour refuses just those rows, naming the holder, and
/// imports the rest.
#[tokio::test]
async fn rows_whose_external_id_an_abandoned_import_holds_are_refused_naming_it() {
    let (store, table) = crate::aws::fresh_table().await;
    let rig = Rig::over(store, 2).await;
    let (abandoned, _) = handed_over(&rig, ImportSettings::default(), 1..=4).await;
    drop_contact_items(&rig, &table).await;
    let mut failed = rig.job(&abandoned.id).await;
    failed.fail("stopped");
    failed.lease = None;
    rig.store.save_import(&failed).await.expect("save");
    let (_, holder) = guard_of(&table, "x-001").await;

    let (again, event) = staged(&rig, ImportSettings::default(), &csv(1..=4)).await;
    let handled = rig.invoke(event, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let done = rig.job(&again.id).await;
    assert_eq!(
        (done.counts.rows, done.counts.created, done.counts.rejected),
        (4, 2, 2)
    );
    let errors = stored_error_csv(&rig, &done).await.expect("error CSV");
    assert!(
        errors.contains(&format!(
            "External ID \"\"x-001\"\" is already used by contact {holder}"
        )),
        "{errors}"
    );
    assert_eq!(rig.external_ids().await, ["x-003", "x-004"]);
}

/// A batch repeated after its guards were counted but before its contacts
/// were written, in a workspace at its usage limit with them: the repeat
/// knows its own rows are counted already, creates them, and refuses only
/// the row beyond the limit; the usage stays exact.
#[tokio::test]
async fn a_batch_repeated_at_the_usage_limit_counts_its_rows_once() {
    let (store, table) = crate::aws::fresh_table().await;
    let rig = Rig::limited(store, 2, 2).await;
    let (job, _) = handed_over(&rig, ImportSettings::default(), 1..=3).await;
    drop_contact_items(&rig, &table).await;
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 2);
    rig.roll_back_to_the_header(&job).await;
    rig.run_to_the_end(&job).await;
    let done = rig.job(&job.id).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!(
        (done.counts.rows, done.counts.created, done.counts.rejected),
        (3, 2, 1)
    );
    assert_eq!(rig.external_ids().await, ["x-001", "x-002"]);
    assert_eq!(rig.store.count(&rig.ws()).await.expect("count"), 2);
    let errors = stored_error_csv(&rig, &done).await.expect("error CSV");
    assert!(errors.contains("\"x-003\""), "{errors}");
    assert!(errors.contains("limit"), "{errors}");
}

/// An update-by-External-ID import of four renamed contacts in one batch,
/// one of whose updates `fault` upsets; returns the import as it ended.
async fn updates_with(fault: Fault, first_deadline_ms: i64) -> (Rig, ImportJob) {
    let (rig, job, event) = staged_renames().await;
    rig.faults().dynamodb.inject(fault);
    let _ = rig.try_invoke(event, first_deadline_ms).await;
    assert_eq!(rig.faults().dynamodb.failed(), 1);
    let done = rig.deliver_until_finished(&job, 30).await;
    (rig, done)
}

/// A faulty rig with four contacts and, staged, an update-by-External-ID
/// import that renames them all in one batch; with the S3 event that starts it.
async fn staged_renames() -> (Rig, ImportJob, Value) {
    let rig = Rig::faulty(10).await;
    rig.seed(&csv(1..=4)).await;
    let settings: ImportSettings = serde_json::from_value(json!({
        "update_existing": {"match_by": "external_id", "missing_attributes": "keep"}
    }))
    .expect("settings");
    let (job, event) = staged(&rig, settings, &csv(1..=4).replace("Person", "Renamed")).await;
    (rig, job, event)
}

/// The update of `external_id` answered as a lost race: its version changed.
fn lost_race(external_id: &str) -> Fault {
    let cancelled = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
    });
    let mut fault = update_of(external_id);
    fault.answer = Some((axum::http::StatusCode::BAD_REQUEST, cancelled));
    fault
}

/// The update of the contact `external_id` in an import's batch.
fn update_of(external_id: &str) -> Fault {
    Fault::next("TransactWriteItems", 1)
        .containing(format!("\"{external_id}\""))
        .containing("version = :v")
}

async fn assert_all_updated(rig: &Rig, done: &ImportJob) {
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.failure);
    assert_eq!(
        (done.counts.rows, done.counts.updated, done.counts.unchanged),
        (4, 4, 0),
        "{:?}",
        done.counts
    );
    for n in 1..=4 {
        assert_eq!(
            rig.first_name(&format!("x-{n:03}")).await.as_deref(),
            Some(format!("Renamed {n}").as_str())
        );
    }
}

/// One update of a batch loses a race (its version changed), the others
/// are applied: the batch is planned again from fresh reads, and the rows
/// already applied still count as updated, not unchanged.
#[tokio::test]
async fn updates_applied_before_a_replan_count_as_updated() {
    let (rig, done) = updates_with(lost_race("x-002"), 600_000).await;
    assert_all_updated(&rig, &done).await;
}

/// One update of a batch fails with an error its retries don't cure, the
/// others are applied, and the invocation fails: the watchdog's run plans
/// the batch again, and the rows already applied count as updated.
#[tokio::test]
async fn updates_applied_before_a_crash_count_as_updated() {
    let (rig, done) = updates_with(update_of("x-003"), 1).await;
    assert_all_updated(&rig, &done).await;
}

/// One update of a batch fails at once while another is still on its way:
/// the batch is planned again only once that write has ended, so the plan
/// never reads the contact it changed without the mark that says so (a
/// plan that did would count the row unchanged).
#[tokio::test]
async fn a_failed_update_waits_for_the_batch_s_writes_in_flight_before_the_replan() {
    let (rig, job, event) = staged_renames().await;
    let (in_flight, lookup) = (Hold::default(), Hold::default());
    rig.faults().dynamodb.inject(lost_race("x-002"));
    rig.faults()
        .dynamodb
        .inject(Fault::hold("TransactWriteItems", &in_flight).containing("\"x-004\""));
    let controller = async {
        in_flight.arrived.notified().await;
        // The next read of contacts by ID is the batch's plan made again.
        rig.faults()
            .dynamodb
            .inject(Fault::hold("BatchGetItem", &lookup).containing(format!("\"C#{WS}#")));
        let replanned_early =
            tokio::time::timeout(std::time::Duration::from_secs(1), lookup.arrived.notified())
                .await
                .is_ok();
        // The write lands now: after the plan's other reads, before this one.
        in_flight.release.notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        if !replanned_early {
            lookup.arrived.notified().await;
        }
        lookup.release.notify_one();
        replanned_early
    };
    let (handled, replanned_early) = tokio::join!(rig.try_invoke(event, 600_000), controller);
    handled.expect("the invocation");
    assert_all_updated(&rig, &rig.job(&job.id).await).await;
    assert!(
        !replanned_early,
        "the batch was planned again with a write in flight"
    );
}

/// A CSV dropped into the bucket refuses the rows of an erased person, as
/// an import through the API does.
#[tokio::test]
async fn a_bucket_drop_refuses_the_rows_of_an_erased_person() {
    let rig = Rig::start(100).await;
    rig.seed(&csv(1..=1)).await;
    let erased = rig.contacts().await.remove(0);
    let ws = rig.ws();
    let audit = rig.state.audit(&ws, "token:test");
    contacts::privacy::service::erase(&rig.state, &audit, &erased.messaging_id)
        .await
        .expect("erase");
    let key = format!("imports/{}/again.csv", rig.ws().as_ref());
    let version = rig.put(&key, &csv(1..=2)).await;
    let handled = rig.invoke(s3_event(&key, &version), 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let job = rig
        .job(&handled[0].import_id.clone().expect("an import"))
        .await;
    assert_eq!(
        (
            job.counts.created,
            job.counts.rejected,
            job.counts.suppressed
        ),
        (1, 1, 1),
        "{:?}",
        job.counts
    );
}
