//! Import benchmark: the generated contacts CSV (`BENCH_IMPORT_CSV`, made by
//! `scripts/bench` with `../shared/bench/gen_csv.py`) imported through the
//! engine into a fresh embedded store, then its text indexes brought up to
//! date, next to the same-schema floor timed in the same run: `sqlite3`
//! filling the store's schema (made by its own migrations) from the same
//! file with the load of `BENCH_FLOOR_SQL`, no validation, then the text
//! indexes in one statement each; and, as a bound no import of the file can beat
//! on one core, the product's validation of the file's phone numbers
//! alone. `BENCH_IMPORT_BATCH_ROWS` sets the rows a commit takes (the
//! product's 2,000 otherwise). Writes `target/bench/embedded-import.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use contacts::local::{LocalConfig, import_file};
use contacts::model::PhoneNumber;
use futures::StreamExt;

mod support;
use contacts::model::WorkspaceId;
use contacts::store::embedded::{EmbeddedStore, WRITER_THREAD};
#[path = "support/import.rs"]
mod import_support;
use import_support::import_settings;
use support::{ThreadCpu, cpu_seconds, peak_rss_mb};

/// The store's email index folds case with its own SQL function, which
/// `sqlite3` lacks: the floor's is the same index over SQLite's `lower`.
const FLOOR_EMAIL_INDEX: &str = "DROP INDEX contacts_email; \
    CREATE INDEX contacts_email ON contacts (workspace, lower(email));";

/// The floor script's settings and load, without its copy of the schema.
fn floor_load(script: &str) -> anyhow::Result<String> {
    let pragmas: Vec<&str> = script
        .lines()
        .filter(|line| line.starts_with("PRAGMA"))
        .collect();
    let load = script
        .find("CREATE TEMP TABLE staging")
        .context("the floor script has no staging table")?;
    Ok(format!("{}\n{}", pragmas.join("\n"), &script[load..]))
}

/// Seconds `sqlite3` takes to run `sql` on `db` in `dir`.
fn sqlite3_seconds(dir: &Path, db: &Path, sql: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(db)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    std::io::Write::write_all(&mut child.stdin.take().context("stdin")?, sql.as_bytes())?;
    anyhow::ensure!(
        child.wait()?.success(),
        "sqlite3 failed on the floor script"
    );
    Ok(started.elapsed().as_secs_f64())
}

/// Seconds the floor takes to fill the rows and indexes, then the text
/// indexes, from a copy of the CSV. The text indexes are filled one
/// statement each by the store's own repair (`rebuild_text_index`): the
/// word index's tokens come from the store's SQL function, which `sqlite3`
/// lacks.
async fn floor_seconds(csv: &Path, floor_sql: &Path) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::TempDir::new()?;
    std::fs::copy(csv, dir.path().join("c400k.csv"))?;
    let store = dir.path().join("store");
    drop(EmbeddedStore::open(&store)?);
    let db = store.join("contacts.sqlite3");
    let load = floor_load(&std::fs::read_to_string(floor_sql)?)?;
    sqlite3_seconds(dir.path(), &db, FLOOR_EMAIL_INDEX)?;
    sync_disks()?;
    let rows = sqlite3_seconds(dir.path(), &db, &load)?;
    sync_disks()?;
    let floor = EmbeddedStore::open(&store)?;
    let started = Instant::now();
    floor.rebuild_text_index().await?;
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// Writes every file's changed pages to disk (`sync`), so that a timed part
/// doesn't pay for writing what the part before it left.
fn sync_disks() -> anyhow::Result<()> {
    anyhow::ensure!(Command::new("sync").status()?.success(), "sync failed");
    Ok(())
}

