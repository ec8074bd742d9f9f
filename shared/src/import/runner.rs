//! Runs an import from its checkpoint: reads the file in batches, plans and
//! commits each (with the checkpoint it reaches), removes what `remove`
//! says, writes the error CSV. Whatever stops a run, the next one continues
//! exactly where the last commit left off.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::csvfile::{self, MAX_BYTES};
use super::job::{ImportId, ImportJob, ImportStatus, Phase};
use super::mapping::{Mapping, map_columns};
use super::plan::{Context, CreatedIds, Seen, lookup_keys, plan, row_keys};
use super::reader::{self, Batch, RowReading, Start};
use super::report;
use super::row::Row;
use super::settings::{ChosenTarget, Rules};
use super::source::FileKind;
use crate::audit::{Change, Operation};
use crate::catalog::{self, Catalog};
use crate::error::{Error, Result};
pub use crate::jobs::Budget;
use crate::model::{
    AttributeId, ConsentSource, Contact, ExternalId, MessagingId, WorkspaceId, now,
};
use crate::privacy::service::SuppressedSet;
use crate::store::imports::{Commit, Lookup, applied_key};
use crate::store::objects::{ObjectKey, ObjectStore};
use crate::{AppState, ImportPorts, service};

/// Runs imports over the state's stores.
#[derive(Clone)]
pub struct Runner {
    state: AppState,
    ports: ImportPorts,
    batch_rows: usize,
    max_bytes: u64,
    /// Whether an internal error ends the run with the error, leaving the
    /// import at its last checkpoint for the next run, rather than failing it.
    retry_errors: bool,
}

/// Why a run stopped before the end.
enum Stop {
    /// The import can't go on; the reason is for the user.
    Failed(String),
    /// The budget ran out at a checkpoint.
    Paused,
    Error(Error),
}

impl From<crate::model::InvalidValue> for Stop {
    fn from(error: crate::model::InvalidValue) -> Self {
        Stop::Error(error.into())
    }
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Error(error)
    }
}

/// A batch's plan: the job with the batch's checkpoint reached (before its
/// counts), what it commits, and the keys its rows claim.
struct Planned {
    reached: ImportJob,
    commit: Arc<Commit>,
    claimed: HashMap<String, u64>,
}

/// What a plan knows beyond the store: keys of the batch still committing,
/// External IDs a commit found taken since they were looked up (with their
/// holders), and whether the batch may repeat one an earlier attempt partly
/// applied (then the rows' applied-update keys are read too).
struct Prior<'a> {
    in_flight: &'a HashMap<String, u64>,
    held: &'a HashMap<String, MessagingId>,
    repeat: bool,
}

/// A batch planned and not committed yet.
struct Pending {
    rows: Vec<Row>,
    planned: Planned,
}

/// How a batch was committed.
enum Committed {
    AsPlanned,
    /// After planning it again: what was planned after it is stale too.
    Replanned,
}

/// The job with `batch`'s checkpoint reached: where the file continues after
/// it and, at the end of the file, the phase that follows.
fn advanced(job: &ImportJob, batch: &Batch, size: u64, rules: &Rules) -> ImportJob {
    let mut job = checkpointed(job);
    job.checkpoint.byte_offset = batch.byte_offset;
    job.checkpoint.line = batch.line;
    job.progress.bytes_done = if batch.end { size } else { batch.byte_offset };
    if batch.end {
        job.checkpoint.phase = if rules.remove_missing {
            Phase::Removing
        } else {
            Phase::Report
        };
    }
    job
}

/// The job as a checkpoint stores it: a run that reaches a checkpoint has
/// made progress, so the count of runs in a row that made none starts over.
fn checkpointed(job: &ImportJob) -> ImportJob {
    let mut job = job.clone();
    if let Some(lease) = job.lease.as_mut() {
        lease.runs = 0;
    }
    job
}

/// How many times a batch is planned again after losing a race.
const ATTEMPTS: usize = 5;
/// How long before what an import remembers expires it stops resuming.
const RESUME_MARGIN: std::time::Duration = std::time::Duration::from_secs(60 * 60);
/// Contacts deleted per commit by `remove`.
const REMOVE_BATCH: usize = 500;
/// Why an import stops when its file changes under it.
const REPLACED: &str = "the CSV file was replaced or deleted while it was being imported; \
                        rows already imported are kept: import the new file as a new import";
