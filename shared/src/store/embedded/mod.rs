//! The embedded default: SQLite (WAL, one writer, a few readers) in a data
//! folder, for one machine and no cloud account.

mod audit;
mod catalog;
mod contacts;
mod duplicates;
mod imports;
mod jobs;
mod listing;
mod rows;
mod schema;
mod suppressions;
mod text_index;
mod word_index;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::query::Page;

/// Readers open beside the one writer.
const READERS: usize = 4;
/// Page cache of the writer, in KiB: it holds the pages a batch dirties.
/// Twice as much made an import no faster, and its peak 20 MB higher.
const WRITER_CACHE_KIB: i64 = 16_000;
/// Pages the write-ahead log grows to before the writer copies it into the
/// database (SQLite's default is 1,000): a bulk import rewrites the same
/// index pages batch after batch, and copies them less often (about 80 MB).
const WRITER_WAL_PAGES: i64 = 20_000;
/// Page cache of each reader, in KiB: the operating system caches the file too.
const READER_CACHE_KIB: i64 = 16_000;

/// The SQLite-backed store. Cheap to clone; all clones share connections.
#[derive(Clone)]
pub struct EmbeddedStore {
    pool: Arc<Pool>,
    scan_window: i64,
}

struct Pool {
    writer: Writer,
    /// Whether the writer is in a bulk write (see [`EmbeddedStore::write_bulk`]).
    bulk: Arc<AtomicBool>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Notified after every write (the text indexer waits on it).
    written: Arc<tokio::sync::Notify>,
    /// When the last bulk write finished.
    last_bulk: Mutex<Option<Instant>>,
}

impl Pool {
    /// How long ago the last bulk write finished, if one did.
    fn since_bulk(&self) -> Option<Duration> {
        self.last_bulk
            .lock()
            .ok()
            .and_then(|at| at.map(|at| at.elapsed()))
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir`, bringing its schema up to date.
    pub fn open(dir: &Path) -> Result<Self> {
        private_folder(dir)?;
        let path = dir.join("contacts.sqlite3");
        let bulk = Arc::new(AtomicBool::new(false));
        let mut writer = schema::connect(&path, WRITER_CACHE_KIB, Arc::clone(&bulk))?;
        schema::migrate(&mut writer)?;
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_WAL_PAGES)?;
        let readers = (0..READERS)
            .map(|_| schema::connect(&path, READER_CACHE_KIB, Arc::default()).map(Mutex::new))
            .collect::<Result<_>>()?;
        Ok(Self {
            pool: Arc::new(Pool {
                writer: Writer::start(writer)?,
                bulk,
                readers,
                next_reader: AtomicUsize::new(0),
                written: Arc::default(),
                last_bulk: Mutex::default(),
            }),
            scan_window: listing::SCAN_WINDOW,
        })
    }

    /// The same store with pages that examine at most `rows` rows each
    /// (20,000 by default); small windows exercise paging.
    pub fn with_scan_window(mut self, rows: u32) -> Self {
        self.scan_window = i64::from(rows.max(1));
        self
    }

    /// Runs `f` in one transaction on the writer, off the async runtime.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.transaction(false, f).await
    }

    /// Runs `f` in one transaction on the writer in bulk mode: updates don't
    /// touch the text index, so `f` must bring the entries of the indexed
    /// rows it updates up to date before it returns (once, for the whole
    /// batch). The text indexer waits for bulk writes to pause.
    async fn write_bulk<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.transaction(true, f).await
    }

    async fn transaction<T, F>(&self, bulk: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        self.pool
            .writer
            .run(move |conn| {
                let _bulk = bulk.then(|| BulkMode::on(&pool.bulk));
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = f(&tx)?;
                tx.commit()?;
                if bulk && let Ok(mut last) = pool.last_bulk.lock() {
                    *last = Some(Instant::now());
                }
                pool.written.notify_one();
                Ok(value)
            })
            .await
    }

    /// Runs `f` on one of the readers, off the async runtime.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        blocking(move || {
            let i = pool.next_reader.fetch_add(1, Ordering::Relaxed) % pool.readers.len();
            f(&*lock(&pool.readers[i])?)
        })
        .await
    }
}

/// The name of the store's writer thread.
pub const WRITER_THREAD: &str = "contacts-writer";

/// A job for the writer's thread.
type WriterJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// The one writing connection, on a thread of its own: every write runs
/// there, one after another. (Run on the runtime's blocking threads, each
/// write allocated from whichever thread's heap arena it landed on, and an
/// import's peak memory grew with every arena the text index's chunks
/// touched: 300 MB against 108 MB with one arena.)
struct Writer {
    jobs: Option<std::sync::mpsc::Sender<WriterJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(mut conn: Connection) -> Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<WriterJob>();
        let thread = std::thread::Builder::new()
            .name(WRITER_THREAD.into())
            .spawn(move || {
                for job in queue {
                    job(&mut conn);
                }
            })
            .context("starting the store's writer thread")?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the writer's thread and waits for its result.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: WriterJob = Box::new(move |conn| {
            let _ = done.send(f(conn));
        });
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .context("the store's writer has stopped")?;
        result.await.context("a store write stopped unexpectedly")?
    }
}

impl Drop for Writer {
    /// Closes the connection before the store is gone: the writer's thread
    /// finishes the jobs sent before and ends (unless the store is dropped
    /// by the last of them, on that thread).
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// Bulk mode for as long as it lives.
struct BulkMode<'a>(&'a AtomicBool);

impl<'a> BulkMode<'a> {
    fn on(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::Relaxed);
        Self(flag)
    }
}

impl Drop for BulkMode<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Creates `dir` if needed and makes it readable by its owner only: it holds
/// personal data.
pub(crate) fn private_folder(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .with_context(|| format!("creating the data folder {}", dir.display()))?;
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("a store task stopped unexpectedly")?
}

fn lock(conn: &Mutex<Connection>) -> Result<MutexGuard<'_, Connection>> {
    conn.lock()
        .map_err(|_| anyhow::anyhow!("a store connection was poisoned by a panic").into())
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Unexpected(anyhow::Error::new(error).context("embedded store"))
    }
}

/// The page of JSON documents `sql` selects (one column) with `params`,
/// whose last is the row limit: one past `limit`.
fn json_page<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    limit: usize,
    key: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let found: Vec<String> = conn
        .prepare_cached(sql)?
        .query_map(params, |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let items = found
        .iter()
        .map(|json| crate::store::imports::from_json(json))
        .collect::<Result<_>>()?;
    Ok(Page::one_past(items, limit, key))
}

/// The row limit that reads one past `limit`.
fn one_past(limit: usize) -> i64 {
    i64::try_from(limit + 1).unwrap_or(i64::MAX)
}