/// The file's phone numbers, and the seconds validating them takes on one
/// core (every one is valid: the generator writes valid mobiles).
async fn phones_seconds(csv: &Path) -> anyhow::Result<(usize, f64)> {
    let file = tokio::fs::File::open(csv).await?;
    let mut reader = csv_async::AsyncReaderBuilder::new().create_reader(file);
    let column = reader
        .headers()
        .await?
        .iter()
        .position(|header| header == "Phone Number")
        .context("the file has no Phone Number column")?;
    let mut phones = Vec::new();
    let mut records = reader.into_records();
    while let Some(record) = records.next().await {
        phones.extend(
            record?
                .get(column)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    let started = Instant::now();
    for phone in &phones {
        PhoneNumber::parse_loose(phone, None)?;
    }
    Ok((phones.len(), started.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let csv = PathBuf::from(std::env::var("BENCH_IMPORT_CSV")?);
    let floor_sql = PathBuf::from(
        std::env::var("BENCH_FLOOR_SQL")
            .unwrap_or_else(|_| "../shared/bench/floor_same_schema.sql".into()),
    );
    let data = tempfile::TempDir::new()?;
    let settings = data.path().join("settings.json");
    std::fs::write(&settings, import_settings().to_string())?;
    let dir = data.path().join("store");
    // The benchmark file is 53 MB (50.6 MiB): the size limit is raised for it.
    let config = LocalConfig::from_lookup(|key| match key {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        "CONTACTS_IMPORT_MAX_MB" => Some("64".into()),
        "CONTACTS_IMPORT_BATCH_ROWS" => std::env::var("BENCH_IMPORT_BATCH_ROWS").ok(),
        _ => None,
    })?;
    let bytes = std::fs::metadata(&csv)?.len();
    // Each timed part starts with nothing of the one before left to write.
    sync_disks()?;
    let (cpu_before, writer) = (cpu_seconds(), ThreadCpu::watch(WRITER_THREAD));
    let started = Instant::now();
    let job = import_file(
        &config,
        &WorkspaceId::parse("bench")?,
        Some(&settings),
        &csv,
    )
    .await?;
    let engine = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let writer = writer.seconds();
    anyhow::ensure!(
        job.failure.is_none(),
        "the import failed: {:?}",
        job.failure
    );
    sync_disks()?;
    let started = Instant::now();
    let indexed = EmbeddedStore::open(&dir)?.catch_up_text_index().await?;
    let engine_text = started.elapsed().as_secs_f64();
    let rss = peak_rss_mb();
    let (floor, floor_text) = floor_seconds(&csv, &floor_sql).await?;
    let (phones, phones_s) = phones_seconds(&csv).await?;
    let rows = job.counts.rows;
    let per_second = |s: f64| rows as f64 / s;
    let report = format!(
        "# Embedded import\n\n\
         {rows} rows ({:.1} MB), {} created, {} rejected; batches of {} rows \
         (size limit raised to 64 MiB for this file).\n\n\
         | what | engine (release) | same-schema floor (`sqlite3`, no validation) | engine / floor |\n\
         |---|---:|---:|---:|\n\
         | rows and their indexes (the import) | {engine:.2} s, {:.0} rows/s | {floor:.2} s, {:.0} rows/s | {:.2}× |\n\
         | text indexes (trigram and words), afterwards ({indexed} rows) | {engine_text:.2} s | {floor_text:.2} s | {:.2}× |\n\
         | both | {:.2} s | {:.2} s | {:.2}× |\n\n\
         Peak RSS of the importing process: {rss:.0} MB. CPU time of the import: {cpu:.2} s \
         on both cores, {:.1} µs a row; of it the store's writer thread {writer:.2} s, \
         {:.1} µs a row ({:.0}% of the import's time).\n\n\
         Validating the file's {phones} phone numbers alone (`PhoneNumber::parse_loose`, \
         `rlibphonenumber` underneath), on one core: {phones_s:.2} s, {:.0} a second.\n",
        bytes as f64 / 1e6,
        job.counts.created,
        job.counts.rejected,
        config.import_batch_rows,
        per_second(engine),
        per_second(floor),
        engine / floor,
        engine_text / floor_text,
        engine + engine_text,
        floor + floor_text,
        (engine + engine_text) / (floor + floor_text),
        cpu * 1e6 / rows.max(1) as f64,
        writer * 1e6 / rows.max(1) as f64,
        writer * 100.0 / engine,
        phones as f64 / phones_s,
    );
    std::fs::create_dir_all("../target/bench")?;
    std::fs::write("../target/bench/embedded-import.md", &report)?;
    print!("{report}");
    Ok(())
}