/// Rejected rows read per page for the error CSV.
const REPORT_PAGE: usize = 1000;

impl Runner {
    /// A runner over `state`, which must have the import ports.
    pub fn new(state: AppState, batch_rows: usize) -> Result<Self> {
        let ports = state.import_ports()?.clone();
        Ok(Self {
            state,
            ports,
            batch_rows: batch_rows.max(1),
            max_bytes: MAX_BYTES,
            retry_errors: false,
        })
    }

    /// The same runner, ending a run on an internal error (a network error,
    /// writes still unprocessed after their retries) with that error, for a
    /// caller that runs the import again from its last checkpoint (exact);
    /// by default such an error fails the import.
    pub fn retrying_errors(mut self) -> Self {
        self.retry_errors = true;
        self
    }

    /// The same runner, refusing files larger than `max_bytes`.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Why `job` can't continue exactly, if what it remembered of its
    /// first batches (the rows that identified contacts, for duplicates and
    /// for `remove`) may have expired by now.
    fn too_late_to_resume(&self, job: &ImportJob) -> Option<String> {
        let kept = self.ports.store.remembers_for()?;
        let started = job.started_at?;
        let kept_until =
            started + chrono::TimeDelta::from_std(kept.saturating_sub(RESUME_MARGIN)).ok()?;
        (now() >= kept_until).then(|| {
            format!(
                "the import stopped and was resumed more than {} days after it started, \
                 when what it remembered of the rows it had imported may be gone; rows \
                 already imported are kept and nothing was removed: import the same file \
                 again with the same settings to complete it",
                kept.as_secs() / 86_400
            )
        })
    }

    /// The state it runs over.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The stores it runs on.
    pub fn ports(&self) -> &ImportPorts {
        &self.ports
    }

    /// Runs the import until it ends or `budget` runs out; returns its state.
    pub async fn run(
        &self,
        workspace: &WorkspaceId,
        id: &ImportId,
        budget: Budget,
    ) -> Result<ImportJob> {
        let mut job = self
            .ports
            .store
            .import(workspace, id)
            .await?
            .ok_or_else(|| Error::ImportNotFound(id.to_string()))?;
        if job.status.is_finished() {
            return Ok(job);
        }
        if let Some(reason) = self.too_late_to_resume(&job) {
            job.fail(reason);
            self.ports.store.save_import(&job).await?;
            return Ok(job);
        }
        let suppressed = SuppressedSet::load(self.state.suppressions.as_ref(), workspace).await?;
        let mut run = Run {
            runner: self,
            workspace,
            budget,
            batches: 0,
            suppressed,
        };
        match run.drive(&mut job).await {
            Ok(()) => {
                job.status = ImportStatus::Completed;
                job.finished_at = Some(now());
            }
            Err(Stop::Paused) => return Ok(job),
            Err(Stop::Failed(reason)) => job.fail(reason),
            Err(Stop::Error(error)) if self.retry_errors => return Err(error),
            Err(Stop::Error(error)) => {
                tracing::error!(import = %id, error = ?error, "import stopped by an internal error");
                job.fail(
                    "an internal error stopped the import; rows already imported are kept, and \
                     importing the same file again with the same settings completes it"
                        .to_owned(),
                );
            }
        }
        // A failure here leaves the import as last saved, to be finished
        // again by the next run.
        run.finish(&mut job).await?;
        if !job.settings.dry_run {
            let finished = Change::of(Operation::ImportFinished, &job.id, &[]);
            let audit = self.state.audit(workspace, job.actor());
            audit.record(finished.with_counts(job.counts)).await;
        }
        Ok(job)
    }
}

/// One run of one import.
struct Run<'a> {
    runner: &'a Runner,
    workspace: &'a WorkspaceId,
    budget: Budget,
    batches: u64,
    /// The identifiers erased or suppressed when the run started.
    suppressed: SuppressedSet,
}

