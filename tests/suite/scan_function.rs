//! The scan function's handler on messages from its queue, as Lambda
//! delivers them: the table in DynamoDB Local, messages through the SQS
//! stand-in; the API's sample starts the scan.

use std::sync::Arc;

use contacts::audit::{Audit, Retention};
use contacts::duplicate_scan::runner::ScanRunner;
use contacts::duplicate_scan::{ScanId, ScanJob, ScanStatus};
use contacts::jobs::JobStore;
use contacts::lambda::continuations::ContinuationQueue;
use contacts::lambda::import::Outcome;
use contacts::lambda::scan::{ScanFunction, ScanHandled};
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use contacts::model::{
    ConsentSource, Country, DuplicateReason, Email, Name, NewContact, Reach, WorkspaceId,
};
use contacts::query::PageRequest;
use contacts::store::dynamo::DynamoStore;
use contacts::{AppState, ScanPorts};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::aws::{fresh_dynamo_store, fresh_queue, receive_due, sqs_client};
use crate::events::{invoke, sample};

/// The workspace of the samples.
const WS: &str = "demo";
/// The scan ID the SQS sample carries; the tests put real ones in.
const SAMPLE_SCAN: &str = "01JDQ3V6Y8M6F3XG2W5T9K0SCN";

struct Rig {
    function: ScanFunction,
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    state: AppState,
}

impl Rig {
    /// Reading two contacts at a time.
    async fn start() -> Self {
        let store = fresh_dynamo_store().await;
        let sqs = sqs_client();
        let queue = fresh_queue(&sqs).await;
        let base = AppState::over(
            store.clone(),
            Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
            None,
        );
        let state = base.clone().with_scans(ScanPorts {
            store: Arc::new(store.clone()),
            launcher: Arc::new(ContinuationQueue::new(sqs.clone(), &queue)),
        });
        let runner = ScanRunner::new(base, Arc::new(store.clone())).with_batch(2);
        let function = ScanFunction::new(runner, ContinuationQueue::new(sqs.clone(), &queue))
            .with_margin(std::time::Duration::ZERO);
        Self {
            function,
            store,
            sqs,
            queue,
            state,
        }
    }

    fn ws(&self) -> WorkspaceId {
        WorkspaceId::parse(WS).expect("workspace")
    }

    async fn person(&self, first: &str, last: &str, country: &str, email: &str) {
        let new = NewContact {
            external_id: None,
            first_name: Name::parse(first).ok(),
            last_name: Name::parse(last).ok(),
            reach: Reach::new(None, Email::parse(email).ok()).expect("reach"),
            country: Country::parse(country).ok(),
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

    /// Starts a scan through the API's sample; returns its ID.
    async fn start_scan(&self) -> ScanId {
        let router = contacts::http::contacts_router(self.state.clone());
        let (status, created) = invoke(router, &sample("contacts-start-scan.json")).await;
        assert_eq!(status, 202, "{created}");
        ScanId::parse(created["scan_id"].as_str().expect("scan_id")).expect("id")
    }

    /// Runs the handler on SQS records, with `ms` milliseconds to its deadline.
    async fn invoke(&self, records: Vec<Value>, ms: i64) -> Vec<ScanHandled> {
        let mut context = Context::default();
        context.deadline = u64::try_from(chrono::Utc::now().timestamp_millis() + ms).expect("ms");
        let event = serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
        self.function
            .handle(LambdaEvent::new(event, context))
            .await
            .expect("handler")
    }

    /// The SQS sample, carrying `id`.
    fn sample_records(id: &ScanId) -> Vec<Value> {
        let event: Value = serde_json::from_str(
            &sample("duplicate-scan-sqs-message.json").replace(SAMPLE_SCAN, id.as_ref()),
        )
        .expect("JSON");
        event["Records"].as_array().expect("records").clone()
    }

    async fn job(&self, id: &ScanId) -> ScanJob {
        self.store
            .job(&self.ws(), id.as_ref())
            .await
            .expect("job")
            .expect("found")
    }

    async fn similar_groups(&self) -> usize {
        contacts::service::duplicates::page(
            &self.store,
            &self.store,
            &self.ws(),
            Some(DuplicateReason::SimilarName),
            &PageRequest::first(50),
        )
        .await
        .expect("page")
        .items
        .len()
    }
}

fn outcomes(handled: &[ScanHandled]) -> Vec<Outcome> {
    handled.iter().map(|h| h.outcome).collect()
}

#[tokio::test]
async fn the_api_sample_starts_a_scan_that_its_function_runs_once() {
    let rig = Rig::start().await;
    rig.person("John", "Smith", "US", "john@a.example").await;
    rig.person("Jon", "Smith", "US", "jon@b.example").await;
    rig.person("Zoë", "Müller", "DE", "zoe@c.example").await;
    rig.person("Ann", "Lee", "GB", "ann@d.example").await;
    rig.person("Anne", "Lee", "FR", "anne@e.example").await;
    let id = rig.start_scan().await;

    // The sample, carrying the scan's ID, runs it through to its end.
    let handled = rig.invoke(Rig::sample_records(&id), 600_000).await;
    assert_eq!(outcomes(&handled), [Outcome::Completed]);
    assert_eq!(handled[0].scan_id.as_ref(), Some(&id));
    let job = rig.job(&id).await;
    assert_eq!(job.status, ScanStatus::Completed);
    assert_eq!((job.contacts_total, job.contacts_read), (5, 5));
    assert_eq!(job.groups, 1);
    assert_eq!(rig.similar_groups().await, 1);

    // The message the API sent comes too: the scan has ended.
    let messages = receive_due(&rig.sqs, &rig.queue, 1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        outcomes(&rig.invoke(messages, 600_000).await),
        [Outcome::Finished]
    );
}

#[tokio::test]
async fn a_scan_out_of_time_fails_saying_how_far_it_got_and_the_last_groups_stay() {
    let rig = Rig::start().await;
    rig.person("John", "Smith", "US", "john@a.example").await;
    rig.person("Jon", "Smith", "US", "jon@b.example").await;
    rig.person("Wei", "Zhang", "CN", "wei@c.example").await;
    let first = rig.start_scan().await;
    rig.invoke(Rig::sample_records(&first), 600_000).await;
    assert_eq!(rig.similar_groups().await, 1);

    let second = rig.start_scan().await;
    let handled = rig.invoke(Rig::sample_records(&second), 0).await;
    assert_eq!(outcomes(&handled), [Outcome::Failed]);
    let job = rig.job(&second).await;
    assert_eq!(job.status, ScanStatus::Failed);
    assert_eq!(
        job.failure.as_deref(),
        Some(
            "the scan read 0 of 3 contacts before the function's time ran out; \
             the groups of the last finished scan still show"
        )
    );
    assert_eq!(job.lease, None, "nothing holds a failed scan");
    assert_eq!(rig.similar_groups().await, 1);
}
