//! The store contract: one suite, run against every adapter.
//!
//! An adapter's tests call [`contract_tests!`](crate::contract_tests) with a
//! function that opens a fresh, empty store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, TimeZone, Utc};

use crate::audit::{Audit, Retention};
use crate::error::Error;
use crate::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, AttributeValue,
    Channel, ConsentChoice, ConsentSource, ConsentStatus, Contact, ContactList, Country, Email,
    ExternalId, ListId, ListName, MessagingId, Name, NewContact, PhoneNumber, Reach, WorkspaceId,
};
use crate::query::{
    AttributeCondition, ContactFilter, ContactQuery, Cursor, PageRequest, SearchText, TextField,
};
use crate::store::audit::AuditStore;
use crate::store::{ContactStore, ListStore, NewRecord, SchemaStore};

pub use super::audit_contract::{
    a_contacts_import_marks_are_kept_with_it, audit_entries_page_newest_first_by_contact_and_since,
    every_contact_change_is_audited_with_its_actor_and_fields,
};
pub use super::duplicates_contract::{
    a_dismissed_or_merged_group_stops_showing, an_edit_makes_and_ends_a_group,
    contacts_sharing_an_email_or_a_phone_are_grouped,
    similar_names_a_scan_found_show_until_the_next_scan_replaces_them,
};
pub use super::merge_contract::{
    a_merge_keeps_one_contact_with_the_chosen_fields_and_lists,
    a_merge_moves_history_and_decides_each_channel,
    a_merge_of_a_changed_contact_is_refused_and_writes_nothing,
    a_merge_racing_an_edit_loses_neither, two_merges_racing_lose_nothing,
};
pub use super::suppressions_contract::{
    a_hash_is_suppressed_while_any_suppression_holds_it,
    an_erased_contact_is_gone_and_its_identifiers_suppressed,
    an_erasure_of_a_changed_contact_writes_nothing, the_secret_is_made_once_per_workspace,
};

/// Declares one `#[tokio::test]` per contract check, each on a fresh store
/// from `$open` (an async fn whose result derefs to a [`ContactStore`]).
#[macro_export]
macro_rules! contract_tests {
    ($open:path) => {
        $crate::contract_tests!(@each $open;
            insert_then_get_round_trips,
            duplicate_external_id_is_refused_naming_the_holder,
            workspaces_never_see_each_other,
            update_is_conditional_on_the_version,
            update_keeps_external_ids_unique,
            contacts_without_an_external_id_live_side_by_side,
            update_of_a_missing_contact_is_not_found,
            delete_removes_the_contact_its_history_and_its_count,
            usage_limit_is_enforced_on_insert,
            batch_insert_reports_each_record,
            listing_is_newest_first_and_pages_cover_everything_once,
            paging_is_stable_while_contacts_are_added,
            text_filters_match_anywhere_ignoring_case,
            text_filters_take_search_text_literally,
            word_search_matches_a_plain_reference,
            exact_filters_and_combinations,
            exact_email_and_phone_lookups,
            consent_history_is_kept_newest_first,
            a_foreign_cursor_is_refused,
            custom_values_and_lists_round_trip,
            attribute_filters_compare_by_type,
            list_members_page_newest_first_with_filters,
            attribute_definitions_are_unique_per_workspace,
            lists_have_unique_names_and_counted_members,
            columns_are_saved_per_workspace,
            a_contact_moves_between_the_most_lists_at_once,
            a_merge_keeps_one_contact_with_the_chosen_fields_and_lists,
            a_merge_moves_history_and_decides_each_channel,
            a_merge_of_a_changed_contact_is_refused_and_writes_nothing,
            two_merges_racing_lose_nothing,
            a_merge_racing_an_edit_loses_neither,
            contacts_sharing_an_email_or_a_phone_are_grouped,
            similar_names_a_scan_found_show_until_the_next_scan_replaces_them,
            an_edit_makes_and_ends_a_group,
            a_dismissed_or_merged_group_stops_showing,
            the_secret_is_made_once_per_workspace,
            an_erased_contact_is_gone_and_its_identifiers_suppressed,
            an_erasure_of_a_changed_contact_writes_nothing,
            a_hash_is_suppressed_while_any_suppression_holds_it,
            audit_entries_page_newest_first_by_contact_and_since,
            every_contact_change_is_audited_with_its_actor_and_fields,
            a_contacts_import_marks_are_kept_with_it
        );
    };
    (@each $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $open().await;
                $crate::store::contract::$check(&*store).await;
            }
        )*
    };
}

/// The actor contract tests make their changes as.
pub(crate) const ACTOR: &str = "token:contract";

/// Records what a contract test changes in `workspace`, into `store`.
pub(crate) fn audited<'a, S: AuditStore>(store: &'a S, workspace: &'a WorkspaceId) -> Audit<'a> {
    Audit::new(store, Retention::default(), workspace, ACTOR)
}

pub(crate) fn ws(name: &str) -> WorkspaceId {
    WorkspaceId::parse(name).expect("test workspace")
}

/// The External ID of a contact that has one.
pub(crate) fn external(contact: &Contact) -> &ExternalId {
    contact.external_id.as_ref().expect("an External ID")
}

/// A contact numbered `i`, created `i` milliseconds after a fixed moment.
fn record(i: usize, first: &str, last: &str, email: &str) -> NewRecord {
    let new = NewContact {
        external_id: ExternalId::parse(&format!("ext-{i}")).ok(),
        first_name: Name::parse(first).ok(),
        last_name: Name::parse(last).ok(),
        reach: Reach::new(
            PhoneNumber::parse(&format!("+1234567{:04}", i % 10_000)).ok(),
            Email::parse(email).ok(),
        )
        .expect("reachable"),
        country: Country::parse(if i.is_multiple_of(2) { "DE" } else { "US" }).ok(),
        timezone: None,
        consent: match i % 3 {
            0 => vec![(Channel::Sms, ConsentChoice::Subscribed)],
            1 => vec![(Channel::Sms, ConsentChoice::Unsubscribed)],
            _ => vec![],
        },
        attributes: BTreeMap::new(),
        lists: BTreeSet::new(),
    };
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + Duration::milliseconds(i64::try_from(i).unwrap_or(0));
    let (mut contact, mut changes) =
        Contact::create(new, &ConsentSource::api(), at).expect("a valid contact");
    contact.created_at = at;
    contact.updated_at = at;
    changes.iter_mut().for_each(|c| c.at = at);
    (contact, changes)
}

/// Ann Lee`i`, ann`i`@example.com, a phone and a country.
pub fn simple(i: usize) -> NewRecord {
    record(i, "Ann", &format!("Lee{i}"), &format!("ann{i}@example.com"))
}

async fn insert_all(store: &dyn ContactStore, workspace: &WorkspaceId, records: &[NewRecord]) {
    for r in records {
        store.insert(workspace, r, None).await.expect("insert");
    }
}

async fn all_ids(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    limit: usize,
) -> Vec<MessagingId> {
    let mut ids = Vec::new();
    let mut page = PageRequest::first(limit);
    for _ in 0..10_000 {
        let found = store.list(workspace, query, &page).await.expect("list");
        assert!(
            found.items.len() <= limit,
            "a page holds at most `limit` items"
        );
        ids.extend(found.items.into_iter().map(|c| c.messaging_id));
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return ids,
        }
    }
    panic!("the listing never ended");
}

