//! Word-prefix search on DynamoDB Local at growing sizes: one workspace
//! filled through the import's bulk path with the rows of the benchmark
//! file (`BENCH_IMPORT_CSV`, from `../shared/bench/gen_csv.py`), after ten
//! older contacts named Wilhelmina Quaresma; at each size in
//! `BENCH_SEARCH_SIZES` (default `10000,30000,100000`) the first page of each
//! search, its requests, items read and time, next to what the substring
//! search (a bounded scan of the workspace) finds on its first page; and
//! the write units per contact. One contact in a hundred gets a duplicate
//! (its email in other case) through the API's path, and the first page of
//! duplicate groups is measured the same way, then a scan for similar
//! names of the whole workspace. Writes `target/bench/dynamo-search.md`.

use std::fmt::Write as _;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use contacts::import::job::ImportJob;
use contacts::import::settings::ImportSettings;
use contacts::model::{
    AttributeId, AttributeValue, ConsentSource, Contact, Country, Email, ExternalId, MessagingId,
    Name, NewContact, PhoneNumber, Reach, WorkspaceId,
};
use contacts::query::{ListRequest, PageRequest};
use contacts::store::dynamo::{CapacityMeter, DynamoStore};
use contacts::store::imports::{Commit, ImportStore};
use contacts::store::{ContactStore, NewRecord};

/// A contact from a row of the benchmark file (no quoted fields in it).
fn from_row(line: &str, plan: &AttributeId) -> Option<NewRecord> {
    let cells: Vec<&str> = line.split(',').collect();
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert(
        plan.clone(),
        AttributeValue::Text(cells.get(10)?.to_string()),
    );
    let new = NewContact {
        external_id: ExternalId::parse(cells.first()?).ok(),
        first_name: Name::parse(cells.get(1)?).ok(),
        last_name: Name::parse(cells.get(2)?).ok(),
        reach: Reach::new(
            PhoneNumber::parse(cells.get(4)?).ok(),
            Email::parse(cells.get(3)?).ok(),
        )
        .ok()?,
        country: Country::parse(cells.get(5)?).ok(),
        timezone: None,
        consent: Vec::new(),
        attributes,
        lists: Default::default(),
    };
    Contact::create(new, &ConsentSource::api(), Utc::now()).ok()
}

/// A report row for a page read since `started`, with what `meter` counted.
fn row(name: &str, items: usize, more: bool, meter: &CapacityMeter, started: Instant) -> String {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let usage = meter.take();
    format!(
        "| {name} | {items} | {} | {} | {} | {:.1} | {ms:.0} |",
        if more { "yes" } else { "no" },
        usage.requests,
        usage.items,
        usage.read_units,
    )
}

/// Inserts through the port a new contact with `contact`'s email, its
/// first letter in capitals (a duplicate ignoring case).
async fn plant_duplicate(store: &DynamoStore, ws: &WorkspaceId, contact: &Contact) {
    let Some(email) = contact.reach.email().map(|e| e.as_ref().to_owned()) else {
        return;
    };
    let shouted = support::capitalised(&email);
    let new = NewContact {
        external_id: ExternalId::parse(&format!("dup-{}", contact.messaging_id)).ok(),
        first_name: contact.first_name.clone(),
        last_name: contact.last_name.clone(),
        reach: Reach::new(None, Email::parse(&shouted).ok()).expect("reachable"),
        country: contact.country.clone(),
        timezone: None,
        consent: Vec::new(),
        attributes: Default::default(),
        lists: Default::default(),
    };
    let record = Contact::create(new, &ConsentSource::api(), Utc::now()).expect("contact");
    store.insert(ws, &record, None).await.expect("insert");
}

/// An older contact the searches look for: `name` (first and last), an
/// email at `domain`, `phone`.
fn older(i: usize, name: [&str; 2], domain: &str, phone: &PhoneNumber) -> NewRecord {
    let new = NewContact {
        external_id: ExternalId::parse(&format!("wq-{i}")).ok(),
        first_name: Name::parse(name[0]).ok(),
        last_name: Name::parse(name[1]).ok(),
        reach: Reach::new(
            Some(phone.clone()),
            Email::parse(&format!("w{i}@{domain}")).ok(),
        )
        .expect("reachable"),
        country: None,
        timezone: None,
        consent: Vec::new(),
        attributes: Default::default(),
        lists: Default::default(),
    };
    Contact::create(new, &ConsentSource::api(), Utc::now()).expect("contact")
}

async fn commit(store: &DynamoStore, ws: &WorkspaceId, creates: Vec<NewRecord>) {
    let job = ImportJob::new(ws, ImportSettings::default(), "bench.csv".into());
    store.create_import(&job).await.expect("import");
    let commit = Commit {
        job,
        creates,
        updates: Vec::new(),
        deletes: Vec::new(),
        seen: Vec::new(),
        rejected: Vec::new(),
    };
    store
        .commit(ws, Arc::new(commit), None)
        .await
        .expect("commit");
}

