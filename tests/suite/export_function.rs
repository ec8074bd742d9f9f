//! The export function's handler on messages from its queue, as Lambda
//! delivers them: the table in DynamoDB Local, files in the S3 stand-in,
//! messages through the SQS stand-in.

use std::sync::Arc;

use contacts::audit::{Audit, Retention};
use contacts::export::job::{ExportJob, ExportStatus};
use contacts::export::{ExportId, ExportRunner};
use contacts::jobs::{JobStore, Lease};
use contacts::lambda::continuations::ContinuationQueue;
use contacts::lambda::export::{ExportFunction, ExportHandled};
use contacts::lambda::import::Outcome;
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use contacts::model::{
    ConsentSource, Country, Email, ExternalId, Name, NewContact, Reach, WorkspaceId,
};
use contacts::store::dynamo::DynamoStore;
use contacts::store::objects::{ObjectKey, ObjectStore};
use contacts::store::s3::S3ObjectStore;
use contacts::{AppState, ExportPorts};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::aws::{S3StandIn, fresh_dynamo_store, fresh_queue, receive_due, sqs_client};
use crate::events::{invoke, sample};
use crate::faults::{Fault, FaultProxy};

/// The workspace of the samples.
const WS: &str = "demo";
/// The export ID the samples carry; the tests put real ones in.
const SAMPLE_EXPORT: &str = "01JDQ3V6Y8M6F3XG2W5T9K0EXP";

/// The function over fresh stores, with its queue.
struct Rig {
    function: ExportFunction,
    store: DynamoStore,
    objects: S3ObjectStore,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    state: AppState,
    _s3: S3StandIn,
}

impl Rig {
    /// Reading `batch` contacts at a time, sending parts of `part_bytes`.
    async fn start(batch: usize, part_bytes: usize) -> Self {
        Self::over(fresh_dynamo_store().await, batch, part_bytes).await
    }

    /// The same, over `store`.
    async fn over(store: DynamoStore, batch: usize, part_bytes: usize) -> Self {
        let s3 = S3StandIn::start().await;
        let objects = s3.fresh_store().await;
        let sqs = sqs_client();
        let queue = fresh_queue(&sqs).await;
        let base = AppState::over(
            store.clone(),
            Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
            None,
        );
        let state = base.clone().with_exports(ExportPorts {
            store: Arc::new(store.clone()),
            objects: Arc::new(objects.clone()),
            launcher: Arc::new(ContinuationQueue::new(sqs.clone(), &queue)),
        });
        let runner = ExportRunner::new(base, Arc::new(store.clone()), Arc::new(objects.clone()))
            .with_batch(batch)
            .with_part_bytes(part_bytes);
        let function = ExportFunction::new(runner, ContinuationQueue::new(sqs.clone(), &queue))
            .with_margin(std::time::Duration::ZERO);
        Self {
            function,
            store,
            objects,
            sqs,
            queue,
            state,
            _s3: s3,
        }
    }

    fn ws(&self) -> WorkspaceId {
        WorkspaceId::parse(WS).expect("workspace")
    }

    /// `n` contacts, every third in Germany.
    async fn seed(&self, n: usize) {
        for i in 0..n {
            let new = NewContact {
                external_id: ExternalId::parse(&format!("crm-{i:03}")).ok(),
                first_name: Some(Name::parse(&format!("Ann \"{i}\", Jr.")).expect("name")),
                last_name: None,
                reach: Reach::new(
                    None,
                    Some(Email::parse(&format!("ann{i}@example.com")).expect("email")),
                )
                .expect("reach"),
                country: Some(Country::parse(if i % 3 == 0 { "DE" } else { "US" }).expect("c")),
                timezone: None,
                consent: Vec::new(),
                attributes: Default::default(),
                lists: Default::default(),
            };
            let ws = self.ws();
            let audit = Audit::new(&self.store, Retention::default(), &ws, "token:test");
            contacts::service::create(&self.store, &audit, new, &ConsentSource::api(), None)
                .await
                .expect("create");
        }
    }

