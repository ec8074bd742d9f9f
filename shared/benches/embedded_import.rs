//! Import benchmark: the generated contacts CSV (`BENCH_IMPORT_CSV`, made by
//! `scripts/bench` with `../shared/bench/gen_csv.py`) imported through the
//! engine into a fresh embedded store, next to the same-schema floor
//! (`sqlite3` filling the store's schema from the same file, no validation)
//! timed in the same run. Writes `target/bench/embedded-import.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use contacts::local::{LocalConfig, import_file};

mod support;
use contacts::model::WorkspaceId;
#[path = "support/import.rs"]
mod import_support;
use import_support::import_settings;
use support::peak_rss_mb;

/// Seconds `sqlite3` takes to run the floor script beside a copy of the CSV.
fn floor_seconds(csv: &Path, floor_sql: &Path) -> anyhow::Result<f64> {
    let dir = tempfile::TempDir::new()?;
    std::fs::copy(csv, dir.path().join("c400k.csv"))?;
    let script = std::fs::File::open(floor_sql)?;
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg(dir.path().join("floor.db"))
        .current_dir(dir.path())
        .stdin(script)
        .status()?;
    anyhow::ensure!(status.success(), "sqlite3 failed on the floor script");
    Ok(started.elapsed().as_secs_f64())
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
        _ => None,
    })?;
    let bytes = std::fs::metadata(&csv)?.len();
    let started = Instant::now();
    let job = import_file(
        &config,
        &WorkspaceId::parse("bench")?,
        Some(&settings),
        &csv,
    )
    .await?;
    let engine = started.elapsed().as_secs_f64();
    let rss = peak_rss_mb();
    anyhow::ensure!(
        job.failure.is_none(),
        "the import failed: {:?}",
        job.failure
    );
    let floor = floor_seconds(&csv, &floor_sql)?;
    let rows = job.counts.rows;
    let per_second = |s: f64| rows as f64 / s;
    let report = format!(
        "# Embedded import\n\n\
         {rows} rows ({:.1} MB), {} created, {} rejected; batches of {} rows \
         (size limit raised to 64 MiB for this file).\n\n\
         | what | seconds | rows/s |\n|---|---:|---:|\n\
         | engine (`contacts-local import`, release) | {engine:.2} | {:.0} |\n\
         | same-schema floor (`sqlite3`, no validation) | {floor:.2} | {:.0} |\n\n\
         Engine / floor: {:.2}×. Peak RSS of the importing process: {rss:.0} MB.\n",
        bytes as f64 / 1e6,
        job.counts.created,
        job.counts.rejected,
        config.import_batch_rows,
        per_second(engine),
        per_second(floor),
        engine / floor,
    );
    std::fs::create_dir_all("../target/bench")?;
    std::fs::write("../target/bench/embedded-import.md", &report)?;
    print!("{report}");
    Ok(())
}
