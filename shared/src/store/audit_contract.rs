//! The store contract for the audit trail, run against every adapter
//! through [`contract_tests!`](crate::contract_tests): entries page newest
//! first, by contact and since a time, and leave out expired ones; the
//! contact use cases record each change with its actor and fields.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use super::ContactStore;
use super::audit::AuditStore;
use super::contract::{ACTOR, audited, edit_stored, simple, ws};
use crate::audit::{AuditEntry, AuditId, AuditQuery, Change, Operation};
use crate::model::{
    Channel, ConsentChoice, ConsentSource, ContactChanges, Email, ListId, MergeRequest,
    MessagingId, Name, NewContact, Patch, PhoneNumber, Reach, WorkspaceId, now,
};
use crate::query::{ContactQuery, PageRequest};
use crate::service;

/// The imports that created or changed a contact are kept with it
/// through inserts, updates and listings.
pub async fn a_contacts_import_marks_are_kept_with_it(store: &dyn ContactStore) {
    let w = ws("w1");
    let (mut contact, consent) = simple(1);
    contact.mark_import("01JDQ3V6Y8M6F3XG2W5T9K0ABC", contact.created_at);
    store
        .insert(&w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    let id = &contact.messaging_id;
    assert_eq!(store.get(&w, id).await.expect("get"), Some(contact.clone()));
    let next = edit_stored(store, &w, &contact, |c| {
        c.first_name = Name::parse("Anna").ok();
        c.mark_import("01JDQ3V6Y8M6F3XG2W5T9K0ABD", c.updated_at);
    })
    .await;
    let read = store.get(&w, id).await.expect("get").expect("the contact");
    assert_eq!(read.imports.len(), 2);
    assert_eq!(read, next);
    let listed = store
        .list(&w, &ContactQuery::default(), &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(listed.items, vec![next]);
}

/// Every entry `query` finds, a page of `limit` at a time, newest first.
async fn every_entry<S: AuditStore>(
    store: &S,
    w: &WorkspaceId,
    query: &AuditQuery,
    limit: usize,
) -> Vec<AuditEntry> {
    let mut page = PageRequest::first(limit);
    let mut found = Vec::new();
    loop {
        let read = store.audit(w, query, &page).await.expect("audit");
        assert!(read.items.len() <= limit, "a page holds at most its limit");
        found.extend(read.items);
        match read.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return found,
        }
    }
}

fn entry(operation: Operation, contact: Option<&MessagingId>, age: Duration) -> AuditEntry {
    let at = now() - age;
    AuditEntry {
        // An entry's ID is made when it is: minutes apart, these differ.
        id: AuditId::from_time(at),
        at,
        expires_at: at + Duration::days(400),
        actor: ACTOR.to_owned(),
        operation,
        contact: contact.cloned(),
        target: None,
        fields: vec!["first_name".to_owned()],
        counts: None,
    }
}

/// Entries page newest first and each once; `contact` keeps one contact's,
/// `since` those made at or after a time; another workspace sees none, and
/// an entry past its expiry is left out.
pub async fn audit_entries_page_newest_first_by_contact_and_since<S: AuditStore>(store: &S) {
    let (w, other) = (ws("w1"), ws("w2"));
    let (ann, bob) = (MessagingId::generate(), MessagingId::generate());
    let mut recorded = Vec::new();
    for i in 0..7 {
        let contact = [Some(&ann), Some(&bob), None][i % 3];
        let age = Duration::minutes(10 - i64::try_from(i).unwrap_or(0));
        let made = entry(Operation::ContactUpdated, contact, age);
        store.record(&w, &made).await.expect("record");
        recorded.push(made);
    }
    let mut expired = entry(Operation::ListCreated, None, Duration::days(2));
    expired.expires_at = now() - Duration::days(1);
    store.record(&w, &expired).await.expect("record");

    let newest_first: Vec<AuditEntry> = recorded.iter().rev().cloned().collect();
    let everything = every_entry(store, &w, &AuditQuery::default(), 2).await;
    assert_eq!(
        everything, newest_first,
        "all but the expired, newest first"
    );

    let of_ann = AuditQuery {
        contact: Some(ann.clone()),
        since: None,
    };
    let found = every_entry(store, &w, &of_ann, 2).await;
    let expected: Vec<AuditEntry> = newest_first
        .iter()
        .filter(|e| e.contact.as_ref() == Some(&ann))
        .cloned()
        .collect();
    assert_eq!(found, expected);
    assert_eq!(found.len(), 3);

    let recent = AuditQuery {
        contact: None,
        since: Some(now() - Duration::seconds(6 * 60 + 30)),
    };
    let found = every_entry(store, &w, &recent, 50).await;
    assert_eq!(found, newest_first[..3].to_vec(), "the last six minutes");

    let elsewhere = every_entry(store, &other, &AuditQuery::default(), 50).await;
    assert!(elsewhere.is_empty(), "another workspace sees none");
}

fn new_contact(first: &str, email: &str) -> NewContact {
    NewContact {
        external_id: None,
        first_name: Name::parse(first).ok(),
        last_name: None,
        reach: Reach::new(
            PhoneNumber::parse("+14155550123").ok(),
            Email::parse(email).ok(),
        )
        .expect("reachable"),
        country: None,
        timezone: None,
        consent: vec![(Channel::Email, ConsentChoice::Subscribed)],
        attributes: BTreeMap::new(),
        lists: BTreeSet::new(),
    }
}

/// Creating, editing, changing consent and lists, merging and deleting a
/// contact each record one entry naming the actor and the fields changed.
pub async fn every_contact_change_is_audited_with_its_actor_and_fields<
    S: ContactStore + AuditStore,
>(
    store: &S,
) {
    let w = ws("w1");
    let audit = audited(store, &w);
    let source = ConsentSource::api();
    let ann = service::create(
        store,
        &audit,
        new_contact("Ann", "ann@example.com"),
        &source,
        None,
    )
    .await
    .expect("create");
    let id = ann.messaging_id.clone();
    let renamed = ContactChanges {
        first_name: Patch::Set(Name::parse("Anna").expect("name")),
        ..ContactChanges::default()
    };
    service::edit(store, &audit, &id, renamed.clone(), None)
        .await
        .expect("edit");
    // Changing nothing records nothing.
    service::edit(store, &audit, &id, renamed, None)
        .await
        .expect("edit");
    let unsubscribe = [(Channel::Email, ConsentChoice::Unsubscribed)];
    service::record_consent(store, &audit, &id, &unsubscribe, &source, None)
        .await
        .expect("consent");
    service::add_to_list(store, &audit, &id, &ListId::generate())
        .await
        .expect("add to a list");
    let bob = service::create(
        store,
        &audit,
        new_contact("Bob", "bob@example.com"),
        &source,
        None,
    )
    .await
    .expect("create");
    let merge = MergeRequest {
        survivor: id.clone(),
        merge: vec![bob.messaging_id.clone()],
        fields: BTreeMap::new(),
        versions: BTreeMap::new(),
    };
    service::merge(store, &audit, &merge).await.expect("merge");
    service::delete(store, &audit, &id).await.expect("delete");

    let of_ann = AuditQuery {
        contact: Some(id.clone()),
        since: None,
    };
    let mut found = every_entry(store, &w, &of_ann, 50).await;
    found.reverse();
    let seen: Vec<(Operation, Vec<&str>)> = found
        .iter()
        .map(|e| {
            assert_eq!(e.actor, ACTOR);
            let fields = e.fields.iter().map(String::as_str).collect();
            (e.operation, fields)
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                Operation::ContactCreated,
                vec!["consent.email", "email", "first_name", "phone"]
            ),
            (Operation::ContactUpdated, vec!["first_name"]),
            (Operation::ConsentChanged, vec!["consent.email"]),
            (Operation::ContactUpdated, vec!["lists"]),
            // Bob's email subscription is newer than Ann's unsubscribe.
            (Operation::ContactMerged, vec!["consent.email"]),
            (Operation::ContactDeleted, vec![]),
        ]
    );
    assert_eq!(
        found[4].target.as_deref(),
        Some(bob.messaging_id.as_ref()),
        "a merge names the contacts merged into it"
    );
    let of_bob = AuditQuery {
        contact: Some(bob.messaging_id.clone()),
        since: None,
    };
    let bob_entries = every_entry(store, &w, &of_bob, 50).await;
    let away = &bob_entries[0];
    assert_eq!(away.operation, Operation::ContactMergedAway);
    assert_eq!(away.target.as_deref(), Some(id.as_ref()));

    // A change of something else is found in the workspace's entries.
    audit
        .record(Change::of(Operation::ColumnsSaved, "columns", &["columns"]))
        .await;
    let newest = store
        .audit(&w, &AuditQuery::default(), &PageRequest::first(1))
        .await
        .expect("audit");
    assert_eq!(newest.items[0].operation, Operation::ColumnsSaved);
    assert_eq!(newest.items[0].contact, None);
}
