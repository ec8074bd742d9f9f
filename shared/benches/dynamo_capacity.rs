//! DynamoDB requests and consumed capacity per store operation, against the
//! stand-in at `CONTACTS_TEST_DYNAMODB_ENDPOINT` (`./scripts/bench` starts
//! DynamoDB Local). Writes `target/bench/dynamo-capacity.md`.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::Utc;
use contacts::model::{
    Channel, ConsentChoice, ConsentSource, Contact, Country, Email, ExternalId, Name, NewContact,
    PhoneNumber, Reach, WorkspaceId,
};
use contacts::query::{ListRequest, PageRequest};
use contacts::store::ContactStore;
use contacts::store::dynamo::{CapacityMeter, DynamoStore, Usage, per_shard_items};

fn record(i: usize) -> (Contact, Vec<contacts::model::ConsentChange>) {
    let new = NewContact {
        external_id: ExternalId::parse(&format!("crm-{i}")).ok(),
        first_name: Name::parse(["Ann", "Bob", "Maria", "Liam"][i % 4]).ok(),
        last_name: Name::parse(&format!("Berg{}", i % 97)).ok(),
        reach: Reach::new(
            PhoneNumber::parse(&format!("+1415555{:04}", i % 10_000)).ok(),
            Email::parse(&format!("user{i}@example.com")).ok(),
        )
        .expect("reachable"),
        country: Country::parse(["US", "DE", "GB"][i % 3]).ok(),
        timezone: None,
        consent: if i.is_multiple_of(2) {
            vec![(Channel::Sms, ConsentChoice::Subscribed)]
        } else {
            vec![]
        },
        attributes: Default::default(),
        lists: Default::default(),
    };
    Contact::create(new, &ConsentSource::api(), Utc::now()).expect("a valid contact")
}

fn row(report: &mut String, operation: &str, usage: Usage, per: f64) {
    let _ = writeln!(
        report,
        "| {operation} | {:.1} | {:.1} | {:.1} |",
        usage.requests as f64 / per,
        usage.read_units / per,
        usage.write_units / per
    );
}

/// An export of the workspace's `contacts` contacts through the port (16
/// shards read in parallel), next to what a parallel `Scan` of the table
/// (16 segments) reads for the same contacts.
async fn export_rows(
    report: &mut String,
    store: &DynamoStore,
    (client, table): (&aws_sdk_dynamodb::Client, &str),
    meter: &CapacityMeter,
    ws: &WorkspaceId,
    contacts: usize,
) {
    use contacts::export::{ExportJob, ExportRunner};
    use contacts::jobs::JobStore;
    let dir = tempfile::TempDir::new().expect("dir");
    let objects =
        contacts::store::folder::FolderStore::open(dir.path(), "http://bench").expect("objects");
    let auth = contacts::http::auth::BearerTokens::parse("t=bench").expect("tokens");
    let state = contacts::AppState::over(store.clone(), Arc::new(auth), None);
    let job = ExportJob::new(
        ws,
        Default::default(),
        vec!["external_id".into()],
        Default::default(),
    );
    store.put_job(&job).await.expect("job");
    meter.take();
    let done = ExportRunner::new(state, Arc::new(store.clone()), Arc::new(objects))
        .run(ws, &job.id, Default::default())
        .await
        .expect("export");
    assert_eq!(done.rows as usize, contacts);
    let per = contacts as f64 / 1000.0;
    let mut usage = meter.take();
    // The job's own reads and writes are not the export's reading.
    usage.write_units = 0.0;
    row(
        report,
        "export, reading every contact, per 1,000 contacts",
        usage,
        per,
    );

    let (mut requests, mut units) = (0_u64, 0.0);
    for segment in 0..16 {
        let mut pages = client
            .scan()
            .table_name(table)
            .segment(segment)
            .total_segments(16)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.expect("scan");
            requests += 1;
            units += page
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or_default();
        }
    }
    let _ = writeln!(
        report,
        "| parallel `Scan` of the table (16 segments), per 1,000 contacts | {:.1} | {:.1} | 0.0 |",
        requests as f64 / per,
        units / per
    );
}

mod support;