    /// Runs the handler on SQS records, with `ms` milliseconds to its deadline.
    async fn invoke(&self, records: Vec<Value>, ms: i64) -> Vec<ExportHandled> {
        let mut context = Context::default();
        context.deadline = u64::try_from(chrono::Utc::now().timestamp_millis() + ms).expect("ms");
        let event = serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
        self.function
            .handle(LambdaEvent::new(event, context))
            .await
            .expect("handler")
    }

    async fn due(&self) -> Vec<Value> {
        receive_due(&self.sqs, &self.queue, 1).await
    }

    async fn job(&self, id: &ExportId) -> ExportJob {
        self.store
            .job(&self.ws(), id.as_ref())
            .await
            .expect("job")
            .expect("found")
    }

    async fn create(&self, request: Value) -> ExportId {
        let job = contacts::export::service::create(
            &self.state,
            &self.ws(),
            serde_json::from_value(request).expect("request"),
        )
        .await
        .expect("create");
        job.id
    }

    /// The export's file, through a fresh link, as rows (BOM checked).
    async fn file(&self, id: &ExportId) -> Vec<String> {
        let router = contacts::http::exports_router(self.state.clone());
        let event = sample("exports-get.json").replace(SAMPLE_EXPORT, id.as_ref());
        let (status, body) = invoke(router, &event).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "completed", "{body}");
        let response = reqwest::get(body["download_url"].as_str().expect("url"))
            .await
            .expect("download");
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(
            response.headers()["content-disposition"],
            format!(
                "attachment; filename=\"{}\"",
                body["file_name"].as_str().expect("name")
            )
            .as_str()
        );
        let bytes = response.bytes().await.expect("bytes");
        assert_eq!(body["bytes"], bytes.len());
        let text =
            std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM")).expect("UTF-8");
        assert!(!text.contains('\u{feff}'), "one BOM, at the start");
        text.split_terminator("\r\n").map(str::to_owned).collect()
    }
}

fn outcomes(handled: &[ExportHandled]) -> Vec<Outcome> {
    handled.iter().map(|h| h.outcome).collect()
}