/// Scans the workspace for similar names and reports what the scan read
/// and wrote.
async fn scan_row(
    store: &DynamoStore,
    ws: &WorkspaceId,
    meter: &CapacityMeter,
    report: &mut String,
) {
    use contacts::duplicate_scan::ScanJob;
    use contacts::duplicate_scan::runner::ScanRunner;
    use contacts::jobs::JobStore;
    let auth = contacts::http::auth::BearerTokens::parse("t=bench").expect("tokens");
    let state = contacts::AppState::over(store.clone(), Arc::new(auth), None);
    let job = ScanJob::new(ws);
    store.put_job(&job).await.expect("job");
    meter.take();
    let started = Instant::now();
    let done = ScanRunner::new(state, Arc::new(store.clone()))
        .run(ws, &job.id, Default::default())
        .await
        .expect("scan");
    let seconds = started.elapsed().as_secs_f64();
    let usage = meter.take();
    let _ = writeln!(
        report,
        "Scan for similar names (every contact read, groups written):\n\n\
         | contacts read | groups | too common | requests | read units | read units per 1,000 | write units | s |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {} | {} | {} | {:.1} | {:.2} | {:.1} | {seconds:.1} |\n",
        done.contacts_read,
        done.groups,
        done.too_common,
        usage.requests,
        usage.read_units,
        usage.read_units * 1000.0 / done.contacts_read.max(1) as f64,
        usage.write_units,
    );
}

mod support;

