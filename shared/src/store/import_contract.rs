//! The import-store contract: one suite, run against every adapter that
//! serves imports.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;

use crate::error::Error;
use crate::import::job::{ImportId, ImportJob, ImportStatus, Lease};
use crate::import::settings::ImportSettings;
use crate::model::Contact;
use crate::query::PageRequest;
use crate::store::contract::{external, simple, ws};
use crate::store::imports::{Commit, ImportStore, Lookup, Rejected, Update};
use crate::store::{ContactStore, NewRecord};

/// Declares one `#[tokio::test]` per import-store check, each on a fresh
/// store from `$open` (an async fn whose result derefs to a store serving
/// both [`ContactStore`] and [`ImportStore`]).
#[macro_export]
macro_rules! import_store_contract_tests {
    ($open:path) => {
        $crate::import_store_contract_tests!(@each $open;
            imports_round_trip_newest_first_per_workspace,
            a_stale_commit_leaves_the_import_where_it_was,
            lookups_find_every_identifier_and_unseen_skips_identified,
            an_object_version_is_claimed_once,
            external_ids_stay_unique_when_commits_race_inserts,
            a_lease_passes_only_from_its_holder,
            large_rejected_rows_and_imports_come_in_full_pages,
            an_import_is_created_once,
            a_batch_keeps_the_consent_history_of_every_contact_it_creates
        );
    };
    (@each $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $open().await;
                $crate::store::import_contract::$check(&*store, &*store).await;
            }
        )*
    };
}

fn job(workspace: &str) -> ImportJob {
    ImportJob::new(&ws(workspace), ImportSettings::default(), "f.csv".into())
}

fn commit(job: &ImportJob) -> Commit {
    Commit {
        job: job.clone(),
        creates: Vec::new(),
        updates: Vec::new(),
        deletes: Vec::new(),
        seen: Vec::new(),
        rejected: Vec::new(),
    }
}

/// Creating an import whose ID exists (a repeated delivery of the upload
/// that made it) changes nothing: not its lease, not its checkpoint.
pub async fn an_import_is_created_once(_contacts: &dyn ContactStore, store: &dyn ImportStore) {
    let fresh = job("once");
    assert!(store.create_import(&fresh).await.expect("create"));
    let mut running = fresh.clone();
    running.status = ImportStatus::Running;
    running.lease = Some(Lease::new(crate::model::now() + Duration::minutes(15)));
    assert!(store.hand_over(&running, None).await.expect("lease"));
    running.checkpoint.byte_offset = 4_096;
    running.counts.rows = 40;
    store.save_import(&running).await.expect("checkpoint");
    assert!(!store.create_import(&fresh).await.expect("create again"));
    assert_eq!(
        store.import(&ws("once"), &fresh.id).await.expect("read"),
        Some(running),
        "the running import is kept as it was"
    );
}

