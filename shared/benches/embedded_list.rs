//! Seeds the embedded store with contacts (1,000,000 unless
//! `BENCH_CONTACTS` says otherwise) and measures one page (`limit=50`) of
//! the listing, unfiltered and per filter. Writes a Markdown report to
//! `target/bench/embedded-list.md` (or `BENCH_REPORT`). Then exports every
//! contact to CSV in a process of its own (so its peak memory is the
//! export's alone) and writes `target/bench/embedded-export.md`; then
//! scans them for similar names the same way and writes
//! `target/bench/embedded-scan.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use contacts::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, AttributeValue,
    Channel, ConsentChoice, ConsentSource, Contact, Country, Email, ExternalId, ListId, Name,
    NewContact, PhoneNumber, Reach, WorkspaceId,
};
use contacts::query::{ListRequest, PageRequest};
use contacts::store::ContactStore;
use contacts::store::embedded::EmbeddedStore;

mod support;

const FIRST: [&str; 24] = [
    "Alice", "Albert", "Maria", "Mark", "Olivia", "Oliver", "Sofia", "Liam", "Emma", "Noah", "Zoë",
    "Jürgen", "Ana", "Chen", "Fatima", "Mohammed", "Priya", "Raj", "Yuki", "Lars", "Ingrid",
    "Pedro", "Lucía", "Kwame",
];
const SYLLABLES: [&str; 16] = [
    "son", "berg", "ma", "ri", "lo", "ven", "ka", "stein", "dor", "mi", "ler", "ta", "ness", "ro",
    "gu", "win",
];
const DOMAINS: [&str; 6] = [
    "example.com",
    "mail.example",
    "inbox.test",
    "corp.example.org",
    "post.example.de",
    "web.example.fr",
];
const COUNTRIES: [&str; 8] = ["US", "DE", "GB", "FR", "ES", "IN", "JP", "BR"];
const AREA_CODES: [u32; 6] = [212, 312, 415, 617, 202, 305];

/// A small, fixed pseudo-random sequence (xorshift), so every run seeds the same data.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

/// The custom attribute and the list every tenth contact joins.
struct Catalog {
    score: AttributeDefinition,
    vip: ListId,
}

fn person(
    i: usize,
    seq: &mut Sequence,
    catalog: &Catalog,
) -> (Contact, Vec<contacts::model::ConsentChange>) {
    let first = FIRST[seq.next(FIRST.len())];
    let last: String = (0..2 + seq.next(2))
        .map(|_| SYLLABLES[seq.next(SYLLABLES.len())])
        .collect();
    let last = format!("{}{}", last[..1].to_uppercase(), &last[1..]);
    let email = format!(
        "{}.{}{i}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        DOMAINS[seq.next(DOMAINS.len())]
    );
    let phone = format!(
        "+1{}{}{:04}",
        AREA_CODES[seq.next(AREA_CODES.len())],
        200 + seq.next(700),
        i % 10_000
    );
    let mut consent = Vec::new();
    for channel in Channel::ALL {
        match seq.next(4) {
            0 => consent.push((channel, ConsentChoice::Subscribed)),
            1 => consent.push((channel, ConsentChoice::Unsubscribed)),
            _ => {}
        }
    }
    let new = NewContact {
        external_id: ExternalId::parse(&format!("crm-{i}")).ok(),
        first_name: Name::parse(first).ok(),
        last_name: Name::parse(&last).ok(),
        reach: Reach::new(PhoneNumber::parse(&phone).ok(), Email::parse(&email).ok())
            .expect("reachable"),
        country: Country::parse(COUNTRIES[seq.next(COUNTRIES.len())]).ok(),
        timezone: None,
        consent,
        attributes: [(
            catalog.score.id.clone(),
            AttributeValue::Number((i % 1000) as f64),
        )]
        .into(),
        lists: if i.is_multiple_of(10) {
            [catalog.vip.clone()].into()
        } else {
            Default::default()
        },
    };
    let at =
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(i as i64);
    Contact::create(new, &ConsentSource::api(), at).expect("a valid contact")
}