#[tokio::main]
async fn main() {
    let endpoint = std::env::var("CONTACTS_TEST_DYNAMODB_ENDPOINT").expect(
        "CONTACTS_TEST_DYNAMODB_ENDPOINT: run ./scripts/bench, which starts DynamoDB Local",
    );
    let csv = std::env::var("BENCH_IMPORT_CSV").expect("BENCH_IMPORT_CSV: the benchmark file");
    let sizes: Vec<usize> = std::env::var("BENCH_SEARCH_SIZES")
        .unwrap_or_else(|_| "10000,30000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (client, table) = support::dynamodb_table(&endpoint, "search").await;
    let meter = Arc::new(CapacityMeter::default());
    let store = DynamoStore::new(client, table).with_meter(Arc::clone(&meter));
    let ws = WorkspaceId::parse("bench").expect("workspace");
    let plan = AttributeId::generate();

    let file = std::io::BufReader::new(std::fs::File::open(&csv).expect("csv"));
    let mut rows = file
        .lines()
        .skip(1)
        .map_while(Result::ok)
        .filter_map(|line| from_row(&line, &plan));
    // The ten get phones the file's rows don't use (its last ones).
    let all: Vec<NewRecord> = rows.by_ref().collect();
    let (others, planted_phones) = all.split_at(all.len().saturating_sub(40));
    let phones: Vec<PhoneNumber> = planted_phones
        .iter()
        .filter_map(|(c, _)| c.reach.phone().cloned())
        .take(10)
        .collect();
    let planted: Vec<NewRecord> = phones
        .iter()
        .enumerate()
        .map(|(i, p)| older(i, ["Wilhelmina", "Quaresma"], "quaresma-family.example", p))
        .collect();
    let ending: String = phones[3]
        .as_ref()
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Sixty older contacts whose phones end in the same four digits.
    let shared_ending = "0143";
    let sharers: Vec<NewRecord> = ["202", "212", "312", "415", "617", "718"]
        .iter()
        .flat_map(|area| (0..10).map(move |i| format!("+1{area}{}{shared_ending}", 230 + i * 71)))
        .filter_map(|phone| PhoneNumber::parse(&phone).ok())
        .enumerate()
        .map(|(i, phone)| older(100 + i, ["Ola", "Nordmann"], "example.no", &phone))
        .collect();
    assert_eq!(
        sharers.len(),
        60,
        "sixty valid numbers ending in {shared_ending}"
    );
    commit(&store, &ws, planted).await;
    commit(&store, &ws, sharers).await;
    meter.take();

    let mut report = String::from("# DynamoDB: word-prefix search at growing sizes\n\n");
    let _ = writeln!(
        report,
        "DynamoDB Local; one workspace: 10 contacts named Wilhelmina Quaresma \
         (emails at quaresma-family.example) and 60 whose phones end in 0143, \
         then the benchmark file's rows. \
         First page of `limit=50`; items = entries and contacts read.\n"
    );
    let mut seeded = 0;
    let mut duplicates = 0;
    let mut others = others.iter().cloned();
    for size in sizes {
        let started = Instant::now();
        let mut written = 0;
        while seeded < size {
            let batch: Vec<NewRecord> = others.by_ref().take(2_000.min(size - seeded)).collect();
            if batch.is_empty() {
                break;
            }
            seeded += batch.len();
            written += batch.len();
            let copied: Vec<Contact> = batch.iter().step_by(100).map(|(c, _)| c.clone()).collect();
            commit(&store, &ws, batch).await;
            // One in a hundred gets a duplicate through the API's path,
            // which notes it: the same email, its first letter in capitals.
            for contact in copied {
                plant_duplicate(&store, &ws, &contact).await;
                duplicates += 1;
            }
        }
        let seeding = meter.take_by_operation();
        let batched: f64 = seeding.get("BatchWriteItem").map_or(0.0, |u| u.write_units);
        let _ = writeln!(
            report,
            "## {seeded} contacts\n\nSeeded {written} through the import's bulk path in {:.1} s \
             ({:.0} contacts/s); batched writes {:.2} units per contact (contact item, its \
             index rows and its search entries).\n",
            started.elapsed().as_secs_f64(),
            written as f64 / started.elapsed().as_secs_f64(),
            batched / written.max(1) as f64
        );
        let _ = writeln!(
            report,
            "| search | items on page | more | requests | items read | read units | ms |"
        );
        let _ = writeln!(report, "|---|---:|---|---:|---:|---:|---:|");
        for (name, query) in [
            (
                "a name 10 have: full_name=wilhelmina quaresma",
                "full_name=wilhelmina%20quaresma".to_owned(),
            ),
            (
                "its last name: last_name=quaresma",
                "last_name=quaresma".to_owned(),
            ),
            (
                "email by domain: email=quaresma-family.example",
                "email=quaresma-family.example".to_owned(),
            ),
            ("phone by its last 4 digits", format!("phone={ending}")),
            (
                "phone by last 4 digits 60 older numbers share",
                format!("phone={shared_ending}"),
            ),
            ("two letters: first_name=ma", "first_name=ma".to_owned()),
            (
                "a common surname: last_name=muller",
                "last_name=muller".to_owned(),
            ),
            (
                "two words: full_name=maria gar",
                "full_name=maria%20gar".to_owned(),
            ),
            (
                "one letter (workspace scan): first_name=m",
                "first_name=m".to_owned(),
            ),
            (
                "before: full_name[contains]=wilhelmina quaresma (scan)",
                "full_name%5Bcontains%5D=wilhelmina%20quaresma".to_owned(),
            ),
        ] {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).expect("query");
            let request = ListRequest::from_pairs(&pairs, &[]).expect("request");
            meter.take();
            let started = Instant::now();
            let page = store
                .list(&ws, &request.query, &PageRequest::first(50))
                .await
                .expect("list");
            let row = row(
                name,
                page.items.len(),
                page.next_cursor.is_some(),
                &meter,
                started,
            );
            let _ = writeln!(report, "{row}");
        }
        meter.take();
        let started = Instant::now();
        let page =
            contacts::service::duplicates::page(&store, &store, &ws, None, &PageRequest::first(50))
                .await
                .expect("duplicates");
        let name = format!("duplicates: first page of groups ({duplicates} planted)");
        let row = row(
            &name,
            page.items.len(),
            page.next_cursor.is_some(),
            &meter,
            started,
        );
        let _ = writeln!(report, "{row}\n");
        scan_row(&store, &ws, &meter, &mut report).await;
    }

    // Writes of single contacts through the port (the API's path).
    let (mut one, consent) = all.first().cloned().expect("a row");
    one.messaging_id = MessagingId::generate();
    one.external_id = ExternalId::parse("api-1").ok();
    store
        .insert(&ws, &(one.clone(), consent), None)
        .await
        .expect("insert");
    let create = meter.take();
    let mut moved = one.clone();
    moved.country = Country::parse("FR").ok();
    moved.version += 1;
    store
        .update(&ws, &moved, one.version, &[])
        .await
        .expect("update");
    let unsearched = meter.take();
    let mut renamed = moved.clone();
    renamed.last_name = Name::parse("Quaresma-Silva").ok();
    renamed.version += 1;
    store
        .update(&ws, &renamed, moved.version, &[])
        .await
        .expect("update");
    let searched = meter.take();
    let _ = writeln!(
        report,
        "## Writes through the port\n\n| write | requests | write units reported |\n|---|---:|---:|\n\
         | create (API) | {} | {:.1} |\n| edit of an unsearched field (country) | {} | {:.1} |\n\
         | edit of the last name | {} | {:.1} |\n",
        create.requests,
        create.write_units,
        unsearched.requests,
        unsearched.write_units,
        searched.requests,
        searched.write_units
    );

    println!("{report}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(dir).expect("dir");
    std::fs::write(format!("{dir}/dynamo-search.md"), report).expect("report");
}
