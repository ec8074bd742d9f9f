//! The text index behind a high-water mark.
//!
//! `contacts_text` (FTS5, trigram) and `contacts_words` (see `word_index`)
//! hold every contact whose row ID is at or below `text_index.mark`; rows
//! above it are not indexed yet. Writes never
//! index new rows themselves: an indexer fills the index behind the mark, a
//! chunk per transaction, once bulk writes have paused, so an import writes
//! at full speed. Listings answer text filters from the index below the mark
//! and scan the rows above it (see `listing`), so search stays exact
//! whatever the mark. Row IDs only grow (`AUTOINCREMENT`), so a new row is
//! always above the mark.

use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::{Connection, Transaction, params};

use super::{EmbeddedStore, Pool, word_index};
use crate::error::Result;

/// Rows one indexing transaction takes: short enough not to hold up other
/// writes for long (about 200 ms for both indexes here), long enough that
/// the fill costs little more than one statement's (7–10% more; chunks of
/// 1,000 rows cost 10–30% more).
const CHUNK_ROWS: u32 = 5_000;
/// How long bulk writes must have paused before the indexer runs.
const BULK_PAUSE: Duration = Duration::from_millis(500);
/// How often a waiting indexer checks that its store is still open.
const RECHECK: Duration = Duration::from_secs(1);

/// The highest row ID the text index holds every row up to.
pub(super) fn mark(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT mark FROM text_index")?
        .query_row([], |row| row.get(0))?)
}

/// Whether any row waits above the mark.
fn behind(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM contacts WHERE id > (SELECT mark FROM text_index))",
        )?
        .query_row([], |row| row.get(0))?)
}

/// Indexes up to `rows` rows above the mark, oldest first, and moves the
/// mark past them. Returns how many it indexed.
fn index_chunk(tx: &Transaction<'_>, rows: i64) -> Result<usize> {
    let from = mark(tx)?;
    let to: Option<i64> = tx
        .prepare_cached(
            "SELECT max(id) FROM (SELECT id FROM contacts WHERE id > ?1 ORDER BY id LIMIT ?2)",
        )?
        .query_row(params![from, rows], |row| row.get(0))?;
    let Some(to) = to else {
        return Ok(0);
    };
    let count = tx
        .prepare_cached(
            "INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email) \
             SELECT id, full_name, first_name, last_name, phone, email FROM contacts \
             WHERE id > ?1 AND id <= ?2",
        )?
        .execute(params![from, to])?;
    tx.prepare_cached(&word_index::insert_from(
        "c.",
        "contacts c WHERE c.id > ?1 AND c.id <= ?2",
    ))?
    .execute(params![from, to])?;
    tx.prepare_cached("UPDATE text_index SET mark = ?1")?
        .execute(params![to])?;
    Ok(count)
}

impl EmbeddedStore {
    /// Indexes up to `rows` contacts not yet in the text index; returns how
    /// many it indexed (0 once the index holds every contact).
    pub async fn index_text(&self, rows: u32) -> Result<u64> {
        let rows = i64::from(rows.max(1));
        let indexed = self.write(move |tx| index_chunk(tx, rows)).await?;
        Ok(u64::try_from(indexed).unwrap_or(0))
    }

    /// How many contacts the text index does not hold yet.
    pub async fn unindexed_text(&self) -> Result<u64> {
        self.read(|conn| {
            let waiting: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM contacts WHERE id > (SELECT mark FROM text_index)",
                )?
                .query_row([], |row| row.get(0))?;
            Ok(u64::try_from(waiting).unwrap_or(0))
        })
        .await
    }

    /// Checks that the trigram index holds exactly what the contacts say
    /// (FTS5's integrity check against its content) and that the word
    /// index's structure is sound: an error names what is wrong.
    /// Meaningful once the index holds every contact.
    pub async fn check_text_index(&self) -> Result<()> {
        self.write(|tx| {
            tx.execute_batch(
                "INSERT INTO contacts_text (contacts_text, rank) VALUES ('integrity-check', 1); \
                 INSERT INTO contacts_words (contacts_words) VALUES ('integrity-check');",
            )?;
            Ok(())
        })
        .await
    }

    /// Empties both text indexes and fills them again from every contact,
    /// one statement each, in one write: the repair when
    /// [`check_text_index`](Self::check_text_index) fails. Holds other
    /// writes up for as long as it runs (30–45 µs a contact here). Returns how
    /// many contacts the index holds.
    pub async fn rebuild_text_index(&self) -> Result<u64> {
        let indexed = self
            .write(|tx| {
                tx.execute_batch(
                    "INSERT INTO contacts_text (contacts_text) VALUES ('delete-all'); \
                     INSERT INTO contacts_words (contacts_words) VALUES ('delete-all'); \
                     UPDATE text_index SET mark = 0;",
                )?;
                index_chunk(tx, i64::MAX)
            })
            .await?;
        Ok(u64::try_from(indexed).unwrap_or(0))
    }

    /// Indexes every contact not yet in the text index; returns how many.
    pub async fn catch_up_text_index(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            match self.index_text(CHUNK_ROWS).await? {
                0 => return Ok(total),
                indexed => total += indexed,
            }
        }
    }

    /// Keeps the text index filled in the background for as long as the
    /// store is open: it indexes after writes, once bulk writes have paused
    /// for [`BULK_PAUSE`]. Needs a Tokio runtime.
    pub fn keep_text_index(&self) -> tokio::task::JoinHandle<()> {
        let pool = Arc::downgrade(&self.pool);
        let window = self.scan_window;
        tokio::spawn(async move {
            while let Some(wait) = next_wait(&pool, window).await {
                match wait {
                    Wait::NextWrite(written) => {
                        let _ = tokio::time::timeout(RECHECK, written.notified()).await;
                    }
                    Wait::Pause(pause) => tokio::time::sleep(pause).await,
                }
            }
        })
    }
}

/// What the indexer waits for before it looks again.
enum Wait {
    /// The next write: the index holds every row.
    NextWrite(Arc<tokio::sync::Notify>),
    /// A pause (none while rows wait to be indexed).
    Pause(Duration),
}

/// Indexes one chunk if the time is right; `None` once the store is closed.
async fn next_wait(pool: &Weak<Pool>, window: i64) -> Option<Wait> {
    let pool = pool.upgrade()?;
    if let Some(since) = pool.since_bulk().filter(|since| *since < BULK_PAUSE) {
        return Some(Wait::Pause(BULK_PAUSE - since));
    }
    let written = Arc::clone(&pool.written);
    let store = EmbeddedStore {
        pool,
        scan_window: window,
    };
    let indexed = match store.read(behind).await {
        Ok(true) => store.index_text(CHUNK_ROWS).await,
        other => other.map(|_| 0),
    };
    match indexed {
        Ok(0) => Some(Wait::NextWrite(written)),
        Ok(_) => Some(Wait::Pause(Duration::ZERO)),
        Err(error) => {
            tracing::warn!(%error, "indexing contacts' text failed; trying again shortly");
            Some(Wait::Pause(RECHECK))
        }
    }
}