fn ids_of(records: &[&NewRecord]) -> Vec<MessagingId> {
    records
        .iter()
        .map(|(c, _)| c.messaging_id.clone())
        .collect()
}

fn contains(field: TextField, text: &str) -> ContactQuery {
    ContactQuery {
        filters: vec![ContactFilter::Contains(
            field,
            SearchText::parse(text).expect("text"),
        )],
    }
}

/// What was inserted is read back equal, by Messaging ID and by External ID.
pub async fn insert_then_get_round_trips(store: &dyn ContactStore) {
    let w = ws("w1");
    let r = record(7, "Zoë", "O'Brien", "zoe@example.com");
    store.insert(&w, &r, None).await.expect("insert");
    let got = store.get(&w, &r.0.messaging_id).await.expect("get");
    assert_eq!(got.as_ref(), Some(&r.0));
    let by_external = store
        .get_by_external_id(&w, external(&r.0))
        .await
        .expect("get");
    assert_eq!(by_external.as_ref(), Some(&r.0));
    assert_eq!(store.count(&w).await.expect("count"), 1);
    let missing = MessagingId::generate();
    assert_eq!(store.get(&w, &missing).await.expect("get"), None);
    let other = simple(8);
    store.insert(&w, &other, None).await.expect("insert");
    let mut many = store
        .get_many(
            &w,
            &[
                missing,
                other.0.messaging_id.clone(),
                r.0.messaging_id.clone(),
            ],
        )
        .await
        .expect("get many");
    many.sort_by_key(|c| c.external_id.clone());
    assert_eq!(many, [r.0.clone(), other.0.clone()]);
    assert!(
        store
            .get_many(&ws("w2"), std::slice::from_ref(&r.0.messaging_id))
            .await
            .expect("get many")
            .is_empty()
    );
}

/// A second contact with a taken External ID is refused; the first is untouched.
pub async fn duplicate_external_id_is_refused_naming_the_holder(store: &dyn ContactStore) {
    let w = ws("w1");
    let first = simple(1);
    store.insert(&w, &first, None).await.expect("insert");
    let mut second = simple(2);
    second.0.external_id = first.0.external_id.clone();
    match store.insert(&w, &second, None).await {
        Err(Error::DuplicateExternalId { holder, .. }) => assert_eq!(holder, first.0.messaging_id),
        other => panic!("expected DuplicateExternalId, got {other:?}"),
    }
    assert_eq!(
        store.get(&w, &second.0.messaging_id).await.expect("get"),
        None
    );
    assert_eq!(
        store.get(&w, &first.0.messaging_id).await.expect("get"),
        Some(first.0)
    );
    assert_eq!(store.count(&w).await.expect("count"), 1);
}

/// Nothing of one workspace is visible or changeable from another.
pub async fn workspaces_never_see_each_other(store: &dyn ContactStore) {
    let (a, b) = (ws("alpha"), ws("beta"));
    let mine = simple(1);
    store.insert(&a, &mine, None).await.expect("insert");
    let mut theirs = simple(2);
    theirs.0.external_id = mine.0.external_id.clone();
    store
        .insert(&b, &theirs, None)
        .await
        .expect("same External ID in another workspace");

    let id = &mine.0.messaging_id;
    assert_eq!(store.get(&b, id).await.expect("get"), None);
    assert_eq!(
        store
            .get_by_external_id(&b, external(&mine.0))
            .await
            .expect("get")
            .map(|c| c.messaging_id),
        Some(theirs.0.messaging_id.clone())
    );
    assert_eq!(
        all_ids(store, &b, &ContactQuery::default(), 10).await,
        [theirs.0.messaging_id.clone()]
    );
    assert_eq!(
        all_ids(store, &b, &contains(TextField::Email, "ann1@"), 10).await,
        Vec::<MessagingId>::new()
    );
    assert_eq!(store.count(&b).await.expect("count"), 1);
    assert!(!store.delete(&b, id).await.expect("delete"));
    let mut edited = mine.0.clone();
    edited.version += 1;
    assert!(matches!(
        store.update(&b, &edited, mine.0.version, &[]).await,
        Err(Error::ContactNotFound(_))
    ));
    let history = store
        .consent_history(&b, id, &PageRequest::first(10))
        .await
        .expect("history");
    assert!(history.items.is_empty());
    assert_eq!(store.get(&a, id).await.expect("get"), Some(mine.0));
}

/// A write conditional on a stale version fails and changes nothing.
pub async fn update_is_conditional_on_the_version(store: &dyn ContactStore) {
    let w = ws("w1");
    let (original, _) = simple(1);
    store
        .insert(&w, &(original.clone(), vec![]), None)
        .await
        .expect("insert");
    let mut first_edit = original.clone();
    first_edit.first_name = Name::parse("Anna").ok();
    first_edit.version = 2;
    store
        .update(&w, &first_edit, 1, &[])
        .await
        .expect("first edit");

    let mut stale_edit = original.clone();
    stale_edit.first_name = Name::parse("Hannah").ok();
    stale_edit.version = 2;
    assert!(matches!(
        store.update(&w, &stale_edit, 1, &[]).await,
        Err(Error::PreconditionFailed { .. })
    ));
    assert_eq!(
        store.get(&w, &original.messaging_id).await.expect("get"),
        Some(first_edit)
    );
}

/// An edit may not take an External ID another contact holds.
pub async fn update_keeps_external_ids_unique(store: &dyn ContactStore) {
    let w = ws("w1");
    let (a, b) = (simple(1), simple(2));
    insert_all(store, &w, &[a.clone(), b.clone()]).await;
    let mut edit = b.0.clone();
    edit.external_id = a.0.external_id.clone();
    edit.version = 2;
    match store.update(&w, &edit, 1, &[]).await {
        Err(Error::DuplicateExternalId { holder, .. }) => assert_eq!(holder, a.0.messaging_id),
        other => panic!("expected DuplicateExternalId, got {other:?}"),
    }
    assert_eq!(
        store.get(&w, &b.0.messaging_id).await.expect("get"),
        Some(b.0.clone())
    );

    let mut renamed = b.0.clone();
    renamed.external_id = ExternalId::parse("fresh").ok();
    renamed.version = 2;
    store.update(&w, &renamed, 1, &[]).await.expect("rename");
    let freed = store
        .get_by_external_id(&w, external(&b.0))
        .await
        .expect("get");
    assert_eq!(freed, None, "the old External ID is free again");
    assert_eq!(
        store
            .get_by_external_id(&w, external(&renamed))
            .await
            .expect("get"),
        Some(renamed)
    );
}

