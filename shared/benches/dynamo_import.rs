//! Import benchmark on DynamoDB: the first `BENCH_DYNAMO_ROWS` rows (20,000
//! by default) of the generated CSV (`BENCH_IMPORT_CSV`) imported through the
//! engine into a fresh table on the stand-in at
//! `CONTACTS_TEST_DYNAMODB_ENDPOINT`, with requests and capacity per
//! operation; then, in the same run and on the same rows, boto3's
//! `batch_writer` baseline and the stand-in's ceiling for an exact import
//! (`BENCH_ANCHORS`: the folder of `boto3_baseline.py` and
//! `boto3_ceiling.py`, run with `BENCH_PYTHON`). Writes
//! `target/bench/dynamo-import.md`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use contacts::AppState;
use contacts::import::{Budget, Runner, service};
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use contacts::model::WorkspaceId;
use contacts::store::dynamo::{CapacityMeter, DynamoStore};
use contacts::store::folder::FolderStore;
use contacts::store::objects::ObjectStore;

#[path = "support/import.rs"]
mod import_support;
mod support;
use import_support::import_settings;
use support::{cpu_seconds, peak_rss_mb};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set: run ./scripts/bench"))
}

/// The header and the first `rows` rows of `csv`, into `out`.
fn slice(csv: &Path, rows: usize, out: &Path) -> anyhow::Result<()> {
    let mut writer = std::io::BufWriter::new(std::fs::File::create(out)?);
    for line in BufReader::new(std::fs::File::open(csv)?)
        .lines()
        .take(rows + 1)
    {
        writeln!(writer, "{}", line?)?;
    }
    writer.flush()?;
    Ok(())
}

/// Runs one of the anchors; returns its output line and the rows/s in it.
fn anchor(
    python: &str,
    script: &Path,
    endpoint: &str,
    csv: &Path,
) -> anyhow::Result<(String, f64)> {
    let out = Command::new(python)
        .arg(script)
        .arg(endpoint)
        .arg(csv)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout)?.trim().to_owned();
    let per_second = line
        .split(" rows/s")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no rows/s in {line:?}"))?;
    Ok((line, per_second))
}

/// The size DynamoDB counts for an item: attribute names and values.
fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.len().div_ceil(2) + 1,
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            AttributeValue::Ss(ss) => ss.iter().map(String::len).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The average sizes of contact items and of guard items in the table.
async fn item_sizes(client: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<(f64, f64)> {
    let page = client.scan().table_name(table).limit(1000).send().await?;
    let (mut contacts, mut guards) = (Vec::new(), Vec::new());
    for item in page.items() {
        match item.get("sk") {
            Some(AttributeValue::S(sk)) if sk == "C" => contacts.push(item_size(item)),
            Some(AttributeValue::S(sk)) if sk == "X" => guards.push(item_size(item)),
            _ => {}
        }
    }
    let mean = |sizes: &[usize]| sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    Ok((mean(&contacts), mean(&guards)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoint = env("CONTACTS_TEST_DYNAMODB_ENDPOINT")?;
    let csv = std::path::PathBuf::from(env("BENCH_IMPORT_CSV")?);
    let anchors = std::path::PathBuf::from(env("BENCH_ANCHORS")?);
    let python = env("BENCH_PYTHON")?;
    let rows: usize = std::env::var("BENCH_DYNAMO_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let data = tempfile::TempDir::new()?;
    let sliced = data.path().join("slice.csv");
    slice(&csv, rows, &sliced)?;

    let (client, table) = support::dynamodb_table(&endpoint, "bench").await;
    let meter = Arc::new(CapacityMeter::default());
    let store = DynamoStore::new(client.clone(), table.clone()).with_meter(Arc::clone(&meter));
    let objects = Arc::new(FolderStore::open(
        &data.path().join("objects"),
        "http://unused",
    )?);
    let state = AppState::over(
        store.clone(),
        Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
        None,
    )
    .with_imports(Arc::new(store), objects.clone());
    let ws = WorkspaceId::parse("bench")?;
    let settings = serde_json::from_value(import_settings())?;
    let name = service::FileName::parse("slice.csv").ok();
    let job = service::create(&state, &state.audit(&ws, "bench"), settings, name).await?;
    let file = tokio::fs::File::open(&sliced).await?;
    objects
        .put(&job.csv_key()?, Box::pin(file), "text/csv")
        .await?;
    let runner = Runner::new(state, 2000)?;

    meter.take();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let done = runner.run(&ws, &job.id, Budget::default()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let rss = peak_rss_mb();
    anyhow::ensure!(
        done.failure.is_none(),
        "the import failed: {:?}",
        done.failure
    );
    let by_operation = meter.take_by_operation();
    let (contact_bytes, guard_bytes) = item_sizes(&client, &table).await?;

    let (baseline_line, baseline) = anchor(
        &python,
        &anchors.join("boto3_baseline.py"),
        &endpoint,
        &sliced,
    )?;
    let (ceiling_line, ceiling) = anchor(
        &python,
        &anchors.join("boto3_ceiling.py"),
        &endpoint,
        &sliced,
    )?;

    let created = done.counts.created.max(1) as f64;
    let per_second = done.counts.rows as f64 / seconds;
    let transact = by_operation
        .get("TransactWriteItems")
        .copied()
        .unwrap_or_default();
    let mut report = String::from("# DynamoDB import\n\n");
    let _ = writeln!(
        report,
        "The first {} rows of the generated file into a fresh table on DynamoDB Local, \
         through the import engine (batches of 2,000 rows; new contacts only, the three \
         custom columns created): {} created, {} rejected.\n",
        done.counts.rows, done.counts.created, done.counts.rejected
    );
    let _ = writeln!(report, "| what | rows/s |\n|---|---:|");
    let _ = writeln!(report, "| the import engine | {per_second:.0} |");
    let _ = writeln!(report, "| `boto3_ceiling.py` (same run) | {ceiling:.0} |");
    let _ = writeln!(
        report,
        "| `boto3_baseline.py` (same run) | {baseline:.0} |\n"
    );
    let _ = writeln!(
        report,
        "Engine / ceiling: {:.0}%. Contact, guard and usage writes: {:.1} \
         `TransactWriteItems` per 1,000 new contacts. Peak RSS of the importing process: \
         {rss:.0} MB. CPU time of the importing process (the engine and the SDK; DynamoDB \
         Local runs apart): {cpu:.2} s, {:.0} ms per 1,000 rows.\n",
        100.0 * per_second / ceiling,
        transact.requests as f64 * 1000.0 / created,
        cpu * 1_000_000.0 / done.counts.rows.max(1) as f64,
    );
    let _ = writeln!(
        report,
        "Item sizes (DynamoDB's measure: names and values), averaged over a scanned page: \
         contact {contact_bytes:.0} bytes, External ID guard {guard_bytes:.0} bytes.\n"
    );
    let _ = writeln!(
        report,
        "| operation | requests per 1,000 rows | read units per row | write units per row |\n|---|---:|---:|---:|"
    );
    let rows_done = done.counts.rows.max(1) as f64;
    for (operation, usage) in &by_operation {
        let _ = writeln!(
            report,
            "| {operation} | {:.1} | {:.2} | {:.2} |",
            usage.requests as f64 * 1000.0 / rows_done,
            usage.read_units / rows_done,
            usage.write_units / rows_done
        );
    }
    let _ = writeln!(report, "\nAnchors:\n- {ceiling_line}\n- {baseline_line}");
    std::fs::create_dir_all("../target/bench")?;
    std::fs::write("../target/bench/dynamo-import.md", &report)?;
    print!("{report}");
    Ok(())
}