/// One contact in a hundred gets the email of the one before it, its
/// first letter in upper case: 1 % of the contacts are duplicates by email
/// (ignoring case), besides the phones the generator happens to repeat.
fn duplicate_emails(batch: &mut [(Contact, Vec<contacts::model::ConsentChange>)]) {
    for k in 1..batch.len() {
        if k % 100 != 99 {
            continue;
        }
        let Some(email) = batch[k - 1].0.reach.email().map(|e| e.as_ref().to_owned()) else {
            continue;
        };
        let shouted = support::capitalised(&email);
        let phone = batch[k].0.reach.phone().cloned();
        batch[k].0.reach = Reach::new(phone, Email::parse(&shouted).ok()).expect("reachable");
    }
}

/// Reads every page of duplicate groups (`limit=50`) through the service:
/// the groups found, and p50, p95 and max ms per page.
async fn duplicate_pages(store: &EmbeddedStore, workspace: &WorkspaceId) -> (usize, String) {
    use contacts::service::duplicates;
    let mut times = Vec::new();
    let (mut groups, mut page) = (0, PageRequest::first(50));
    loop {
        let t = Instant::now();
        let found = duplicates::page(store, store, workspace, None, &page)
            .await
            .expect("duplicates");
        times.push(t.elapsed());
        groups += found.items.len();
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let pages = times.len();
    times.sort_unstable();
    let row = format!(
        "{pages} | {} | {} | {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(times[times.len() - 1])
    );
    (groups, row)
}

/// Times `samples` first pages of `queries` (rotating): the cells of one
/// report row after its name.
async fn time_case(
    store: &EmbeddedStore,
    workspace: &WorkspaceId,
    catalog: &Catalog,
    queries: &[String],
    samples: usize,
) -> String {
    let mut times = Vec::with_capacity(samples);
    let (mut items, mut more) = (0usize, 0usize);
    for s in 0..samples {
        let raw = &queries[s % queries.len()];
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).expect("query");
        let mut request =
            ListRequest::from_pairs(&pairs, std::slice::from_ref(&catalog.score)).expect("request");
        request.page = PageRequest::first(50);
        let t = Instant::now();
        let page = store
            .list(workspace, &request.query, &request.page)
            .await
            .expect("list");
        times.push(t.elapsed());
        items += page.items.len();
        more += usize::from(page.next_cursor.is_some());
    }
    times.sort_unstable();
    format!(
        "{} | {} | {} | {:.0} | {:.0}%",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(times[times.len() - 1]),
        items as f64 / samples as f64,
        100.0 * more as f64 / samples as f64
    )
}

/// Times `samples` first pages (`limit=50`) of `path` with `queries`
/// (rotating) over HTTP, through the local server's whole stack on
/// loopback: p50, p95 and max ms.
async fn time_http(base: &str, path: &str, queries: &[String], samples: usize) -> String {
    let http = reqwest::Client::new();
    let mut times = Vec::with_capacity(samples);
    for s in 0..samples {
        let raw = &queries[s % queries.len()];
        let t = Instant::now();
        let response = http
            .get(format!("{base}{path}?{raw}&limit=50"))
            .bearer_auth("bench-token")
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{raw}: {}",
            response.status()
        );
        response.bytes().await.expect("body");
        times.push(t.elapsed());
    }
    times.sort_unstable();
    format!(
        "{} | {} | {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(times[times.len() - 1])
    )
}