/// Contacts an import created without an External ID: any number of them,
/// listed, counted, batch-inserted, given an External ID later (then unique
/// like any other), and deleted.
pub async fn contacts_without_an_external_id_live_side_by_side(store: &dyn ContactStore) {
    let w = ws("w1");
    let unnamed = |i| {
        let (mut contact, consent) = simple(i);
        contact.external_id = None;
        (contact, consent)
    };
    let (a, b, c, held) = (unnamed(1), unnamed(2), unnamed(3), simple(4));
    insert_all(store, &w, &[a.clone(), held.clone()]).await;
    let outcomes = store
        .insert_batch(&w, &[b.clone(), c.clone()], None)
        .await
        .expect("batch");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(store.count(&w).await.expect("count"), 4);
    assert_eq!(
        store.get(&w, &a.0.messaging_id).await.expect("get"),
        Some(a.0.clone())
    );
    let listed = store
        .list(&w, &ContactQuery::default(), &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 4);

    let mut taking = b.0.clone();
    taking.external_id = held.0.external_id.clone();
    taking.version = 2;
    assert!(matches!(
        store.update(&w, &taking, 1, &[]).await,
        Err(Error::DuplicateExternalId { holder, .. }) if holder == held.0.messaging_id
    ));
    let mut named = b.0.clone();
    named.external_id = ExternalId::parse("named-later").ok();
    named.version = 2;
    store.update(&w, &named, 1, &[]).await.expect("set one");
    assert_eq!(
        store
            .get_by_external_id(&w, external(&named))
            .await
            .expect("get"),
        Some(named.clone())
    );
    let mut rival = c.0.clone();
    rival.external_id = named.external_id.clone();
    rival.version = 2;
    assert!(matches!(
        store.update(&w, &rival, 1, &[]).await,
        Err(Error::DuplicateExternalId { holder, .. }) if holder == named.messaging_id
    ));

    assert!(store.delete(&w, &a.0.messaging_id).await.expect("delete"));
    assert!(store.delete(&w, &named.messaging_id).await.expect("delete"));
    assert_eq!(store.count(&w).await.expect("count"), 2);
    assert_eq!(
        store
            .get_by_external_id(&w, external(&named))
            .await
            .expect("get"),
        None,
        "a deleted contact's External ID is free"
    );
}

/// Updating a contact that does not exist reports it.
pub async fn update_of_a_missing_contact_is_not_found(store: &dyn ContactStore) {
    let (ghost, _) = simple(1);
    assert!(matches!(
        store.update(&ws("w1"), &ghost, 1, &[]).await,
        Err(Error::ContactNotFound(_))
    ));
    assert_eq!(store.count(&ws("w1")).await.expect("count"), 0);
}

/// Delete removes the contact, its consent history and its usage count.
pub async fn delete_removes_the_contact_its_history_and_its_count(store: &dyn ContactStore) {
    let w = ws("w1");
    let (kept, gone) = (simple(1), simple(3));
    insert_all(store, &w, &[kept.clone(), gone.clone()]).await;
    let id = &gone.0.messaging_id;
    assert!(store.delete(&w, id).await.expect("delete"));
    assert!(!store.delete(&w, id).await.expect("second delete"));
    assert_eq!(store.get(&w, id).await.expect("get"), None);
    assert_eq!(
        store
            .get_by_external_id(&w, external(&gone.0))
            .await
            .expect("get"),
        None
    );
    let history = store
        .consent_history(&w, id, &PageRequest::first(10))
        .await
        .expect("history");
    assert!(history.items.is_empty());
    assert_eq!(store.count(&w).await.expect("count"), 1);
    assert_eq!(
        all_ids(store, &w, &ContactQuery::default(), 10).await,
        ids_of(&[&kept])
    );
    store
        .insert(&w, &(gone.0.clone(), vec![]), None)
        .await
        .expect("its External ID is free");
}

/// No insert takes a workspace past its limit.
pub async fn usage_limit_is_enforced_on_insert(store: &dyn ContactStore) {
    let w = ws("w1");
    store.insert(&w, &simple(1), Some(2)).await.expect("1 of 2");
    store.insert(&w, &simple(2), Some(2)).await.expect("2 of 2");
    assert!(matches!(
        store.insert(&w, &simple(3), Some(2)).await,
        Err(Error::UsageLimitReached { limit: 2 })
    ));
    assert_eq!(store.count(&w).await.expect("count"), 2);
    store
        .insert(&ws("w2"), &simple(3), Some(2))
        .await
        .expect("another workspace has its own count");
}

/// A batch reports each record's outcome and stores exactly the good ones.
pub async fn batch_insert_reports_each_record(store: &dyn ContactStore) {
    let w = ws("w1");
    store.insert(&w, &simple(0), None).await.expect("insert");
    let mut twin = simple(2);
    twin.0.external_id = simple(1).0.external_id;
    let batch = [simple(1), twin, simple(0), simple(3), simple(4), simple(5)];
    let outcomes = store
        .insert_batch(&w, &batch, Some(4))
        .await
        .expect("batch");
    let summary: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(()) => "ok",
            Err(Error::DuplicateExternalId { .. }) => "duplicate",
            Err(Error::UsageLimitReached { .. }) => "limit",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(
        summary,
        ["ok", "duplicate", "duplicate", "ok", "ok", "limit"]
    );
    assert_eq!(store.count(&w).await.expect("count"), 4);
    let big: Vec<NewRecord> = (100..400).map(simple).collect();
    let outcomes = store.insert_batch(&w, &big, None).await.expect("big batch");
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(store.count(&w).await.expect("count"), 304);
    assert_eq!(
        store.get(&w, &big[299].0.messaging_id).await.expect("get"),
        Some(big[299].0.clone())
    );
}

/// Listing runs newest first, and following cursors visits every contact once.
pub async fn listing_is_newest_first_and_pages_cover_everything_once(store: &dyn ContactStore) {
    let w = ws("w1");
    let records: Vec<NewRecord> = (0..23).map(simple).collect();
    insert_all(store, &w, &records).await;
    let newest_first: Vec<&NewRecord> = records.iter().rev().collect();
    for limit in [1, 5, 23, 50] {
        assert_eq!(
            all_ids(store, &w, &ContactQuery::default(), limit).await,
            ids_of(&newest_first),
            "limit {limit}"
        );
    }
    let first = store
        .list(&w, &ContactQuery::default(), &PageRequest::first(23))
        .await
        .expect("list");
    assert_eq!(first.items[0], records[22].0);
    // A page bounds its work: it may stop short with a cursor (DynamoDB, when
    // one shard holds more than its share), but a page that holds
    // everything is the last.
    if first.items.len() == records.len() {
        assert_eq!(first.next_cursor, None, "an exact last page has no cursor");
    }
}