#[tokio::main]
async fn main() {
    let endpoint = std::env::var("CONTACTS_TEST_DYNAMODB_ENDPOINT").expect(
        "CONTACTS_TEST_DYNAMODB_ENDPOINT: run ./scripts/bench, which starts DynamoDB Local",
    );
    let (client, table) = support::dynamodb_table(&endpoint, "bench").await;
    let meter = Arc::new(CapacityMeter::default());
    let store = DynamoStore::new(client.clone(), table.clone()).with_meter(Arc::clone(&meter));
    let ws = WorkspaceId::parse("bench").expect("workspace");

    let mut report = String::from("# DynamoDB: requests and capacity per operation\n\n");
    let _ = writeln!(
        report,
        "Against DynamoDB Local through the `ContactStore` port; capacity as reported by \
         `ReturnConsumedCapacity::TOTAL` (table and indexes). A list page evaluates at most \
         16 shards × {} items for `limit=50` (its share, and one more to tell a shard's end).\n",
        per_shard_items(50) + 1
    );
    let _ = writeln!(
        report,
        "| operation | requests | read units | write units |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|");

    let bulk = 3_000;
    let records: Vec<_> = (0..bulk).map(record).collect();
    meter.take();
    for chunk in records.chunks(500) {
        let outcomes = store.insert_batch(&ws, chunk, None).await.expect("batch");
        assert!(outcomes.iter().all(Result::is_ok));
    }
    row(
        &mut report,
        "bulk insert, per 1,000 contacts",
        meter.take(),
        bulk as f64 / 1000.0,
    );

    let table_scan = (&client, table.as_str());
    export_rows(&mut report, &store, table_scan, &meter, &ws, bulk).await;

    let one = record(bulk + 1);
    store.insert(&ws, &one, None).await.expect("insert");
    row(&mut report, "create (no limit)", meter.take(), 1.0);
    let two = record(bulk + 2);
    store
        .insert(&ws, &two, Some(1_000_000))
        .await
        .expect("insert");
    row(&mut report, "create (with usage limit)", meter.take(), 1.0);

    store.get(&ws, &one.0.messaging_id).await.expect("get");
    row(&mut report, "get by Messaging ID", meter.take(), 1.0);
    store
        .get_by_external_id(&ws, one.0.external_id.as_ref().expect("id"))
        .await
        .expect("get");
    row(&mut report, "get by External ID", meter.take(), 1.0);

    let mut edited = one.0.clone();
    edited.first_name = Name::parse("Edited").ok();
    edited.version += 1;
    store
        .update(&ws, &edited, one.0.version, &[])
        .await
        .expect("update");
    row(&mut report, "update (same External ID)", meter.take(), 1.0);
    let mut moved = edited.clone();
    moved.external_id = ExternalId::parse("crm-moved").ok();
    moved.version += 1;
    store
        .update(&ws, &moved, edited.version, &[])
        .await
        .expect("update");
    row(&mut report, "update (new External ID)", meter.take(), 1.0);

    store.count(&ws).await.expect("count");
    row(&mut report, "usage count", meter.take(), 1.0);

    for (name, query) in [
        ("list page, unfiltered", ""),
        ("list page, full_name words", "full_name=ann"),
        ("list page, first_name words", "first_name=mar"),
        ("list page, last_name words", "last_name=berg1"),
        ("list page, phone digits", "phone=5550"),
        ("list page, email words", "email=user1"),
        (
            "list page, full_name[contains]",
            "full_name%5Bcontains%5D=ann",
        ),
        ("list page, country", "country=DE"),
        ("list page, sms_consent", "sms_consent=subscribed"),
    ] {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
        let request = ListRequest::from_pairs(&pairs, &[]).expect("request");
        let page = store
            .list(&ws, &request.query, &PageRequest::first(50))
            .await
            .expect("list");
        let usage = meter.take();
        let _ = writeln!(
            report,
            "| {name} ({} items) | {:.1} | {:.1} | {:.1} |",
            page.items.len(),
            usage.requests as f64,
            usage.read_units,
            usage.write_units
        );
    }

    store
        .delete(&ws, &two.0.messaging_id)
        .await
        .expect("delete");
    row(
        &mut report,
        "delete (with 1 consent change)",
        meter.take(),
        1.0,
    );

    println!("{report}");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bench/dynamo-capacity.md"
    );
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench")).expect("dir");
    std::fs::write(path, report).expect("report");
}