/// The local server over `store`, on a free loopback port: its address.
async fn serve(store: &EmbeddedStore, dir: &std::path::Path) -> String {
    use contacts::local::{LocalConfig, LocalServer};
    let tokens = contacts::http::auth::BearerTokens::parse("bench-token=bench").expect("tokens");
    let config = LocalConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.to_owned(),
        tokens: tokens.clone(),
        usage_limit: None,
        import_batch_rows: contacts::local::DEFAULT_IMPORT_BATCH_ROWS,
        import_max_bytes: contacts::import::csvfile::MAX_BYTES,
        import_budget: Default::default(),
        export_budget: Default::default(),
        audit_retention: Default::default(),
        allowed_hosts: String::new(),
    };
    let state = contacts::AppState::over(store.clone(), std::sync::Arc::new(tokens), None);
    let server = LocalServer::bind_state(&config, state, Some(std::sync::Arc::new(store.clone())))
        .await
        .expect("server");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(std::future::pending()));
    format!("http://{addr}")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Set in a child process to `<job> <folder>`: it runs the job (`export`
/// or `scan`) over the store in that folder.
const CHILD: &str = "BENCH_CHILD";

/// The state over the store in `dir`, and its workspace.
fn child_state(dir: &std::path::Path) -> (EmbeddedStore, contacts::AppState, WorkspaceId) {
    let store = EmbeddedStore::open(dir).expect("open");
    let workspace = WorkspaceId::parse("bench").expect("workspace");
    let auth = contacts::http::auth::BearerTokens::parse("t=bench").expect("tokens");
    let state = contacts::AppState::over(store.clone(), std::sync::Arc::new(auth), None);
    (store, state, workspace)
}

/// The child: exports every contact of the store in `dir` into its object
/// folder, and prints seconds, rows, bytes and peak RSS as one JSON line.
async fn export_child(dir: &std::path::Path) {
    use contacts::export::{ExportJob, ExportRunner, request};
    use contacts::jobs::JobStore;
    let (store, state, workspace) = child_state(dir);
    let objects = contacts::store::folder::FolderStore::open(&dir.join("objects"), "http://bench")
        .expect("objects");
    let catalog = contacts::catalog::Catalog::load(&state, &workspace)
        .await
        .expect("catalog");
    let columns = request::columns(None, &catalog).expect("columns");
    let job = ExportJob::new(
        &workspace,
        Default::default(),
        columns.iter().map(|c| c.name().to_owned()).collect(),
        Default::default(),
    );
    store.put_job(&job).await.expect("job");
    let runner = ExportRunner::new(
        state,
        std::sync::Arc::new(store),
        std::sync::Arc::new(objects),
    );
    let started = Instant::now();
    let done = runner
        .run(&workspace, &job.id, Default::default())
        .await
        .expect("export");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"seconds": seconds, "rows": done.rows, "bytes": done.bytes,
                           "columns": done.columns.len(), "peak_rss_mb": support::peak_rss_mb()})
    );
}

/// The child: scans the store in `dir` for similar names, and prints
/// seconds, what the scan counted and peak RSS as one JSON line.
async fn scan_child(dir: &std::path::Path) {
    use contacts::duplicate_scan::ScanJob;
    use contacts::duplicate_scan::runner::ScanRunner;
    use contacts::jobs::JobStore;
    let (store, state, workspace) = child_state(dir);
    let job = ScanJob::new(&workspace);
    store.put_job(&job).await.expect("job");
    let runner = ScanRunner::new(state, std::sync::Arc::new(store));
    let started = Instant::now();
    let done = runner
        .run(&workspace, &job.id, Default::default())
        .await
        .expect("scan");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"seconds": seconds, "read": done.contacts_read,
                           "named": done.contacts_named, "groups": done.groups,
                           "too_common": done.too_common, "peak_rss_mb": support::peak_rss_mb()})
    );
}

/// Runs `job` over the store in `dir` in a new process: the figures it printed.
fn in_child(job: &str, dir: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env(CHILD, format!("{job} {}", dir.display()))
        .output()
        .expect("child process");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).expect("the child's figures")
}

/// Runs [`scan_child`] in a new process: its report.
fn scan_report(dir: &std::path::Path) -> String {
    let measured = in_child("scan", dir);
    let number = |name: &str| measured[name].as_f64().unwrap_or(f64::NAN);
    format!(
        "# Embedded store: scan for similar names\n\n\
         Every contact of the listing benchmark's store read and compared by `ScanRunner` \
         (release, batches of {}), in a process of its own. Its names come from 24 first \
         names and 4,352 made-up last names, so many contacts share one: a harsh case, \
         whose common names fall in blocks and groups too large to show.\n\n\
         | contacts read | with a full name | seconds | contacts/s | groups | too common | peak RSS MB |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n\
         | {} | {} | {:.2} | {:.0} | {} | {} | {:.1} |\n",
        contacts::duplicate_scan::runner::DEFAULT_BATCH,
        measured["read"],
        measured["named"],
        number("seconds"),
        number("read") / number("seconds"),
        measured["groups"],
        measured["too_common"],
        number("peak_rss_mb"),
    )
}