/// Pages of large rejected rows (about 4 KB each: a page of 1,000 spans
/// several MB) and of large imports are full, and paging reaches the end:
/// a page a store cut short is not the last.
pub async fn large_rejected_rows_and_imports_come_in_full_pages(
    _contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let j = job("big");
    store.create_import(&j).await.expect("create");
    let wide = "x".repeat(4000);
    let mut batch = commit(&j);
    batch.rejected = (1..=1_200)
        .map(|line| Rejected {
            line: line + 1,
            cells: vec![format!("row {line}"), wide.clone()],
            error: "Email: not valid".into(),
        })
        .collect();
    store
        .commit(&ws("big"), Arc::new(batch), None)
        .await
        .expect("commit");
    let first = store
        .rejected(&ws("big"), &j.id, 0, 1_000)
        .await
        .expect("page");
    assert_eq!(first.len(), 1_000);
    let lines: Vec<u64> = first.iter().map(|r| r.line).collect();
    assert_eq!(lines, (2..=1_001).collect::<Vec<u64>>());
    let rest = store
        .rejected(&ws("big"), &j.id, 1_001, 1_000)
        .await
        .expect("page");
    assert_eq!(rest.len(), 200);
    assert_eq!(rest.last().map(|r| r.line), Some(1_201));

    let mut ids = Vec::new();
    for _ in 0..30 {
        let mut wide_job = job("wide");
        wide_job.checkpoint.headers = (0..1_000).map(|i| format!("{i:0>100}")).collect();
        store.create_import(&wide_job).await.expect("create");
        ids.push(wide_job.id);
    }
    let mut listed = Vec::new();
    let mut page = PageRequest::first(20);
    loop {
        let found = store.imports(&ws("wide"), &page).await.expect("list");
        if found.next_cursor.is_some() {
            assert_eq!(found.items.len(), 20, "a page with more after it is full");
        }
        listed.extend(found.items.into_iter().map(|j| j.id));
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(listed, ids, "every import, newest first");
}

/// Imports are kept per workspace, listed newest first in pages; unfinished
/// ones of every workspace can be found.
pub async fn imports_round_trip_newest_first_per_workspace(
    _contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let (a, b) = (ws("a"), ws("b"));
    let mut jobs = Vec::new();
    for _ in 0..3 {
        let j = job("a");
        store.create_import(&j).await.expect("create");
        jobs.push(j);
    }
    store.create_import(&job("b")).await.expect("create");
    let mut done = jobs[0].clone();
    done.status = ImportStatus::Completed;
    store.save_import(&done).await.expect("save");
    assert_eq!(
        store.import(&a, &done.id).await.expect("get"),
        Some(done.clone())
    );
    assert_eq!(store.import(&b, &done.id).await.expect("get"), None);
    let first = store
        .imports(&a, &PageRequest::first(2))
        .await
        .expect("page");
    assert_eq!(first.items, [jobs[2].clone(), jobs[1].clone()]);
    let rest = store
        .imports(
            &a,
            &PageRequest {
                limit: 2,
                cursor: first.next_cursor,
            },
        )
        .await
        .expect("page");
    assert_eq!((rest.items, rest.next_cursor), (vec![done], None));
    let unfinished = store.unfinished_imports().await.expect("unfinished");
    assert_eq!(unfinished.len(), 3);
}

/// A commit whose update is stale fails and leaves the import where it was:
/// no remembered key, no rejected row, no new checkpoint. Its creates are
/// written all or nothing too on SQLite; on DynamoDB they may be written
/// before the stale update is found, and then exactly as planned, so that
/// the batch's next plan recognises them by their IDs.
pub async fn a_stale_commit_leaves_the_import_where_it_was(
    contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let a = ws("a");
    let existing = simple(1);
    contacts.insert(&a, &existing, None).await.expect("insert");
    let j = job("a");
    store.create_import(&j).await.expect("create");
    let mut stale = commit(&j);
    stale.job.counts.rows = 3;
    stale.creates = vec![simple(2)];
    stale.updates = vec![Update {
        contact: Contact {
            version: 2,
            ..existing.0.clone()
        },
        expected_version: 7,
        line: 2,
        consent: Vec::new(),
    }];
    stale.seen = vec![("x:ext-2".into(), 2)];
    stale.rejected = vec![Rejected {
        line: 4,
        cells: vec!["bad".into()],
        error: "why".into(),
    }];
    let error = store
        .commit(&a, Arc::new(stale.clone()), None)
        .await
        .expect_err("stale");
    assert!(
        matches!(error, Error::PreconditionFailed { .. }),
        "{error:?}"
    );
    let planned = &stale.creates[0].0;
    let written = contacts.get(&a, &planned.messaging_id).await.expect("get");
    if let Some(written) = &written {
        assert_eq!(written, planned, "written exactly as planned");
    }
    assert_eq!(
        contacts.count(&a).await.expect("count"),
        1 + u64::from(written.is_some())
    );
    assert_eq!(store.import(&a, &j.id).await.expect("get"), Some(j.clone()));
    assert!(
        store
            .seen(&a, &j.id, &["x:ext-2".into()])
            .await
            .expect("seen")
            .is_empty()
    );
    assert!(
        store
            .rejected(&a, &j.id, 0, 10)
            .await
            .expect("rejected")
            .is_empty()
    );

    let mut good = stale;
    good.updates[0].expected_version = 1;
    if written.is_some() {
        // The next plan finds it, and creates it no more.
        good.creates.clear();
    }
    store
        .commit(&a, Arc::new(good.clone()), None)
        .await
        .expect("commit");
    assert_eq!(contacts.count(&a).await.expect("count"), 2);
    assert_eq!(
        store.import(&a, &j.id).await.expect("get"),
        Some(good.job.clone())
    );
    assert_eq!(
        store
            .seen(&a, &j.id, &["x:ext-2".into(), "x:other".into()])
            .await
            .expect("seen"),
        HashMap::from([("x:ext-2".to_owned(), 2)])
    );
    assert_eq!(
        store.rejected(&a, &j.id, 0, 10).await.expect("rejected"),
        good.rejected
    );
    store.forget(&a, &j.id).await.expect("forget");
    assert!(
        store
            .rejected(&a, &j.id, 0, 10)
            .await
            .expect("rejected")
            .is_empty()
    );
}

/// `lookup` finds contacts by each identifier; `unseen` pages through the
/// contacts created before a moment that the import did not identify.
pub async fn lookups_find_every_identifier_and_unseen_skips_identified(
    contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let a = ws("a");
    let records: Vec<NewRecord> = (1..=5).map(simple).collect();
    for r in &records {
        contacts.insert(&a, r, None).await.expect("insert");
        contacts.insert(&ws("b"), &simple(9), None).await.ok();
    }
    let c = |i: usize| &records[i].0;
    let lookup = Lookup {
        external_ids: vec![external(c(0)).clone()],
        messaging_ids: vec![c(1).messaging_id.clone()],
        emails: vec![c(2).reach.email().cloned().expect("email")],
        phones: vec![c(3).reach.phone().cloned().expect("phone")],
    };
    let mut found: Vec<_> = store
        .lookup(&a, &lookup)
        .await
        .expect("lookup")
        .into_iter()
        .map(|contact| external(&contact).to_string())
        .collect();
    found.sort();
    assert_eq!(found, ["ext-1", "ext-2", "ext-3", "ext-4"]);

    let j = job("a");
    store.create_import(&j).await.expect("create");
    let mut marks = commit(&j);
    marks.seen = vec![(format!("c:{}", c(1).messaging_id), 2)];
    store
        .commit(&a, Arc::new(marks), None)
        .await
        .expect("commit");
    let before = c(3).created_at + Duration::microseconds(1);
    let mut unseen = Vec::new();
    let mut after = None;
    loop {
        let (ids, next) = store
            .unseen(&a, &j.id, before, after.as_deref(), 2)
            .await
            .expect("unseen");
        unseen.extend(ids);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<_> = [0, 2, 3]
        .iter()
        .map(|&i| c(i).messaging_id.clone())
        .collect();
    unseen.sort();
    expected.sort();
    assert_eq!(unseen, expected, "in any order");
}

/// Every contact a batch creates keeps its own consent changes, however
/// many the batch holds (more than one statement's worth here).
pub async fn a_batch_keeps_the_consent_history_of_every_contact_it_creates(
    contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let a = ws("a");
    let j = job("a");
    store.create_import(&j).await.expect("create");
    let mut batch = commit(&j);
    batch.creates = (1..=200).map(simple).collect();
    let changes: usize = batch.creates.iter().map(|(_, c)| c.len()).sum();
    assert!(changes > 130, "the batch holds {changes} consent changes");
    let batch = Arc::new(batch);
    store
        .commit(&a, Arc::clone(&batch), None)
        .await
        .expect("commit");
    for (contact, expected) in &batch.creates {
        let history = contacts
            .consent_history(&a, &contact.messaging_id, &PageRequest::first(10))
            .await
            .expect("history");
        assert_eq!(
            &history.items,
            expected,
            "the history of {}",
            external(contact)
        );
    }
}

/// The first claim of an object version wins; claiming it again (an upload
/// delivered twice) names that first import; another version or another
/// workspace is a claim of its own.
pub async fn an_object_version_is_claimed_once(
    _contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let (first, second) = (ImportId::generate(), ImportId::generate());
    let object = "imports/claims/contacts list é.csv";
    let claim = |workspace: &'static str, version: &'static str, import: ImportId| async move {
        store
            .claim(&ws(workspace), object, version, &import)
            .await
            .expect("claim")
    };
    assert_eq!(claim("claims", "v1", first.clone()).await, first);
    assert_eq!(
        claim("claims", "v1", second.clone()).await,
        first,
        "claimed once"
    );
    assert_eq!(
        claim("claims", "v2", second.clone()).await,
        second,
        "a new version"
    );
    assert_eq!(
        claim("other", "v1", second.clone()).await,
        second,
        "another workspace"
    );
}

/// A lease changes hands only from the token the store holds: the first
/// taker of a free import wins, a stale holder loses, and the holder can
/// hand it on.
pub async fn a_lease_passes_only_from_its_holder(
    _contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let job = job("leases");
    assert!(
        !store.hand_over(&job, None).await.expect("hand over"),
        "no such import yet"
    );
    store.create_import(&job).await.expect("create");
    let now = crate::model::now();
    let mine = ImportJob {
        lease: Some(Lease::new(now + Duration::minutes(15))),
        ..job.clone()
    };
    let theirs = ImportJob {
        lease: Some(Lease::new(now + Duration::minutes(15))),
        ..job.clone()
    };
    assert!(store.hand_over(&mine, None).await.expect("take"));
    assert!(
        !store.hand_over(&theirs, None).await.expect("take again"),
        "already taken"
    );
    let token = |job: &ImportJob| job.lease.as_ref().map(|l| l.token.clone());
    let stale = Some("01JDQ3V6Y8M6F3XG2W5T9K0ABC");
    assert!(!store.hand_over(&theirs, stale).await.expect("stale"));
    assert!(
        store
            .hand_over(&theirs, token(&mine).as_deref())
            .await
            .expect("hand on")
    );
    let stored = store
        .import(&ws("leases"), &job.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(token(&stored), token(&theirs));
    assert!(
        !store
            .hand_over(&mine, token(&mine).as_deref())
            .await
            .expect("the old holder"),
        "the old holder lost it"
    );
}

/// A commit racing API inserts of the same External IDs: whoever loses a
/// contact gets `DuplicateExternalId` (a commit that wrote the rest of its
/// batch: `ExternalIdsTaken`, naming each lost ID); every External ID ends up held by
/// exactly one contact, its guard names that contact, and the usage count
/// is the number of contacts.
pub async fn external_ids_stay_unique_when_commits_race_inserts(
    contacts: &dyn ContactStore,
    store: &dyn ImportStore,
) {
    let a = ws("race");
    let j = job("race");
    store.create_import(&j).await.expect("create");
    let mut batch = commit(&j);
    batch.creates = (0..90).map(simple).collect();
    let rivals: Vec<NewRecord> = (0..90)
        .step_by(3)
        .map(|i| {
            let (mut contact, consent) = simple(i);
            contact.messaging_id = crate::model::MessagingId::generate();
            (contact, consent)
        })
        .collect();
    let inserts = futures::future::join_all(rivals.iter().map(|r| contacts.insert(&a, r, None)));
    let (committed, inserted) =
        tokio::join!(store.commit(&a, Arc::new(batch.clone()), None), inserts);
    for outcome in inserted
        .iter()
        .map(|r| r.as_ref().map(|_| ()))
        .chain([committed.as_ref().map(|_| ())])
    {
        assert!(
            matches!(
                outcome,
                Ok(()) | Err(Error::DuplicateExternalId { .. } | Error::ExternalIdsTaken(_))
            ),
            "{outcome:?}"
        );
    }
    if let Err(Error::ExternalIdsTaken(taken)) = &committed {
        for (external_id, holder) in taken {
            let rival = rivals
                .iter()
                .find(|(c, _)| external(c).as_ref() == external_id.as_str())
                .expect("only a rival takes an ID");
            assert_eq!(holder, &rival.0.messaging_id, "{external_id}");
        }
    }
    let mut stored = Vec::new();
    let mut page = PageRequest::first(500);
    loop {
        let found = contacts
            .list(&a, &crate::query::ContactQuery::default(), &page)
            .await
            .expect("list");
        stored.extend(found.items);
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let mut holders: HashMap<String, Vec<crate::model::MessagingId>> = HashMap::new();
    for contact in &stored {
        holders
            .entry(external(contact).to_string())
            .or_default()
            .push(contact.messaging_id.clone());
    }
    for (external_id, ids) in &holders {
        assert_eq!(ids.len(), 1, "{external_id} is held by {ids:?}");
        let holder = contacts
            .get_by_external_id(
                &a,
                &crate::model::ExternalId::parse(external_id).expect("id"),
            )
            .await
            .expect("get")
            .expect("held");
        assert_eq!(holder.messaging_id, ids[0]);
    }
    assert_eq!(
        contacts.count(&a).await.expect("count"),
        stored.len() as u64
    );
    assert!(stored.len() <= 90);
}