#[tokio::test]
async fn the_api_samples_start_an_export_that_its_function_runs() {
    let rig = Rig::start(500, 8 * 1024 * 1024).await;
    rig.seed(9).await;
    let router = contacts::http::exports_router(rig.state.clone());
    let (status, created) = invoke(router, &sample("exports-create.json")).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["status"], "queued");

    // The API sent the export's first message; SQS delivers it.
    let messages = rig.due().await;
    assert_eq!(messages.len(), 1);
    let handled = rig.invoke(messages, 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    let id = ExportId::parse(created["export_id"].as_str().expect("id")).expect("id");
    assert_eq!(handled[0].export_id.as_ref(), Some(&id));

    let mut rows = rig.file(&id).await;
    assert_eq!(
        rows.remove(0),
        r#""External ID","First Name","Email","Country""#
    );
    rows.sort();
    assert_eq!(
        rows,
        [0, 3, 6].map(|i| format!(r#""crm-00{i}","Ann ""{i}"", Jr.","ann{i}@example.com","DE""#))
    );
    assert!(rig.due().await.is_empty(), "nothing more to do");
}

#[tokio::test]
async fn the_sample_message_runs_its_export_once() {
    let rig = Rig::start(500, 8 * 1024 * 1024).await;
    rig.seed(4).await;
    let id = rig.create(json!({"columns": ["external_id"]})).await;
    rig.due().await;
    let message: Value = serde_json::from_str(
        &sample("export-sqs-message.json").replace(SAMPLE_EXPORT, id.as_ref()),
    )
    .expect("sample");
    let records = message["Records"].as_array().expect("records").clone();
    assert_eq!(
        outcomes(&rig.invoke(records.clone(), 600_000).await),
        [Outcome::Completed]
    );
    let rows = rig.file(&id).await;
    assert_eq!(rows.len(), 5);
    // Delivered again (at least once): nothing happens.
    assert_eq!(
        outcomes(&rig.invoke(records, 600_000).await),
        [Outcome::Finished]
    );
    assert!(rig.due().await.is_empty());
}

#[tokio::test]
async fn a_continuation_carries_an_export_across_invocations() {
    // Batches of about 16 contacts: each invocation, out of time after one
    // batch, keeps its rows in the pending object and hands over.
    let rig = Rig::start(16, 8 * 1024 * 1024).await;
    rig.seed(60).await;
    let id = rig.create(json!({})).await;
    let mut messages = rig.due().await;
    let mut invocations = 0;
    let mut last_pending = Vec::new();
    loop {
        assert_eq!(messages.len(), 1, "one message at a time");
        invocations += 1;
        let handled = rig.invoke(messages, 0).await;
        if handled[0].outcome == Outcome::Completed {
            break;
        }
        assert_eq!(outcomes(&handled), [Outcome::Continued]);
        let job = rig.job(&id).await;
        assert_eq!(job.status, ExportStatus::Running);
        last_pending.extend(job.checkpoint.pending.clone());
        assert!(job.checkpoint.pending.is_some(), "{job:?}");
        assert!(job.rows > 0 && job.bytes > 0, "progress is saved: {job:?}");
        messages = rig.due().await;
        assert!(invocations < 50, "the export never ended");
    }
    assert!(invocations >= 3, "{invocations} invocations");
    let job = rig.job(&id).await;
    assert_eq!(job.rows, 60);
    assert!(job.lease.is_none());
    let mut pending = Vec::new();
    for key in &last_pending {
        let key = ObjectKey::parse(key).expect("key");
        pending.extend(rig.objects.head(&key).await.expect("head"));
    }
    assert!(pending.is_empty(), "pending rows are deleted once sent");
    let mut rows = rig.file(&id).await;
    assert!(
        rows.remove(0)
            .starts_with(r#""Messaging ID","External ID","#)
    );
    assert_eq!(
        external_ids(&rows),
        (0..60).map(|i| format!("crm-{i:03}")).collect::<Vec<_>>()
    );
}

/// The External IDs of CSV rows (second column), sorted.
fn external_ids(rows: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| {
            r.split(',')
                .nth(1)
                .expect("External ID")
                .trim_matches('"')
                .to_owned()
        })
        .collect();
    ids.sort();
    ids
}

/// 60 contacts and an export of two columns whose runner reads 16 at a
/// time and sends parts of 256 bytes to a folder store (which takes parts of
/// any size; S3 wants 5 MiB): the runner, the store, its folder and the
/// export.
async fn parts_of_256_bytes(
    rig: &Rig,
) -> (
    ExportRunner,
    contacts::store::folder::FolderStore,
    tempfile::TempDir,
    ExportId,
) {
    rig.seed(60).await;
    let data = tempfile::TempDir::new().expect("dir");
    let folder = contacts::store::folder::FolderStore::open(data.path(), "http://127.0.0.1:9")
        .expect("folder");
    let runner = ExportRunner::new(
        rig.state.clone(),
        Arc::new(rig.store.clone()),
        Arc::new(folder.clone()),
    )
    .with_batch(16)
    .with_part_bytes(256);
    let id = rig
        .create(json!({"columns": ["external_id", "first_name"]}))
        .await;
    (runner, folder, data, id)
}

/// The export's file in the folder store.
async fn folder_file(folder: &contacts::store::folder::FolderStore, id: &ExportId) -> Vec<u8> {
    let key = ObjectKey::parse(&format!("exports/{WS}/{id}.csv")).expect("key");
    let mut file = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(
        &mut folder.get(&key).await.expect("get").expect("file"),
        &mut file,
    )
    .await
    .expect("read");
    file
}

#[tokio::test]
async fn runs_stopped_after_every_batch_send_parts_and_resume_exactly() {
    // Parts of 256 bytes (the folder store takes parts of any size; S3
    // wants 5 MiB), a run stopped after every batch of about 16 contacts.
    let rig = Rig::start(16, 256).await;
    let (runner, folder, _data, id) = parts_of_256_bytes(&rig).await;
    let (mut runs, mut parts) = (0, 0);
    let job = loop {
        runs += 1;
        let budget = contacts::jobs::Budget {
            batches: Some(1),
            ..Default::default()
        };
        let job = runner.run(&rig.ws(), &id, budget).await.expect("run");
        parts = parts.max(job.checkpoint.upload.as_ref().map_or(0, |u| u.parts.len()));
        if job.status.is_finished() {
            break job;
        }
        assert!(runs < 50, "the export never ended");
    };
    assert_eq!(job.status, ExportStatus::Completed);
    assert!(runs >= 3 && parts >= 2, "{runs} runs, {parts} parts");
    let file = folder_file(&folder, &id).await;
    assert_eq!(job.bytes, file.len() as u64);
    let text =
        std::str::from_utf8(file.strip_prefix(b"\xEF\xBB\xBF").expect("BOM")).expect("UTF-8");
    let mut rows: Vec<String> = text.split_terminator("\r\n").map(str::to_owned).collect();
    assert_eq!(rows.remove(0), r#""External ID","First Name""#);
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| {
            r.split(',')
                .next()
                .expect("id")
                .trim_matches('"')
                .to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        (0..60).map(|i| format!("crm-{i:03}")).collect::<Vec<_>>()
    );
}

/// A run that dies after completing the file's upload but before storing
/// the export as done (that write fails): the next run recognises the
/// completed file instead of failing on an upload that is gone.
#[tokio::test]
async fn a_run_that_died_after_completing_the_upload_leaves_a_completed_export() {
    let (_, table) = crate::aws::fresh_table().await;
    let proxy = FaultProxy::start(crate::aws::dynamodb_endpoint()).await;
    let client =
        crate::aws::dynamodb_client_at(&proxy.endpoint, contacts::lambda::import::retry_config());
    let rig = Rig::over(DynamoStore::new(client, table), 16, 256).await;
    let (runner, folder, _data, id) = parts_of_256_bytes(&rig).await;
    // The write that marks the export done drops its unfinished marker.
    proxy.inject(
        Fault::next("BatchWriteItem", 1)
            .containing("DeleteRequest")
            .containing(r#""EU""#),
    );
    let died = runner.run(&rig.ws(), &id, Default::default()).await;
    assert!(died.is_err(), "{died:?}");
    assert_eq!(proxy.failed(), 1);
    let job = runner
        .run(&rig.ws(), &id, Default::default())
        .await
        .expect("the next run");
    assert_eq!(job.status, ExportStatus::Completed, "{:?}", job.failure);
    assert_eq!(job.rows, 60);
    let file = folder_file(&folder, &id).await;
    assert_eq!(job.bytes, file.len() as u64);
    assert_eq!(
        String::from_utf8(file)
            .expect("UTF-8")
            .matches("\r\n")
            .count(),
        61
    );
}

#[tokio::test]
async fn a_held_lease_makes_a_message_wait_and_dead_runs_fail_the_export() {
    let rig = Rig::start(500, 8 * 1024 * 1024).await;
    rig.seed(2).await;
    let id = rig.create(json!({})).await;
    let first = rig.due().await;

    // Another invocation holds the export: the message comes back later.
    let mut job = rig.job(&id).await;
    let held = Lease::after(None, contacts::model::now() + chrono::TimeDelta::seconds(2));
    job.lease = Some(held.clone());
    assert!(rig.store.hand_over_job(&job, None).await.expect("take"));
    assert_eq!(
        outcomes(&rig.invoke(first, 600_000).await),
        [Outcome::Waiting]
    );
    let again = receive_due(&rig.sqs, &rig.queue, 5).await;
    assert_eq!(again.len(), 1, "sent again for when the lease ends");

    // That holder and two more died without a checkpoint: the export fails.
    job.lease = Some(Lease {
        runs: 3,
        ..Lease::new(contacts::model::now())
    });
    assert!(
        rig.store
            .hand_over_job(&job, Some(&held.token))
            .await
            .expect("die")
    );
    assert_eq!(
        outcomes(&rig.invoke(again, 600_000).await),
        [Outcome::Failed]
    );
    let job = rig.job(&id).await;
    assert_eq!(job.status, ExportStatus::Failed);
    assert!(
        job.failure
            .as_deref()
            .is_some_and(|f| f.contains("3 times")),
        "{job:?}"
    );
}