/// Runs [`export_child`] in a new process and writes its report.
fn export_report(dir: &std::path::Path) {
    let measured = in_child("export", dir);
    let (seconds, rows) = (
        measured["seconds"].as_f64().unwrap_or(f64::NAN),
        measured["rows"].as_f64().unwrap_or(f64::NAN),
    );
    let report = format!(
        "# Embedded store: CSV export\n\n\
         Every contact of the listing benchmark's store exported through `ExportRunner` \
         (release, batches of {}, parts of 8 MiB) into the folder object store, in a \
         process of its own.\n\n\
         | contacts | columns | seconds | rows/s | file MB | peak RSS MB |\n\
         |---:|---:|---:|---:|---:|---:|\n\
         | {rows} | {} | {seconds:.2} | {:.0} | {:.1} | {:.1} |\n",
        contacts::export::runner::DEFAULT_BATCH,
        measured["columns"],
        rows / seconds,
        measured["bytes"].as_f64().unwrap_or(f64::NAN) / 1e6,
        measured["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
    );
    println!("{report}");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bench/embedded-export.md"
    );
    std::fs::write(path, report).expect("report");
}

#[tokio::main]
async fn main() {
    if let Ok(child) = std::env::var(CHILD) {
        match child.split_once(' ') {
            Some(("export", dir)) => export_child(std::path::Path::new(dir)).await,
            Some(("scan", dir)) => scan_child(std::path::Path::new(dir)).await,
            _ => panic!("{CHILD}={child:?} names no job"),
        }
        return;
    }
    let total: usize = std::env::var("BENCH_CONTACTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let report_path = std::env::var("BENCH_REPORT").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/bench/embedded-list.md"
        )
        .into()
    });
    let dir = tempfile::TempDir::new_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../target"))
        .expect("temp dir");
    let store = EmbeddedStore::open(dir.path()).expect("open");
    let workspace = WorkspaceId::parse("bench").expect("workspace");
    let catalog = Catalog {
        score: AttributeDefinition {
            id: AttributeId::generate(),
            name: AttributeName::parse("score").expect("name"),
            label: AttributeLabel::parse("Score").expect("label"),
            kind: AttributeType::Number,
        },
        vip: ListId::generate(),
    };

    // Seed through the batch write path, timing only the store.
    let mut seq = Sequence(0x9E37_79B9_7F4A_7C15);
    let mut in_store = Duration::ZERO;
    let started = Instant::now();
    let batch_size = 5_000;
    for start in (0..total).step_by(batch_size) {
        let mut batch: Vec<_> = (start..(start + batch_size).min(total))
            .map(|i| person(i, &mut seq, &catalog))
            .collect();
        duplicate_emails(&mut batch);
        let t = Instant::now();
        let outcomes = store
            .insert_batch(&workspace, &batch, None)
            .await
            .expect("batch");
        in_store += t.elapsed();
        assert!(
            outcomes.iter().all(Result::is_ok),
            "every seeded contact is stored"
        );
        if start % 100_000 == 0 {
            eprintln!("seeded {start} of {total}");
        }
    }
    let wall = started.elapsed();
    let t = Instant::now();
    store.catch_up_text_index().await.expect("text index");
    let text_index = t.elapsed();
    let count = store.count(&workspace).await.expect("count");
    assert_eq!(count as usize, total);
    let db_bytes: u64 = std::fs::read_dir(dir.path())
        .expect("data dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();

    let cases: Vec<(&str, Vec<String>)> = vec![
        ("unfiltered", vec![String::new()]),
        (
            "full_name words",
            ["alice berg", "mar", "oliver", "zoë", "jurgen stein"]
                .map(|t| format!("full_name={t}"))
                .to_vec(),
        ),
        (
            "first_name (2 chars)",
            ["al", "ma", "yu", "ju", "zz"]
                .map(|t| format!("first_name={t}"))
                .to_vec(),
        ),
        (
            "first_name (1 char)",
            ["a", "m", "y", "j", "q"]
                .map(|t| format!("first_name={t}"))
                .to_vec(),
        ),
        (
            "last_name (a common start)",
            ["berg", "sonma", "win", "Stein", "rodor"]
                .map(|t| format!("last_name={t}"))
                .to_vec(),
        ),
        (
            "phone start",
            ["+1415", "2125", "(617) 3", "+130545", "1202"]
                .map(|t| format!("phone={t}"))
                .to_vec(),
        ),
        (
            "phone ending (4 digits)",
            ["0042", "1234", "9999", "0143", "5000"]
                .map(|t| format!("phone={t}"))
                .to_vec(),
        ),
        (
            "email domain",
            [
                "example.com",
                "inbox",
                "corp.example",
                "web",
                "post.example.de",
            ]
            .map(|t| format!("email={t}"))
            .to_vec(),
        ),
        (
            "email (rare)",
            [
                "maria.berg1234",
                "alice.sonma12345@",
                "zoë.win987654",
                "olivia.500000",
                "liam.77@",
            ]
            .map(|t| format!("email={t}"))
            .to_vec(),
        ),
        (
            "full_name[contains] (3+ chars)",
            ["alice berg", "mar", "oliver", "zoë", "steinma"]
                .map(|t| format!("full_name%5Bcontains%5D={t}"))
                .to_vec(),
        ),
        (
            "last_name[contains] (3+ chars)",
            ["berg", "sonma", "winlo", "Stein", "rodor"]
                .map(|t| format!("last_name%5Bcontains%5D={t}"))
                .to_vec(),
        ),
        (
            "phone[contains] (3+ chars)",
            ["+1415", "2125", "0042", "617300", "+130545"]
                .map(|t| format!("phone%5Bcontains%5D={t}"))
                .to_vec(),
        ),
        (
            "email[contains] (3+ chars)",
            [
                "example.com",
                "inbox",
                "liam.",
                "corp.example",
                "fatima.berg",
            ]
            .map(|t| format!("email%5Bcontains%5D={t}"))
            .to_vec(),
        ),
        (
            "first_name[contains] (2 chars)",
            ["al", "ma", "yu", "ük", "zz"]
                .map(|t| format!("first_name%5Bcontains%5D={t}"))
                .to_vec(),
        ),
        (
            "country",
            ["DE", "JP", "US"].map(|t| format!("country={t}")).to_vec(),
        ),
        (
            "sms_consent",
            ["subscribed", "unsubscribed", "not_subscribed"]
                .map(|t| format!("sms_consent={t}"))
                .to_vec(),
        ),
        (
            "country + sms_consent",
            vec!["country=DE&sms_consent=unsubscribed".into()],
        ),
        ("email + country", vec!["email=inbox&country=FR".into()]),
        (
            "list (10% of contacts)",
            vec![format!("list={}", catalog.vip)],
        ),
        (
            "list + country",
            vec![format!("list={}&country=JP", catalog.vip)],
        ),
        (
            "attr.score[gt] (number)",
            ["990", "500", "0"]
                .map(|t| format!("attr.score[gt]={t}"))
                .to_vec(),
        ),
        (
            "attr.score (equals)",
            ["7", "999"].map(|t| format!("attr.score={t}")).to_vec(),
        ),
    ];
    let samples = 100;
    let mut report = String::new();
    let _ = writeln!(report, "# Embedded store: listing benchmark\n");
    let _ = writeln!(
        report,
        "{total} contacts seeded in batches of {batch_size} through `insert_batch`: \
         {:.0} contacts/s in the store ({:.1} s), {:.1} s wall with data generation; \
         then the text index filled in {:.1} s; database {:.0} MB.\n",
        total as f64 / in_store.as_secs_f64(),
        in_store.as_secs_f64(),
        wall.as_secs_f64(),
        text_index.as_secs_f64(),
        db_bytes as f64 / 1e6
    );
    let _ = writeln!(
        report,
        "One page (`limit=50`) through the `ContactStore` port, {samples} samples per row \
         (search terms rotate); \"items\" is the mean page size, \"more\" the share of pages \
         with a next cursor.\n"
    );
    let _ = writeln!(
        report,
        "| listing | p50 ms | p95 ms | max ms | items | more |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|---:|");
    for (name, queries) in &cases {
        let row = time_case(&store, &workspace, &catalog, queries, samples).await;
        let _ = writeln!(report, "| {name} | {row} |");
    }

    // Duplicates: every page of groups, then the first page over HTTP.
    let (groups, pages) = duplicate_pages(&store, &workspace).await;
    let base = serve(&store, dir.path()).await;
    let _ = writeln!(
        report,
        "\nDuplicates (`GET /v1/duplicates`, `limit=50`): {groups} groups (one contact in a \
         hundred has the email of another in other case, and the generator repeats some \
         phones). Every page through the service, then the first page over HTTP \
         ({samples} samples per row):\n\n\
         | duplicates | pages | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|\n\
         | every page, in order (service) | {pages} |"
    );
    for (name, query) in [
        ("first page of same_email over HTTP", "reason=same_email"),
        ("first page of same_phone over HTTP", "reason=same_phone"),
    ] {
        let row = time_http(&base, "/v1/duplicates", &[query.to_owned()], samples).await;
        let _ = writeln!(report, "| {name} | {samples} | {row} |");
    }

    // The word searches over HTTP: the local server's whole stack.
    let _ = writeln!(
        report,
        "\nThe word searches again over HTTP (`GET /v1/contacts`, the local server on \
         loopback, JSON of every column), {samples} samples per row:\n\n\
         | search over HTTP | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|"
    );
    for (name, queries) in cases
        .iter()
        .filter(|(name, _)| !name.contains("contains") && *name != "unfiltered")
    {
        if !(name.starts_with("full_name")
            || name.starts_with("first_name")
            || name.starts_with("last_name")
            || name.starts_with("phone")
            || name.starts_with("email"))
        {
            continue;
        }
        let row = time_http(&base, "/v1/contacts", queries, samples).await;
        let _ = writeln!(report, "| {name} | {row} |");
    }
    let _ = writeln!(report);

    // New contacts wait above the text index's mark until the indexer has
    // run: searches scan them, a window at a time.
    let behind = 20_000;
    let batch: Vec<_> = (total..total + behind)
        .map(|i| person(i, &mut seq, &catalog))
        .collect();
    for chunk in batch.chunks(batch_size) {
        store
            .insert_batch(&workspace, chunk, None)
            .await
            .expect("batch");
    }
    let waiting = [
        "full_name words",
        "email domain",
        "phone ending (4 digits)",
        "full_name[contains] (3+ chars)",
    ];
    for (name, queries) in cases.iter().filter(|(name, _)| waiting.contains(name)) {
        let row = time_case(&store, &workspace, &catalog, queries, samples).await;
        let _ = writeln!(
            report,
            "| {name}, the newest {behind} not in the text index yet | {row} |"
        );
    }
    println!("{report}");
    if let Some(parent) = std::path::Path::new(&report_path).parent() {
        std::fs::create_dir_all(parent).expect("report folder");
    }
    std::fs::write(&report_path, report).expect("report");
    eprintln!("report written to {report_path}");

    // The export reads the custom attribute and the list by their definitions.
    use contacts::store::{ListStore, SchemaStore};
    store
        .create_attribute(&workspace, &catalog.score)
        .await
        .expect("attribute");
    let vip = contacts::model::ContactList {
        id: catalog.vip.clone(),
        name: contacts::model::ListName::parse("VIP").expect("name"),
        created_at: Utc::now(),
    };
    store.create_list(&workspace, &vip).await.expect("list");
    drop(store);
    export_report(dir.path());
    let mut report = scan_report(dir.path());
    let row = time_http(
        &base,
        "/v1/duplicates",
        &["reason=similar_name".to_owned()],
        samples,
    )
    .await;
    let _ = writeln!(
        report,
        "\nThe first page of its groups over HTTP (`GET /v1/duplicates?reason=similar_name`, \
         `limit=50`: each group's members, then its contacts by ID, compared again), \
         {samples} samples:\n\n| page | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|\n\
         | first page of similar_name | {row} |"
    );
    println!("{report}");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/bench/embedded-scan.md"
    );
    std::fs::write(path, report).expect("report");
}