/// Contacts added while a client pages through never make it skip or repeat one.
pub async fn paging_is_stable_while_contacts_are_added(store: &dyn ContactStore) {
    let w = ws("w1");
    let records: Vec<NewRecord> = (0..12).map(simple).collect();
    insert_all(store, &w, &records).await;
    let query = ContactQuery::default();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(5);
    let mut added = 100;
    loop {
        let found = store.list(&w, &query, &page).await.expect("list");
        seen.extend(found.items.into_iter().map(|c| c.messaging_id));
        store
            .insert(&w, &simple(added), None)
            .await
            .expect("insert meanwhile");
        added += 1;
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<&NewRecord> = records.iter().rev().collect();
    assert_eq!(seen, ids_of(&expected));
}

/// Text filters find the text anywhere in the field, ignoring case, for short
/// and long search text and for non-ASCII letters.
pub async fn text_filters_match_anywhere_ignoring_case(store: &dyn ContactStore) {
    let w = ws("w1");
    let people = [
        record(1, "Alice", "Smith", "alice@alpha.example"),
        record(2, "Albert", "Großmann", "ALBERT@Beta.example"),
        record(3, "Bob", "O'Brien", "bob@alpha.example"),
        record(4, "Éloïse", "Ålberg", "eloise@gamma.example"),
        record(5, "Carol", "Smithers", "carol@beta.example"),
    ];
    insert_all(store, &w, &people).await;
    let p = |i: usize| &people[i - 1];
    let cases: Vec<(TextField, &str, Vec<&NewRecord>)> = vec![
        (TextField::FirstName, "al", vec![p(2), p(1)]),
        (TextField::FirstName, "AL", vec![p(2), p(1)]),
        (TextField::FirstName, "lic", vec![p(1)]),
        (TextField::LastName, "smith", vec![p(5), p(1)]),
        (TextField::LastName, "ß", vec![p(2)]),
        (TextField::LastName, "GROß", vec![p(2)]),
        (TextField::LastName, "o'b", vec![p(3)]),
        (TextField::LastName, "ålb", vec![p(4)]),
        (TextField::FirstName, "éLO", vec![p(4)]),
        (TextField::FullName, "ice Smi", vec![p(1)]),
        (TextField::FullName, "b O", vec![p(3)]),
        (TextField::Email, "alpha", vec![p(3), p(1)]),
        (TextField::Email, "beta.EX", vec![p(5), p(2)]),
        (
            TextField::Phone,
            "+1234567000",
            vec![p(5), p(4), p(3), p(2), p(1)],
        ),
        (TextField::Phone, "0003", vec![p(3)]),
        (TextField::Phone, "05", vec![p(5)]),
        (TextField::Email, "nobody", vec![]),
    ];
    for (field, text, expected) in cases {
        for limit in [1, 50] {
            assert_eq!(
                all_ids(store, &w, &contains(field, text), limit).await,
                ids_of(&expected),
                "{} contains {text:?} (limit {limit})",
                field.name()
            );
        }
    }
}

/// Phones of several countries, with the digits of their national format
/// as people dial them at home.
const SEARCH_PHONES: [(&str, &str); 6] = [
    ("+4930901820", "030901820"),
    ("+12025550143", "2025550143"),
    ("+447911123456", "07911123456"),
    ("+819012345678", "09012345678"),
    ("+5511961234567", "11961234567"),
    ("+2348031234567", "08031234567"),
];

const SEARCH_FIRST: [&str; 12] = [
    "Jürgen",
    "Ann",
    "Anne-Marie",
    "Zoë",
    "Øyvind",
    "Şükrü",
    "王小明",
    "Мария",
    "محمد",
    "François",
    "Ólafur",
    "Đorđe",
];

const SEARCH_LAST: [&str; 10] = [
    "García-López",
    "Lee",
    "O'Brien",
    "Ng",
    "Иванова",
    "Müller",
    "Van der Berg",
    "Lee-Moss",
    "Smith",
    "Ångström",
];

/// A contact for the word-search check, created `i` ms after a fixed moment.
fn searchable(i: usize, tier: &AttributeId) -> NewRecord {
    let first = SEARCH_FIRST[i % SEARCH_FIRST.len()];
    let last = SEARCH_LAST[(i * 7 + 3) % SEARCH_LAST.len()];
    let email = match i % 4 {
        0 => format!("{}.{}@example.com", ascii_of(first), i),
        1 => format!("x_{i}+news@Mail.Example.co.uk"),
        2 => format!("{}-{i}@gmail.com", ascii_of(last)),
        _ => format!("USER{i}@Beispiel.DE"),
    };
    let (mut contact, changes) = record(i, first, last, &email);
    contact.reach = Reach::new(
        (!i.is_multiple_of(5))
            .then(|| PhoneNumber::parse(SEARCH_PHONES[i % SEARCH_PHONES.len()].0).ok())
            .flatten(),
        Email::parse(&email).ok(),
    )
    .expect("reachable");
    if i.is_multiple_of(3) {
        let tier_text = ["Gold Plus", "silver", "Bronze-Élite"][i % 9 / 3];
        contact
            .attributes
            .insert(tier.clone(), AttributeValue::Text(tier_text.to_owned()));
    }
    (contact, changes)
}

/// The ASCII letters of a name, lower-cased (for email addresses).
fn ascii_of(name: &str) -> String {
    let letters: String = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase();
    if letters.is_empty() {
        "u".into()
    } else {
        letters
    }
}

/// Word search written out plainly, to check every store against.
pub mod plain {
    use unicode_normalization::UnicodeNormalization;

    use super::SEARCH_PHONES;
    use crate::model::{AttributeId, AttributeValue, Contact};

    pub fn fold(text: &str) -> String {
        let mut out = String::new();
        for c in text.to_lowercase().nfd() {
            if !unicode_normalization::char::is_combining_mark(c) {
                out.push(c);
            }
        }
        out
    }

    /// Words of a name or text: whitespace-separated, plus the runs of
    /// letters and digits inside each.
    fn text_words(text: &str) -> Vec<String> {
        let mut words = Vec::new();
        for token in fold(text).split_whitespace() {
            words.push(token.to_string());
            let mut run = String::new();
            for c in token.chars() {
                if c.is_alphanumeric() {
                    run.push(c);
                } else if !run.is_empty() {
                    words.push(std::mem::take(&mut run));
                }
            }
            if !run.is_empty() {
                words.push(run);
            }
        }
        words
    }

    fn email_words(email: &str) -> Vec<String> {
        let address = fold(email);
        let at = address.rfind('@').expect("an address has @");
        let (local, domain) = (&address[..at], &address[at + 1..]);
        let mut words = vec![address.clone(), domain.to_string()];
        for piece in local.split(['.', '_', '-', '+']) {
            words.push(piece.to_string());
        }
        for label in domain.split('.') {
            words.push(label.to_string());
        }
        words
    }

    fn starts_one(words: &[String], prefix: &str) -> bool {
        words.iter().any(|w| w.starts_with(prefix))
    }

    /// Whether `contact` matches a search of `field` (`first_name`, …, or
    /// anything else for the text attribute `attribute`) for `query`.
    pub fn matches(contact: &Contact, field: &str, attribute: &AttributeId, query: &str) -> bool {
        let name = |n: &Option<crate::model::Name>| {
            n.as_ref()
                .map(|n| text_words(n.as_ref()))
                .unwrap_or_default()
        };
        if field == "phone" {
            let digits: String = query.chars().filter(char::is_ascii_digit).collect();
            let Some(phone) = contact.reach.phone() else {
                return false;
            };
            let e164 = &phone.as_ref()[1..];
            // Phones outside the table are searched by E.164 start and end.
            let national = SEARCH_PHONES
                .iter()
                .find(|(number, _)| *number == phone.as_ref())
                .map(|(_, national)| *national);
            let national_match = national.is_some_and(|national| {
                national.starts_with(&digits)
                    || national.trim_start_matches('0').starts_with(&digits)
            });
            return e164.starts_with(&digits) || national_match || e164.ends_with(&digits);
        }
        let words: Vec<String> = match field {
            "first_name" => name(&contact.first_name),
            "last_name" => name(&contact.last_name),
            "full_name" => [name(&contact.first_name), name(&contact.last_name)].concat(),
            "email" => contact
                .reach
                .email()
                .map(|e| email_words(e.as_ref()))
                .unwrap_or_default(),
            _ => match contact.attributes.get(attribute) {
                Some(AttributeValue::Text(text)) => text_words(text),
                _ => Vec::new(),
            },
        };
        fold(query)
            .split_whitespace()
            .all(|q| starts_one(&words, q))
    }
}

/// Word-prefix search on a generated workspace (names in many scripts,
/// emails, phones of several countries, a text attribute) finds exactly
/// what a plain reference finds, newest first, in one page and (every
/// fourth query) through pages of three.
pub async fn word_search_matches_a_plain_reference(store: &dyn ContactStore) {
    use crate::search::{Target, WordSearch};
    let w = ws("w1");
    let tier = AttributeId::generate();
    let records: Vec<NewRecord> = (0..40).map(|i| searchable(i, &tier)).collect();
    insert_all(store, &w, &records).await;
    let mut queries: Vec<(&str, String)> = [
        ("first_name", "jur"),
        ("first_name", "JÜRGEN"),
        ("first_name", "anne-m"),
        ("first_name", "marie"),
        ("first_name", "zoe"),
        ("first_name", "ø"),
        ("first_name", "sukru"),
        ("first_name", "王"),
        ("first_name", "王小明"),
        ("first_name", "мар"),
        ("first_name", "مح"),
        ("first_name", "a"),
        ("first_name", "francois"),
        ("first_name", "olaf"),
        ("first_name", "đor"),
        ("last_name", "gar"),
        ("last_name", "lopez"),
        ("last_name", "garcia-l"),
        ("last_name", "o'b"),
        ("last_name", "brien"),
        ("last_name", "ng"),
        ("last_name", "ива"),
        ("last_name", "mul"),
        ("last_name", "van der"),
        ("last_name", "der berg"),
        ("last_name", "lee"),
        ("last_name", "moss"),
        ("last_name", "angs"),
        ("last_name", "ee"),
        ("full_name", "ann le"),
        ("full_name", "ann lee"),
        ("full_name", "le ann"),
        ("full_name", "a l"),
        ("full_name", "jurgen garcia"),
        ("full_name", "marie smi"),
        ("full_name", "zz"),
        ("email", "example"),
        ("email", "example.com"),
        ("email", "co"),
        ("email", "uk"),
        ("email", "news"),
        ("email", "x"),
        ("email", "gmail"),
        ("email", "mail.example"),
        ("email", "user"),
        ("email", "beispiel.de"),
        ("email", "smith-"),
        ("email", "jurgen.0@ex"),
        ("email", "@"),
        ("phone", "+49 30"),
        ("phone", "030"),
        ("phone", "3090"),
        ("phone", "0143"),
        ("phone", "(202) 555"),
        ("phone", "07911"),
        ("phone", "7911"),
        ("phone", "090"),
        ("phone", "1"),
        ("phone", "4567"),
        ("phone", "234803"),
        ("phone", "55 11 9"),
        ("phone", "99999"),
        ("attr", "gold"),
        ("attr", "pl"),
        ("attr", "elite"),
        ("attr", "bronze-e"),
        ("attr", "s"),
    ]
    .iter()
    .map(|(f, q)| (*f, (*q).to_owned()))
    .collect();
    // Every start (1–4 characters) of every word of a few contacts.
    for (contact, _) in records.iter().step_by(7) {
        for word in [&contact.first_name, &contact.last_name]
            .into_iter()
            .flatten()
            .flat_map(|n| {
                plain::fold(n.as_ref())
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        {
            for n in 1..=4 {
                queries.push(("full_name", word.chars().take(n).collect()));
            }
        }
    }
    for (i, (field, text)) in queries.iter().enumerate() {
        let target = match *field {
            "attr" => Target::Attribute(tier.clone()),
            name => Target::Field(
                TextField::ALL
                    .into_iter()
                    .find(|f| f.name() == name)
                    .expect("a text field"),
            ),
        };
        let search = WordSearch::parse(target, text).expect("search text");
        let query = ContactQuery {
            filters: vec![ContactFilter::Words(search)],
        };
        let expected: Vec<MessagingId> = records
            .iter()
            .rev()
            .filter(|(c, _)| plain::matches(c, field, &tier, text))
            .map(|(c, _)| c.messaging_id.clone())
            .collect();
        // Every query in one page; every fourth also through pages of 3.
        let limits: &[usize] = if i % 4 == 0 { &[3, 50] } else { &[50] };
        for &limit in limits {
            assert_eq!(
                all_ids(store, &w, &query, limit).await,
                expected,
                "{field} {text:?} (limit {limit})"
            );
        }
    }
}

/// Search text is text, not a pattern or query syntax.
pub async fn text_filters_take_search_text_literally(store: &dyn ContactStore) {
    let w = ws("w1");
    let people = [
        record(1, "100%", "Real", "percent@example.com"),
        record(2, "1000", "Real", "plain@example.com"),
        record(3, "a_b", "Quote\"d", "under_score@example.com"),
        record(4, "axb", "Quoted", "under-score@example.com"),
    ];
    insert_all(store, &w, &people).await;
    let cases: Vec<(TextField, &str, Vec<&NewRecord>)> = vec![
        (TextField::FirstName, "0%", vec![&people[0]]),
        (TextField::FirstName, "%", vec![&people[0]]),
        (TextField::FirstName, "a_b", vec![&people[2]]),
        (TextField::FirstName, "_", vec![&people[2]]),
        (TextField::Email, "r_s", vec![&people[2]]),
        (TextField::LastName, "e\"d", vec![&people[2]]),
        (TextField::LastName, "\"", vec![&people[2]]),
        (TextField::LastName, "Real OR Quoted", vec![]),
        (TextField::LastName, "Qu*", vec![]),
        (TextField::FirstName, "NEAR(a b)", vec![]),
    ];
    for (field, text, expected) in cases {
        assert_eq!(
            all_ids(store, &w, &contains(field, text), 50).await,
            ids_of(&expected),
            "{} contains {text:?}",
            field.name()
        );
    }
}

/// Country and consent filters are exact, and all filters must hold.
pub async fn exact_filters_and_combinations(store: &dyn ContactStore) {
    let w = ws("w1");
    let records: Vec<NewRecord> = (0..30).map(simple).collect();
    insert_all(store, &w, &records).await;
    let expect = |keep: &dyn Fn(&Contact) -> bool| -> Vec<MessagingId> {
        records
            .iter()
            .rev()
            .filter(|(c, _)| keep(c))
            .map(|(c, _)| c.messaging_id.clone())
            .collect()
    };
    let de = Country::parse("DE").expect("country");
    let queries: Vec<(ContactQuery, Vec<MessagingId>)> = vec![
        (
            ContactQuery {
                filters: vec![ContactFilter::Country(de.clone())],
            },
            expect(&|c| c.country.as_ref() == Some(&de)),
        ),
        (
            ContactQuery {
                filters: vec![ContactFilter::Consent(
                    Channel::Sms,
                    ConsentStatus::Unsubscribed,
                )],
            },
            expect(&|c| c.consent.sms == ConsentStatus::Unsubscribed),
        ),
        (
            ContactQuery {
                filters: vec![ContactFilter::Consent(
                    Channel::Email,
                    ConsentStatus::NotSubscribed,
                )],
            },
            expect(&|_| true),
        ),
        (
            ContactQuery {
                filters: vec![ContactFilter::Consent(
                    Channel::Whatsapp,
                    ConsentStatus::Subscribed,
                )],
            },
            vec![],
        ),
        (
            ContactQuery {
                filters: vec![
                    ContactFilter::Country(de.clone()),
                    ContactFilter::Consent(Channel::Sms, ConsentStatus::Subscribed),
                ],
            },
            expect(&|c| {
                c.country.as_ref() == Some(&de) && c.consent.sms == ConsentStatus::Subscribed
            }),
        ),
        (
            ContactQuery {
                filters: vec![
                    ContactFilter::Contains(
                        TextField::LastName,
                        SearchText::parse("lee1").expect("text"),
                    ),
                    ContactFilter::Country(Country::parse("US").expect("country")),
                ],
            },
            expect(&|c| {
                c.last_name
                    .as_ref()
                    .is_some_and(|n| n.as_ref().starts_with("Lee1"))
                    && c.country.as_ref().is_some_and(|c| c.as_ref() == "US")
            }),
        ),
        (
            ContactQuery {
                filters: vec![
                    ContactFilter::Contains(
                        TextField::Email,
                        SearchText::parse("ANN2").expect("text"),
                    ),
                    ContactFilter::Contains(
                        TextField::FirstName,
                        SearchText::parse("n").expect("text"),
                    ),
                    ContactFilter::Consent(Channel::Sms, ConsentStatus::NotSubscribed),
                ],
            },
            expect(&|c| {
                external(c).as_ref().starts_with("ext-2")
                    && c.consent.sms == ConsentStatus::NotSubscribed
            }),
        ),
    ];
    for (i, (query, expected)) in queries.iter().enumerate() {
        assert!(
            i < 4 || !expected.is_empty(),
            "query {i} should match something"
        );
        for limit in [1, 4, 50] {
            assert_eq!(
                &all_ids(store, &w, query, limit).await,
                expected,
                "query {i} (limit {limit})"
            );
        }
        let mut expected = expected.clone();
        expected.sort();
        assert_eq!(
            scanned_ids(store, &w, query).await,
            expected,
            "scan, query {i}"
        );
    }
    assert!(
        scanned_ids(store, &ws("empty"), &ContactQuery::default())
            .await
            .is_empty()
    );
}

/// Every contact a scan yields, sorted; each must come once.
async fn scanned_ids(
    store: &dyn ContactStore,
    workspace: &WorkspaceId,
    query: &ContactQuery,
) -> Vec<MessagingId> {
    let mut ids = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let found = store
            .scan(workspace, query, after.as_ref(), 7)
            .await
            .expect("scan");
        ids.extend(found.items.into_iter().map(|c| c.messaging_id));
        match found.next_cursor {
            Some(cursor) => after = Some(cursor),
            None => {
                let count = ids.len();
                ids.sort();
                ids.dedup();
                assert_eq!(ids.len(), count, "a scan yields each contact once");
                return ids;
            }
        }
    }
    panic!("the scan never ended");
}

/// `email[eq]` and `phone[eq]` find exactly the contacts with that address
/// or number (email ignoring case), alone or with other filters.
pub async fn exact_email_and_phone_lookups(store: &dyn ContactStore) {
    let w = ws("w1");
    let shared = record(1, "Ann", "One", "Shared@Example.com");
    let also = record(2, "Bob", "Two", "shared@example.com");
    let other = record(3, "Cy", "Three", "shared@example.com.au");
    let mut theirs = record(4, "Dee", "Four", "shared@example.com");
    theirs.0.external_id = ExternalId::parse("elsewhere").ok();
    insert_all(store, &w, &[shared.clone(), also.clone(), other.clone()]).await;
    store
        .insert(&ws("w2"), &theirs, None)
        .await
        .expect("insert");
    let email = |raw: &str| ContactFilter::EmailIs(Email::parse(raw).expect("email"));
    let phone = |raw: &str| ContactFilter::PhoneIs(PhoneNumber::parse(raw).expect("phone"));
    let cases: Vec<(Vec<ContactFilter>, Vec<&NewRecord>)> = vec![
        (vec![email("SHARED@example.COM")], vec![&also, &shared]),
        (vec![email("shared@example.com.au")], vec![&other]),
        (vec![email("nobody@example.com")], vec![]),
        (
            vec![
                email("shared@example.com"),
                ContactFilter::Country(Country::parse("US").expect("c")),
            ],
            vec![&shared],
        ),
        (vec![phone("+12345670002")], vec![&also]),
        (
            vec![
                phone("+12345670002"),
                ContactFilter::Contains(TextField::FirstName, SearchText::parse("an").expect("t")),
            ],
            vec![],
        ),
    ];
    for (filters, expected) in cases {
        let query = ContactQuery { filters };
        for limit in [1, 50] {
            assert_eq!(
                all_ids(store, &w, &query, limit).await,
                ids_of(&expected),
                "{query:?}"
            );
        }
    }
}

/// Consent changes are kept with the contact, newest first, paged.
pub async fn consent_history_is_kept_newest_first(store: &dyn ContactStore) {
    let w = ws("w1");
    let (contact, created) = simple(0);
    assert_eq!(created.len(), 1);
    store
        .insert(&w, &(contact.clone(), created.clone()), None)
        .await
        .expect("insert");
    let later = contact.created_at + Duration::seconds(5);
    let (edited, changes) = contact.with_consent(
        &[
            (Channel::Sms, ConsentChoice::Unsubscribed),
            (Channel::Email, ConsentChoice::Subscribed),
        ],
        &ConsentSource::api(),
        later,
    );
    assert_eq!(changes.len(), 2);
    store
        .update(&w, &edited, contact.version, &changes)
        .await
        .expect("update");

    let first = store
        .consent_history(&w, &contact.messaging_id, &PageRequest::first(2))
        .await
        .expect("history");
    assert_eq!(first.items, [changes[1].clone(), changes[0].clone()]);
    let cursor = first.next_cursor.expect("a third entry follows");
    let rest = store
        .consent_history(
            &w,
            &contact.messaging_id,
            &PageRequest {
                limit: 2,
                cursor: Some(cursor),
            },
        )
        .await
        .expect("history");
    assert_eq!(rest.items, created);
    assert_eq!(rest.next_cursor, None);
    let stored = store
        .get(&w, &contact.messaging_id)
        .await
        .expect("get")
        .expect("contact");
    assert_eq!(stored.consent.sms, ConsentStatus::Unsubscribed);
    assert_eq!(stored.consent.email, ConsentStatus::Subscribed);
}

/// A cursor the store did not hand out is a validation error, not a crash.
pub async fn a_foreign_cursor_is_refused(store: &dyn ContactStore) {
    let w = ws("w1");
    insert_all(store, &w, &[simple(1)]).await;
    for raw in ["", "garbage", "cm93OmFiYw", "%%%"] {
        let page = PageRequest {
            limit: 10,
            cursor: Some(Cursor(raw.to_owned())),
        };
        match store.list(&w, &ContactQuery::default(), &page).await {
            Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "cursor"),
            other => panic!("cursor {raw:?}: expected a validation error, got {other:?}"),
        }
    }
}

pub(crate) fn definition(name: &str, kind: AttributeType) -> AttributeDefinition {
    AttributeDefinition {
        id: AttributeId::generate(),
        name: AttributeName::parse(name).expect("name"),
        label: AttributeLabel::parse(name).expect("label"),
        kind,
    }
}

/// A list named `name`, created at a fixed moment.
pub fn new_list(name: &str) -> ContactList {
    ContactList {
        id: ListId::generate(),
        name: ListName::parse(name).expect("list name"),
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

pub(crate) fn value(kind: AttributeType, raw: &str) -> AttributeValue {
    AttributeValue::from_text(kind, raw).expect("value")
}

/// Rewrites a stored contact as its next version with `edit` applied.
pub(crate) async fn edit_stored(
    store: &dyn ContactStore,
    w: &WorkspaceId,
    contact: &Contact,
    edit: impl FnOnce(&mut Contact),
) -> Contact {
    let mut next = contact.clone();
    edit(&mut next);
    next.version = contact.version + 1;
    store
        .update(w, &next, contact.version, &[])
        .await
        .expect("update");
    next
}

/// Custom values of every type and list memberships are stored with the
/// contact, and edits add, change and remove them.
pub async fn custom_values_and_lists_round_trip(store: &dyn ContactStore) {
    let w = ws("w1");
    let (l1, l2, l3) = (ListId::generate(), ListId::generate(), ListId::generate());
    let (text, number, flag, date, at) = (
        AttributeId::generate(),
        AttributeId::generate(),
        AttributeId::generate(),
        AttributeId::generate(),
        AttributeId::generate(),
    );
    let (mut contact, consent) = simple(1);
    contact.attributes = BTreeMap::from([
        (text.clone(), value(AttributeType::Text, "Gold Ü")),
        (number.clone(), value(AttributeType::Number, "-12.5")),
        (flag.clone(), value(AttributeType::Boolean, "true")),
        (date.clone(), value(AttributeType::Date, "2026-02-28")),
        (
            at.clone(),
            value(AttributeType::Datetime, "2026-11-25T08:00:00.123456Z"),
        ),
    ]);
    contact.lists = BTreeSet::from([l1.clone(), l2.clone()]);
    store
        .insert(&w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    assert_eq!(
        store.get(&w, &contact.messaging_id).await.expect("get"),
        Some(contact.clone())
    );

    let edited = edit_stored(store, &w, &contact, |c| {
        c.attributes.remove(&flag);
        c.attributes
            .insert(number.clone(), value(AttributeType::Number, "7"));
        c.lists = BTreeSet::from([l2.clone(), l3.clone()]);
    })
    .await;
    assert_eq!(
        store.get(&w, &contact.messaging_id).await.expect("get"),
        Some(edited.clone())
    );
    let members = |list: &ListId| ContactQuery {
        filters: vec![ContactFilter::InList(list.clone())],
    };
    assert_eq!(
        all_ids(store, &w, &members(&l3), 10).await,
        [contact.messaging_id.clone()]
    );
    assert_eq!(
        all_ids(store, &w, &members(&l2), 10).await,
        [contact.messaging_id.clone()]
    );
    assert!(
        all_ids(store, &w, &members(&l1), 10).await.is_empty(),
        "removed from l1"
    );
    assert!(store.holds_attribute(&w, &text).await.expect("holds"));
    assert!(
        !store.holds_attribute(&w, &flag).await.expect("holds"),
        "cleared"
    );
    assert!(
        !store
            .holds_attribute(&ws("w2"), &text)
            .await
            .expect("holds"),
        "other workspace"
    );

    assert!(
        store
            .delete(&w, &contact.messaging_id)
            .await
            .expect("delete")
    );
    assert!(
        all_ids(store, &w, &members(&l2), 10).await.is_empty(),
        "memberships go with the contact"
    );
}

/// Custom attribute filters compare by type: numbers as numbers, dates and
/// times in time order, text contains ignoring case, booleans exactly.
pub async fn attribute_filters_compare_by_type(store: &dyn ContactStore) {
    let w = ws("w1");
    let (score, since, tier, vip) = (
        AttributeId::generate(),
        AttributeId::generate(),
        AttributeId::generate(),
        AttributeId::generate(),
    );
    let rows = [
        ("9", "2025-12-31", "Gold", "true"),
        ("10", "2026-01-01", "silver", "false"),
        ("100", "2026-06-30", "GOLDEN", "true"),
        ("-1", "2024-02-29", "bronze", "false"),
    ];
    let mut records = Vec::new();
    for (i, (s, d, t, v)) in rows.iter().enumerate() {
        let (mut contact, consent) = simple(i);
        contact.attributes = BTreeMap::from([
            (score.clone(), value(AttributeType::Number, s)),
            (since.clone(), value(AttributeType::Date, d)),
            (tier.clone(), value(AttributeType::Text, t)),
            (vip.clone(), value(AttributeType::Boolean, v)),
        ]);
        records.push((contact, consent));
    }
    let mut bare = simple(9);
    bare.0.attributes.clear();
    records.push(bare);
    insert_all(store, &w, &records).await;
    let r = |i: usize| &records[i];
    let on = |id: &AttributeId, condition: AttributeCondition| ContactQuery {
        filters: vec![ContactFilter::Attribute(id.clone(), condition)],
    };
    let n = |raw: &str| value(AttributeType::Number, raw);
    let d = |raw: &str| value(AttributeType::Date, raw);
    let cases: Vec<(ContactQuery, Vec<&NewRecord>)> = vec![
        (
            on(&score, AttributeCondition::Greater(n("9"))),
            vec![r(2), r(1)],
        ),
        (
            on(&score, AttributeCondition::Less(n("10"))),
            vec![r(3), r(0)],
        ),
        (
            on(&score, AttributeCondition::Equals(n("10.0"))),
            vec![r(1)],
        ),
        (
            on(&since, AttributeCondition::Greater(d("2025-12-31"))),
            vec![r(2), r(1)],
        ),
        (
            on(&since, AttributeCondition::Less(d("2026-01-01"))),
            vec![r(3), r(0)],
        ),
        (
            on(
                &tier,
                AttributeCondition::Contains(SearchText::parse("gold").expect("t")),
            ),
            vec![r(2), r(0)],
        ),
        (
            on(
                &vip,
                AttributeCondition::Equals(value(AttributeType::Boolean, "true")),
            ),
            vec![r(2), r(0)],
        ),
        (
            on(
                &vip,
                AttributeCondition::Equals(value(AttributeType::Boolean, "false")),
            ),
            vec![r(3), r(1)],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            all_ids(store, &w, &query, 50).await,
            ids_of(&expected),
            "{query:?}"
        );
    }
}

/// A list's members page newest first, with the other filters applied.
pub async fn list_members_page_newest_first_with_filters(store: &dyn ContactStore) {
    let w = ws("w1");
    let list = ListId::generate();
    let records: Vec<NewRecord> = (0..30)
        .map(|i| {
            let (mut contact, consent) = simple(i);
            if i % 3 != 1 {
                contact.lists.insert(list.clone());
            }
            (contact, consent)
        })
        .collect();
    insert_all(store, &w, &records).await;
    let members: Vec<&NewRecord> = records
        .iter()
        .rev()
        .filter(|(c, _)| c.lists.contains(&list))
        .collect();
    let query = ContactQuery {
        filters: vec![ContactFilter::InList(list.clone())],
    };
    for limit in [1, 7, 50] {
        assert_eq!(
            all_ids(store, &w, &query, limit).await,
            ids_of(&members),
            "limit {limit}"
        );
    }
    let us = Country::parse("US").expect("country");
    let query = ContactQuery {
        filters: vec![
            ContactFilter::InList(list.clone()),
            ContactFilter::Country(us.clone()),
        ],
    };
    let expected: Vec<&NewRecord> = members
        .iter()
        .copied()
        .filter(|(c, _)| c.country.as_ref() == Some(&us))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(all_ids(store, &w, &query, 4).await, ids_of(&expected));
    let mut scanned = ids_of(&expected);
    scanned.sort();
    assert_eq!(scanned_ids(store, &w, &query).await, scanned, "scan");
    let query = ContactQuery {
        filters: vec![
            ContactFilter::Contains(TextField::Email, SearchText::parse("ann2").expect("t")),
            ContactFilter::InList(list.clone()),
        ],
    };
    let expected: Vec<&NewRecord> = members
        .iter()
        .copied()
        .filter(|(c, _)| external(c).as_ref().starts_with("ext-2"))
        .collect();
    assert_eq!(all_ids(store, &w, &query, 3).await, ids_of(&expected));
    assert!(
        all_ids(
            store,
            &ws("w2"),
            &ContactQuery {
                filters: vec![ContactFilter::InList(list)]
            },
            50
        )
        .await
        .is_empty()
    );
}

/// Attribute names are unique per workspace; definitions can change and go.
pub async fn attribute_definitions_are_unique_per_workspace<S: SchemaStore>(store: &S) {
    let (w, other) = (ws("w1"), ws("w2"));
    let tier = definition("tier", AttributeType::Text);
    let score = definition("score", AttributeType::Number);
    store.create_attribute(&w, &tier).await.expect("create");
    store.create_attribute(&w, &score).await.expect("create");
    let twin = definition("tier", AttributeType::Number);
    assert!(matches!(
        store.create_attribute(&w, &twin).await,
        Err(Error::NameTaken { .. })
    ));
    store
        .create_attribute(&other, &twin)
        .await
        .expect("the name is free elsewhere");
    assert_eq!(
        store.attributes(&w).await.expect("list"),
        [score.clone(), tier.clone()]
    );

    let relabelled = AttributeDefinition {
        label: AttributeLabel::parse("Loyalty tier").expect("label"),
        kind: AttributeType::Date,
        ..tier.clone()
    };
    store
        .update_attribute(&w, &relabelled)
        .await
        .expect("update");
    assert_eq!(
        store.attributes(&w).await.expect("list"),
        [score.clone(), relabelled]
    );
    let ghost = definition("ghost", AttributeType::Text);
    assert!(matches!(
        store.update_attribute(&w, &ghost).await,
        Err(Error::AttributeNotFound(_))
    ));

    assert!(
        store
            .delete_attribute(&w, &tier.name)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_attribute(&w, &tier.name)
            .await
            .expect("delete again")
    );
    assert_eq!(store.attributes(&w).await.expect("list"), [score]);
    assert_eq!(store.attributes(&other).await.expect("list"), [twin]);
}

/// List names are unique per workspace ignoring case; counts follow members;
/// deleting a list keeps its contacts.
pub async fn lists_have_unique_names_and_counted_members<S: ContactStore + ListStore>(store: &S) {
    let (w, other) = (ws("w1"), ws("w2"));
    let vip = new_list("VIP");
    let news = new_list("Newsletter");
    store.create_list(&w, &vip).await.expect("create");
    store.create_list(&w, &news).await.expect("create");
    assert!(matches!(
        store.create_list(&w, &new_list("vip")).await,
        Err(Error::NameTaken { .. })
    ));
    store
        .create_list(&other, &new_list("VIP"))
        .await
        .expect("free elsewhere");
    let names = |lists: Vec<ContactList>| {
        lists
            .into_iter()
            .map(|l| l.name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.lists(&w).await.expect("lists")),
        ["Newsletter", "VIP"]
    );

    store
        .rename_list(&w, &vip.id, &ListName::parse("Very Important").expect("n"))
        .await
        .expect("rename");
    store
        .rename_list(&w, &vip.id, &ListName::parse("VERY important").expect("n"))
        .await
        .expect("recase");
    assert!(matches!(
        store
            .rename_list(&w, &vip.id, &ListName::parse("newsletter").expect("n"))
            .await,
        Err(Error::NameTaken { .. })
    ));
    assert!(matches!(
        store
            .rename_list(&w, &ListId::generate(), &ListName::parse("x").expect("n"))
            .await,
        Err(Error::ListNotFound(_))
    ));
    store
        .create_list(&w, &new_list("vip"))
        .await
        .expect("the old name is free again");

    let records: Vec<NewRecord> = (0..5)
        .map(|i| {
            let (mut contact, consent) = simple(i);
            contact.lists.insert(vip.id.clone());
            if i < 2 {
                contact.lists.insert(news.id.clone());
            }
            (contact, consent)
        })
        .collect();
    insert_all(store, &w, &records).await;
    assert_eq!(store.member_count(&w, &vip.id).await.expect("count"), 5);
    assert_eq!(store.member_count(&w, &news.id).await.expect("count"), 2);
    edit_stored(store, &w, &records[0].0, |c| {
        c.lists.remove(&vip.id);
    })
    .await;
    store
        .delete(&w, &records[1].0.messaging_id)
        .await
        .expect("delete");
    assert_eq!(store.member_count(&w, &vip.id).await.expect("count"), 3);
    assert_eq!(store.member_count(&w, &news.id).await.expect("count"), 1);
    assert_eq!(store.member_count(&other, &vip.id).await.expect("count"), 0);

    assert!(store.delete_list(&w, &vip.id).await.expect("delete list"));
    assert!(!store.delete_list(&w, &vip.id).await.expect("again"));
    assert_eq!(
        names(store.lists(&w).await.expect("lists")),
        ["Newsletter", "vip"]
    );
    assert_eq!(
        store.count(&w).await.expect("count"),
        4,
        "no contact went with the list"
    );
}

/// The saved columns are the workspace's own.
pub async fn columns_are_saved_per_workspace<S: SchemaStore>(store: &S) {
    let (w, other) = (ws("w1"), ws("w2"));
    assert_eq!(store.columns(&w).await.expect("columns"), None);
    let chosen = vec!["full_name".to_owned(), "tier".to_owned()];
    store.save_columns(&w, &chosen).await.expect("save");
    store
        .save_columns(&w, &chosen[..1])
        .await
        .expect("save again");
    assert_eq!(
        store.columns(&w).await.expect("columns"),
        Some(chosen[..1].to_vec())
    );
    assert_eq!(store.columns(&other).await.expect("columns"), None);
}

/// A contact in the most lists it may hold can move to as many others in
/// one edit, and be deleted, without exceeding what one write may carry.
pub async fn a_contact_moves_between_the_most_lists_at_once(store: &dyn ContactStore) {
    use crate::model::MAX_LISTS_PER_CONTACT;
    let w = ws("w1");
    let lists = |n: usize| (0..n).map(|_| ListId::generate()).collect::<BTreeSet<_>>();
    let (mut contact, consent) = simple(1);
    contact.lists = lists(MAX_LISTS_PER_CONTACT);
    store
        .insert(&w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    let moved = edit_stored(store, &w, &contact, |c| {
        c.lists = lists(MAX_LISTS_PER_CONTACT);
        c.external_id = ExternalId::parse("moved").ok();
    })
    .await;
    assert_eq!(
        store.get(&w, &contact.messaging_id).await.expect("get"),
        Some(moved.clone())
    );
    let first = moved.lists.iter().next().cloned().expect("a list");
    let query = ContactQuery {
        filters: vec![ContactFilter::InList(first)],
    };
    assert_eq!(
        all_ids(store, &w, &query, 10).await,
        [contact.messaging_id.clone()]
    );
    assert!(
        store
            .delete(&w, &contact.messaging_id)
            .await
            .expect("delete")
    );
}