impl Run<'_> {
    fn ports(&self) -> &ImportPorts {
        &self.runner.ports
    }

    async fn drive(&mut self, job: &mut ImportJob) -> Result<(), Stop> {
        if job.status != ImportStatus::Running {
            job.status = ImportStatus::Running;
            job.started_at.get_or_insert_with(now);
            self.ports().store.save_import(job).await?;
        }
        let mut catalog = Catalog::load(&self.runner.state, self.workspace).await?;
        let rules = job
            .settings
            .check(&catalog)
            .map_err(|e| Stop::Failed(settings_failure(e)))?;
        if job.checkpoint.phase == Phase::Rows {
            if job.checkpoint.delimiter.is_none() {
                self.start(job, &rules).await?;
                catalog = Catalog::load(&self.runner.state, self.workspace).await?;
            }
            let mapping =
                map_columns(&job.checkpoint.headers, &rules, &catalog).map_err(Stop::Failed)?;
            self.rows(job, &rules, &catalog, &mapping).await?;
        }
        if job.checkpoint.phase == Phase::Removing {
            self.remove(job, &rules).await?;
        }
        Ok(())
    }

    /// First run: checks the size, makes a UTF-8 CSV copy of a file that is
    /// not one, reads the header row and defines the
    /// attributes the settings create (the caller then checks the mapping,
    /// before any row is written).
    async fn start(&mut self, job: &mut ImportJob, rules: &Rules) -> Result<(), Stop> {
        let key = job.csv_key()?;
        let objects = &self.ports().objects;
        let file = objects
            .head(&key)
            .await?
            .ok_or_else(|| Stop::Failed("the CSV file has not been uploaded".into()))?;
        if job.checkpoint.version.get_or_insert(file.version.clone()) != &file.version {
            return Err(Stop::Failed(REPLACED.into()));
        }
        let size = file.bytes;
        job.file.bytes = Some(size);
        job.progress.bytes_total = size;
        if size > self.runner.max_bytes {
            return Err(Stop::Failed(format!(
                "the file has {:.1} MB; at most {:.0} MB can be imported at once: split it into smaller files",
                size as f64 / 1_048_576.0,
                self.runner.max_bytes as f64 / 1_048_576.0
            )));
        }
        let mut head = read_from(objects, &key, &file.version, Some(HEAD_BYTES)).await?;
        let kind = FileKind::sniff(&head, size <= HEAD_BYTES);
        job.file.encoding = Some(kind.name().to_owned());
        if kind.needs_conversion() {
            let whole = read_from(objects, &key, &file.version, None).await?;
            let csv = tokio::task::spawn_blocking(move || kind.to_utf8_csv(&whole))
                .await
                .map_err(|e| Error::Unexpected(e.into()))?
                .map_err(Stop::Failed)?;
            let converted = job.converted_key()?;
            head = csv[..csv.len().min(HEAD_BYTES as usize)].to_vec();
            objects
                .put(&converted, Box::pin(std::io::Cursor::new(csv)), "text/csv")
                .await?;
            let copy = objects.head(&converted).await?.ok_or_else(|| {
                Error::Unexpected(anyhow::anyhow!(
                    "the converted copy {} vanished",
                    converted.as_ref()
                ))
            })?;
            job.checkpoint.converted = Some(copy.version);
            job.progress.bytes_total = copy.bytes;
        }
        let header = csvfile::header(&head).await.map_err(Stop::Failed)?;
        for target in rules.columns.values() {
            if let ChosenTarget::Create(new) = target {
                catalog::create_attribute(
                    &self.runner.state,
                    &self.runner.state.audit(self.workspace, job.actor()),
                    new.name.clone(),
                    new.label.clone(),
                    new.kind,
                )
                .await?;
            }
        }
        job.checkpoint.delimiter = Some(header.sniffed.delimiter);
        job.checkpoint.byte_offset = header.end;
        job.checkpoint.line = header.line;
        job.checkpoint.headers = header.names;
        job.progress.bytes_done = job.checkpoint.byte_offset;
        self.ports().store.save_import(job).await?;
        Ok(())
    }

    async fn rows(
        &mut self,
        job: &mut ImportJob,
        rules: &Rules,
        catalog: &Catalog,
        mapping: &Mapping,
    ) -> Result<(), Stop> {
        let (key, version) = job.rows_source()?;
        let base = job.checkpoint.byte_offset;
        let size = job.progress.bytes_total;
        let input = if base < size {
            self.ports()
                .objects
                .get_from(&key, base, version)
                .await?
                .ok_or_else(|| Stop::Failed(REPLACED.into()))?
        } else {
            Box::pin(tokio::io::empty())
        };
        let start = Start {
            byte_offset: base,
            line: job.checkpoint.line,
            delimiter: job.checkpoint.delimiter.unwrap_or(b','),
        };
        let how = RowReading {
            mapping: mapping.clone(),
            catalog: catalog.clone(),
            replace_invalid: rules.replace_invalid,
            batch_rows: self.runner.batch_rows,
        };
        let unmapped = mapping.unmapped(catalog);
        let batches = reader::batches(input, start, how);
        self.pipeline(job, rules, &unmapped, batches, size).await
    }

    /// Plans each batch while the one before it commits (so that looking up
    /// and planning overlap with the writes). A batch planned that way takes
    /// the keys of the batch still committing as seen; if that commit had to
    /// be planned again, so is this batch.
    async fn pipeline(
        &mut self,
        job: &mut ImportJob,
        rules: &Rules,
        unmapped: &[AttributeId],
        mut batches: mpsc::Receiver<Result<Batch>>,
        size: u64,
    ) -> Result<(), Stop> {
        let (nothing_in_flight, nothing_held) = (HashMap::new(), HashMap::new());
        let mut pending: Option<Pending> = None;
        // The batch committed last, freed beside the next commit rather
        // than between the two (freeing 2,000 rows takes milliseconds).
        let mut committed_last: Option<Pending> = None;
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            // The plan made beside the last commit, if that commit kept it.
            let planned = match pending.take() {
                None => None,
                Some(before) => {
                    let reached = advanced(&before.planned.commit.job, &batch, size, rules);
                    let (committed, planned) =
                        tokio::join!(self.commit_planned(job, rules, unmapped, &before), async {
                            drop(committed_last.take());
                            self.plan_rows(
                                &batch.rows,
                                reached,
                                (rules, unmapped),
                                Prior {
                                    in_flight: &before.planned.claimed,
                                    held: &nothing_held,
                                    repeat: false,
                                },
                            )
                            .await
                        });
                    committed_last = Some(before);
                    self.batches += 1;
                    let planned = match committed? {
                        Committed::AsPlanned => Some(planned?),
                        Committed::Replanned => None,
                    };
                    self.spend()?;
                    planned
                }
            };
            let planned = match planned {
                Some(planned) => planned,
                None => {
                    let reached = advanced(job, &batch, size, rules);
                    // The first batch of a run, or one after a batch planned
                    // again: either may repeat a batch partly applied.
                    self.plan_rows(
                        &batch.rows,
                        reached,
                        (rules, unmapped),
                        Prior {
                            in_flight: &nothing_in_flight,
                            held: &nothing_held,
                            repeat: true,
                        },
                    )
                    .await?
                }
            };
            let this = Pending {
                rows: batch.rows,
                planned,
            };
            if batch.end || batch.bad_text.is_some() {
                self.commit_planned(job, rules, unmapped, &this).await?;
                self.batches += 1;
                return batch
                    .bad_text
                    .map_or(Ok(()), |reason| Err(Stop::Failed(reason)));
            }
            pending = Some(this);
        }
        Err(Error::Unexpected(anyhow::anyhow!("the file reader stopped early")).into())
    }

    /// `rows` with each Messaging ID of a contact merged away replaced by
    /// its survivor's, and `contacts` (those the rows' IDs found) with the
    /// survivors: a row naming a merged contact updates the one it became.
    async fn follow_merges<'r>(
        &self,
        rows: &'r [Row],
        mut contacts: Vec<Contact>,
    ) -> Result<(Cow<'r, [Row]>, Vec<Contact>)> {
        let known: HashSet<&MessagingId> = contacts.iter().map(|c| &c.messaging_id).collect();
        let mut survivors = HashMap::new();
        for id in rows.iter().filter_map(|r| r.messaging_id.as_ref()) {
            if !known.contains(id) && !survivors.contains_key(id) {
                let contacts = self.runner.state.contacts.as_ref();
                if let Some(survivor) = service::survivor_of(contacts, self.workspace, id).await? {
                    survivors.insert(id.clone(), survivor);
                }
            }
        }
        if survivors.is_empty() {
            return Ok((Cow::Borrowed(rows), contacts));
        }
        let lookup = Lookup {
            messaging_ids: survivors.values().cloned().collect(),
            ..Lookup::default()
        };
        let found = self.ports().store.lookup(self.workspace, &lookup).await?;
        let known: HashSet<MessagingId> = contacts.iter().map(|c| c.messaging_id.clone()).collect();
        contacts.extend(
            found
                .into_iter()
                .filter(|c| !known.contains(&c.messaging_id)),
        );
        let rows = rows
            .iter()
            .map(
                |row| match row.messaging_id.as_ref().and_then(|id| survivors.get(id)) {
                    Some(survivor) => Row {
                        messaging_id: Some(survivor.clone()),
                        ..row.clone()
                    },
                    None => row.clone(),
                },
            )
            .collect();
        Ok((Cow::Owned(rows), contacts))
    }

    /// Looks up what `rows` name and plans them; the commit leaves the job
    /// as `reached` plus the batch's counts.
    async fn plan_rows(
        &self,
        rows: &[Row],
        reached: ImportJob,
        (rules, unmapped): (&Rules, &[AttributeId]),
        prior: Prior<'_>,
    ) -> Result<Planned, Stop> {
        let store = &self.ports().store;
        let limit = self.runner.state.usage_limit;
        let mut keys: Vec<String> = rows
            .iter()
            .flat_map(|row| row_keys(row, rules))
            .map(|(key, _)| key)
            .collect();
        if prior.repeat && rules.update.is_some() {
            keys.extend(rows.iter().map(|row| applied_key(row.line)));
        }
        let lookup = lookup_keys(rows);
        let (found, stored, count) = tokio::try_join!(
            store.lookup(self.workspace, &lookup),
            store.seen(self.workspace, &reached.id, &keys),
            async {
                match limit {
                    Some(limit) => self.uncounted(rows, &reached.id, limit).await.map(Some),
                    None => Ok(None),
                }
            }
        )?;
        let source = ConsentSource::import(&reached.id);
        let context = Context {
            import: &reached.id,
            created: CreatedIds::of(&reached.id),
            rules,
            source: &source,
            now: now(),
            capacity: limit.zip(count).map(|(l, c)| l.saturating_sub(c)),
            unmapped,
            remember_reach: store.reach_lookups_lag(),
            suppressed: &self.suppressed,
            held: prior.held,
        };
        let (rows, contacts) = self.follow_merges(rows, found).await?;
        let seen = Seen {
            stored,
            in_flight: prior.in_flight,
        };
        let planned = plan(&rows, &contacts, &seen, &context);
        let mut next = reached.clone();
        next.counts = next.counts + planned.counts;
        next.progress.rows_done = next.counts.rows;
        let (creates, updates) = if rules.dry_run {
            (Vec::new(), Vec::new())
        } else {
            (planned.creates, planned.updates)
        };
        Ok(Planned {
            reached,
            commit: Arc::new(Commit {
                job: next,
                creates,
                updates,
                deletes: Vec::new(),
                seen: planned.seen,
                rejected: planned.rejected,
            }),
            claimed: planned.claimed,
        })
    }

    /// The workspace's count without the rows of this batch that an
    /// interrupted commit of it counted already: the capacity the batch
    /// plans with is the room it had the first time.
    async fn uncounted(&self, rows: &[Row], import: &ImportId, limit: u64) -> Result<u64> {
        let count = self.runner.state.contacts.count(self.workspace).await?;
        if count + rows.len() as u64 <= limit {
            // Room for every row: nothing to tell apart.
            return Ok(count);
        }
        let created = CreatedIds::of(import);
        let creates: Vec<(Option<ExternalId>, MessagingId)> = rows
            .iter()
            .map(|row| (row.external_id.clone(), created.id(row.line)))
            .collect();
        let counted = self
            .ports()
            .store
            .counted_already(self.workspace, &creates)
            .await?;
        Ok(count.saturating_sub(counted))
    }

    /// Commits a planned batch, planning it again (from fresh lookups) when
    /// a concurrent change made the plan stale.
    async fn commit_planned(
        &self,
        job: &mut ImportJob,
        rules: &Rules,
        unmapped: &[AttributeId],
        pending: &Pending,
    ) -> Result<Committed, Stop> {
        let store = &self.ports().store;
        let limit = self.runner.state.usage_limit;
        let mut replanned: Option<Planned> = None;
        let mut held: HashMap<String, MessagingId> = HashMap::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let planned = replanned.as_ref().unwrap_or(&pending.planned);
            match store
                .commit(self.workspace, Arc::clone(&planned.commit), limit)
                .await
            {
                Ok(()) => {
                    *job = planned.commit.job.clone();
                    return Ok(match replanned {
                        None => Committed::AsPlanned,
                        Some(_) => Committed::Replanned,
                    });
                }
                Err(
                    error @ (Error::PreconditionFailed { .. }
                    | Error::ContactNotFound(_)
                    | Error::DuplicateExternalId { .. }
                    | Error::ExternalIdsTaken(_)
                    | Error::UsageLimitReached { .. }),
                ) if attempt < ATTEMPTS => {
                    // Rows whose External ID another contact took are
                    // refused naming it; the rest are planned again.
                    match error {
                        Error::DuplicateExternalId {
                            external_id,
                            holder,
                        } => {
                            held.insert(external_id, holder);
                        }
                        Error::ExternalIdsTaken(taken) => held.extend(taken),
                        _ => {}
                    }
                    let reached = pending.planned.reached.clone();
                    replanned = Some(
                        self.plan_rows(
                            &pending.rows,
                            reached,
                            (rules, unmapped),
                            Prior {
                                in_flight: &HashMap::new(),
                                held: &held,
                                repeat: true,
                            },
                        )
                        .await?,
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Deletes (or in a dry run, counts) the contacts that existed before the
    /// import and that no row identified.
    async fn remove(&mut self, job: &mut ImportJob, rules: &Rules) -> Result<(), Stop> {
        let before = job.started_at.unwrap_or_else(now);
        loop {
            let (ids, next) = self
                .ports()
                .store
                .unseen(
                    self.workspace,
                    &job.id,
                    before,
                    job.checkpoint.remove_cursor.as_deref(),
                    REMOVE_BATCH,
                )
                .await?;
            let mut after = checkpointed(job);
            after.counts.removed += ids.len() as u64;
            after.checkpoint.remove_cursor = next.clone();
            if next.is_none() {
                after.checkpoint.phase = Phase::Report;
            }
            let commit = Commit {
                job: after.clone(),
                creates: Vec::new(),
                updates: Vec::new(),
                deletes: if rules.dry_run { Vec::new() } else { ids },
                seen: Vec::new(),
                rejected: Vec::new(),
            };
            self.ports()
                .store
                .commit(self.workspace, Arc::new(commit), None)
                .await?;
            *job = after;
            self.batches += 1;
            if next.is_none() {
                return Ok(());
            }
            self.spend()?;
        }
    }

    /// Stops at this checkpoint if the budget is spent.
    fn spend(&self) -> Result<(), Stop> {
        if self.budget.spent(self.batches) {
            Err(Stop::Paused)
        } else {
            Ok(())
        }
    }

    /// Writes the error CSV (when rows were rejected), stores the import's
    /// final state, and only then forgets its keys and rejected rows: a run
    /// stopped anywhere before the final state is stored writes the same
    /// file again from rows still there.
    async fn finish(&self, job: &mut ImportJob) -> Result<()> {
        if job.counts.rejected > 0 {
            report::write(self.ports(), self.workspace, job, REPORT_PAGE).await?;
        }
        self.ports().store.save_import(job).await?;
        self.ports().store.forget(self.workspace, &job.id).await?;
        if job.checkpoint.converted.is_some() {
            self.ports().objects.delete(&job.converted_key()?).await?;
        }
        Ok(())
    }
}

/// Settings that no longer fit the workspace (a list or attribute deleted
/// since), in words.
fn settings_failure(error: Error) -> String {
    format!(
        "the settings no longer fit the workspace: {}",
        error.in_words()
    )
}

/// How much of a file tells its kind and holds its header row.
const HEAD_BYTES: u64 = 64 * 1024;

/// Up to `limit` bytes of version `version` of `key` (all of them when
/// `None`).
async fn read_from(
    objects: &Arc<dyn ObjectStore>,
    key: &ObjectKey,
    version: &str,
    limit: Option<u64>,
) -> Result<Vec<u8>, Stop> {
    let reader = objects
        .get_from(key, 0, Some(version))
        .await?
        .ok_or_else(|| Stop::Failed(REPLACED.into()))?;
    let mut bytes = Vec::new();
    reader
        .take(limit.unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Error::Unexpected(e.into()))?;
    Ok(bytes)
}
