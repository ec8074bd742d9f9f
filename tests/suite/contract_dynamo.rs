//! The store contract on the DynamoDB adapter, against DynamoDB Local.

pub struct Fresh(contacts::store::dynamo::DynamoStore);

impl std::ops::Deref for Fresh {
    type Target = contacts::store::dynamo::DynamoStore;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

async fn open() -> Fresh {
    Fresh(crate::aws::fresh_dynamo_store().await)
}

contacts::contract_tests!(open);
contacts::import_store_contract_tests!(open);

/// Search entries on DynamoDB: contacts whose entries are gone (written
/// before entries existed) are found again after `rebuild_search`; an edit
/// that changes no searched field writes no entry, and one that does
/// leaves exactly the new words; an earlier edit's settling never takes an
/// entry a later edit needs; a create that fails leaves none.
mod search_entries {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use aws_sdk_dynamodb::types::AttributeValue;
    use contacts::model::{Contact, Country, WorkspaceId};
    use contacts::query::{ContactFilter, ContactQuery, PageRequest, TextField};
    use contacts::search::{ContactWords, Target, WordSearch};
    use contacts::store::ContactStore;
    use contacts::store::contract::simple;
    use contacts::store::dynamo::{CapacityMeter, DynamoStore};

    use crate::faults::{Fault, FaultProxy, Hold};

    fn last_name(text: &str) -> ContactQuery {
        let search = WordSearch::parse(Target::Field(TextField::LastName), text).expect("search");
        ContactQuery {
            filters: vec![ContactFilter::Words(search)],
        }
    }

    async fn found(store: &DynamoStore, w: &WorkspaceId, text: &str) -> usize {
        let page = store
            .list(w, &last_name(text), &PageRequest::first(50))
            .await
            .expect("list");
        page.items.len()
    }

    /// Every search entry item of the table.
    async fn entry_items(table: &str) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        crate::aws::dynamodb_client()
            .scan()
            .table_name(table)
            .filter_expression("begins_with(pk, :t)")
            .expression_attribute_values(":t", AttributeValue::S("T#".into()))
            .send()
            .await
            .expect("scan")
            .items
            .unwrap_or_default()
    }

    /// Deletes every search entry of the table, as if its contacts were
    /// written before entries existed.
    async fn drop_entries(client: &aws_sdk_dynamodb::Client, table: &str) -> usize {
        let items = entry_items(table).await;
        for item in &items {
            client
                .delete_item()
                .table_name(table)
                .key("pk", item["pk"].clone())
                .key("sk", item["sk"].clone())
                .send()
                .await
                .expect("delete");
        }
        items.len()
    }

    /// Every search entry of the table: its key (the end of its partition)
    /// and its words.
    pub(super) async fn entries(table: &str) -> BTreeMap<String, BTreeSet<String>> {
        entry_items(table)
            .await
            .iter()
            .map(|item| {
                let pk = item["pk"].as_s().expect("pk");
                let key = pk.rsplit('#').next().expect("key").to_owned();
                let words = item["w"].as_ss().expect("words").iter().cloned().collect();
                (key, words)
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuild_writes_the_entries_of_every_contact() {
        let (store, table) = crate::aws::fresh_table().await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        for i in 0..30 {
            store.insert(&w, &simple(i), None).await.expect("insert");
        }
        assert_eq!(found(&store, &w, "lee1").await, 11);
        assert!(drop_entries(&crate::aws::dynamodb_client(), &table).await > 30);
        assert_eq!(
            found(&store, &w, "lee1").await,
            0,
            "no entries, nothing found"
        );
        assert_eq!(store.rebuild_search(&w).await.expect("rebuild"), 30);
        assert_eq!(found(&store, &w, "lee1").await, 11);
        assert_eq!(store.rebuild_search(&w).await.expect("again"), 30);
        assert_eq!(
            found(&store, &w, "lee1").await,
            11,
            "a second rebuild changes nothing"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_an_edit_of_searched_words_writes_entries() {
        let (_, table) = crate::aws::fresh_table().await;
        let meter = Arc::new(CapacityMeter::default());
        let store = DynamoStore::new(crate::aws::dynamodb_client(), table.clone())
            .with_meter(Arc::clone(&meter));
        let w = WorkspaceId::parse("w1").expect("workspace");
        let (contact, consent) = simple(1);
        store
            .insert(&w, &(contact.clone(), consent), None)
            .await
            .expect("insert");
        let mut moved = contact.clone();
        moved.country = Country::parse("FR").ok();
        moved.version += 1;
        meter.take();
        store.update(&w, &moved, 1, &[]).await.expect("update");
        let unsearched = meter.take();
        let mut renamed = moved.clone();
        renamed.last_name = contacts::model::Name::parse("Quaresma").ok();
        renamed.version += 1;
        store.update(&w, &renamed, 2, &[]).await.expect("update");
        let searched = meter.take();
        assert!(
            searched.write_units > unsearched.write_units,
            "a new last name rewrites entries: {searched:?} against {unsearched:?}"
        );
        assert_eq!(found(&store, &w, "quar").await, 1);
        assert_eq!(found(&store, &w, "lee").await, 0);
        let exact = ContactWords::of(&renamed);
        let left = entries(&table).await;
        assert!(!left.contains_key("le"), "the old name's entry is gone");
        assert_eq!(left.keys().cloned().collect::<BTreeSet<_>>(), exact.keys());
        for (key, held) in &left {
            assert_eq!(held, &exact.tagged(), "{key} holds exactly the new words");
        }
    }

    /// A store reaching a new table through a fault proxy, its table,
    /// workspace and one contact it holds.
    pub(super) async fn one_contact_behind_a_proxy()
    -> (FaultProxy, DynamoStore, String, WorkspaceId, Contact) {
        let (_, table) = crate::aws::fresh_table().await;
        let proxy = FaultProxy::start(crate::aws::dynamodb_endpoint()).await;
        let client = crate::aws::dynamodb_client_at(
            &proxy.endpoint,
            contacts::lambda::import::retry_config(),
        );
        let store = DynamoStore::new(client, table.clone());
        let w = WorkspaceId::parse("w1").expect("workspace");
        let (contact, consent) = simple(1);
        store
            .insert(&w, &(contact.clone(), consent), None)
            .await
            .expect("insert");
        (proxy, store, table, w, contact)
    }

    /// An edit's settling runs late: a later edit has already brought back
    /// the start it deleted. The entry stays, and the contact is found.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_settling_leaves_the_entries_a_later_edit_wrote() {
        let (proxy, store, table, w, contact) = one_contact_behind_a_proxy().await;
        let settling = Hold::default();
        proxy.inject(Fault::hold("DeleteItem", &settling).containing("#le\""));
        let mut renamed = contact.clone();
        renamed.last_name = contacts::model::Name::parse("Quaresma").ok();
        renamed.version = 2;
        let mut back = contact.clone();
        back.version = 3;
        let first = store.update(&w, &renamed, 1, &[]);
        let later = async {
            settling.arrived.notified().await;
            store
                .update(&w, &back, 2, &[])
                .await
                .expect("the later edit");
            settling.release.notify_one();
        };
        let (first, ()) = tokio::join!(first, later);
        first.expect("the first edit");
        assert_eq!(found(&store, &w, "lee1").await, 1);
        assert_eq!(found(&store, &w, "quaresma").await, 0);
        assert!(entries(&table).await.contains_key("le"));
    }

    /// A rebuild that read a contact before an edit writes its entries
    /// after the edit has settled: the edit's words stay, and the contact
    /// is found by its new name under the start both versions share.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuild_that_read_before_an_edit_keeps_the_edit_s_words() {
        let (proxy, store, _, w, contact) = one_contact_behind_a_proxy().await;
        let rebuilding = Hold::default();
        proxy.inject(Fault::hold("UpdateItem", &rebuilding).containing("#le\""));
        let mut renamed = contact.clone();
        renamed.last_name = contacts::model::Name::parse("Lemon").ok();
        renamed.version = 2;
        let edit = async {
            let arrived = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                rebuilding.arrived.notified(),
            )
            .await;
            store.update(&w, &renamed, 1, &[]).await.expect("the edit");
            rebuilding.release.notify_one();
            arrived.expect("the rebuild writes the entry of `le`");
        };
        let (rebuilt, ()) = tokio::join!(store.rebuild_search(&w), edit);
        assert_eq!(rebuilt.expect("rebuild"), 1);
        assert_eq!(found(&store, &w, "lemon").await, 1);
    }

    /// A create whose transaction fails (its External ID is taken) takes
    /// back the entries it wrote first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_create_that_fails_leaves_no_entries() {
        let (store, table) = crate::aws::fresh_table().await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        store.insert(&w, &simple(1), None).await.expect("insert");
        let before = entries(&table).await;
        let (mut rival, consent) = simple(2);
        rival.first_name = contacts::model::Name::parse("Wilhelmina").ok();
        rival.external_id = simple(1).0.external_id;
        assert!(rival.external_id.is_some());
        store
            .insert(&w, &(rival, consent), None)
            .await
            .expect_err("the External ID is taken");
        assert_eq!(entries(&table).await, before);
    }
}

/// A merge is one transaction: one that needs more than DynamoDB's 100
/// writes is refused, naming what it needs and the limit, and writes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_too_large_for_one_transaction_is_refused_with_the_limit() {
    use contacts::audit::{Audit, Retention};
    use contacts::model::{MergeRequest, WorkspaceId};
    use contacts::store::contract::{new_list, simple};
    use contacts::store::{ContactStore, ListStore};

    let store = open().await;
    let w = WorkspaceId::parse("w1").expect("workspace");
    let mut lists = Vec::new();
    for n in 0..12 {
        let list = new_list(&format!("List {n}"));
        store.create_list(&w, &list).await.expect("list");
        lists.push(list.id);
    }
    let mut ids = Vec::new();
    for i in 0..10 {
        let (mut contact, consent) = simple(i);
        contact.lists = lists.iter().cloned().collect();
        store
            .insert(&w, &(contact.clone(), consent), None)
            .await
            .expect("insert");
        ids.push(contact.messaging_id);
    }
    let request = MergeRequest {
        survivor: ids[0].clone(),
        merge: ids[1..].to_vec(),
        fields: Default::default(),
        versions: Default::default(),
    };
    let audit = Audit::new(&*store, Retention::default(), &w, "token:test");
    let refused = contacts::service::merge(&*store, &audit, &request).await;
    let Err(contacts::error::Error::Validation(errors)) = refused else {
        panic!("a merge of 10 contacts in 12 lists fits no transaction: {refused:?}");
    };
    assert_eq!(errors[0].field, "merge");
    assert!(
        errors[0].message.contains("one transaction holds 100"),
        "{}",
        errors[0].message
    );
    for id in &ids {
        assert!(store.get(&w, id).await.expect("get").is_some());
    }
    assert_eq!(store.count(&w).await.expect("count"), 10);
    assert_eq!(
        store.member_count(&w, &lists[0]).await.expect("members"),
        10
    );
}

/// Erasure on DynamoDB, interrupted at each step, then retried.
mod erasure {
    use contacts::model::{Channel, ConsentChoice, ConsentSource, Contact};
    use contacts::privacy::suppression::{Identifier, Suppression, SuppressionReason};
    use contacts::query::PageRequest;
    use contacts::store::ContactStore;
    use contacts::store::suppressions::SuppressionStore;

    use super::search_entries::{entries, one_contact_behind_a_proxy};
    use crate::faults::Fault;

    async fn suppression_of(
        store: &impl SuppressionStore,
        w: &contacts::model::WorkspaceId,
        contact: &Contact,
    ) -> Suppression {
        let secret = store.secret(w).await.expect("secret");
        Suppression::new(
            &secret,
            &Identifier::of(contact),
            SuppressionReason::Erased,
            "token:alpha",
        )
    }

    /// The transaction fails: the contact stays, nothing is suppressed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_whose_transaction_fails_leaves_the_contact_and_suppresses_nothing() {
        let (proxy, store, _table, w, contact) = one_contact_behind_a_proxy().await;
        let suppression = suppression_of(&store, &w, &contact).await;
        proxy.inject(Fault::next("TransactWriteItems", 1));
        assert!(store.erase(&w, &contact, &suppression).await.is_err());
        assert!(
            store
                .get(&w, &contact.messaging_id)
                .await
                .expect("get")
                .is_some()
        );
        let secret = store.secret(&w).await.expect("secret");
        let hashes: Vec<_> = Identifier::of(&contact)
            .iter()
            .map(|i| secret.hash(i))
            .collect();
        assert!(
            store
                .suppressed(&w, &hashes)
                .await
                .expect("suppressed")
                .iter()
                .all(Option::is_none)
        );
        assert_eq!(
            store
                .finish_erasure(&w, &contact.messaging_id)
                .await
                .expect("finish"),
            None
        );
        // Retried, it completes.
        assert!(
            store
                .erase(&w, &contact, &suppression)
                .await
                .expect("erase")
        );
        assert!(
            store
                .get(&w, &contact.messaging_id)
                .await
                .expect("get")
                .is_none()
        );
    }

    /// Each clean-up step after the transaction fails in turn: the
    /// contact is gone and suppressed at once, and finishing the erasure
    /// removes its history and search entries.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_interrupted_after_its_transaction_completes_on_retry() {
        for (operation, containing) in [
            ("BatchWriteItem", "\"H#"),
            ("BatchWriteItem", "\"T#"),
            ("UpdateItem", "REMOVE entries"),
        ] {
            let (proxy, store, table, w, created) = one_contact_behind_a_proxy().await;
            // A consent change after the creation: a history item.
            let (contact, changes) = created.with_consent(
                &[(Channel::Email, ConsentChoice::Subscribed)],
                &ConsentSource::api(),
                contacts::model::now(),
            );
            store
                .update(&w, &contact, created.version, &changes)
                .await
                .expect("consent");
            let suppression = suppression_of(&store, &w, &contact).await;
            proxy.inject(Fault::next(operation, 1).containing(containing));
            assert!(
                store.erase(&w, &contact, &suppression).await.is_err(),
                "{operation} {containing}"
            );
            let id = &contact.messaging_id;
            assert!(store.get(&w, id).await.expect("get").is_none());
            let secret = store.secret(&w).await.expect("secret");
            let hashes: Vec<_> = Identifier::of(&contact)
                .iter()
                .map(|i| secret.hash(i))
                .collect();
            assert!(
                store
                    .suppressed(&w, &hashes)
                    .await
                    .expect("suppressed")
                    .iter()
                    .all(Option::is_some)
            );
            assert_eq!(
                store.finish_erasure(&w, id).await.expect("finish"),
                Some(suppression.clone()),
                "{operation} {containing}"
            );
            let history = store
                .consent_history(&w, id, &PageRequest::first(10))
                .await
                .expect("history");
            assert!(
                history.items.is_empty(),
                "{operation} {containing}: the history is gone"
            );
            assert!(
                entries(&table).await.is_empty(),
                "{operation} {containing}: no search entry is left"
            );
            assert_eq!(
                proxy.failed(),
                1,
                "{operation} {containing}: the fault was met"
            );
        }
    }
}

/// Listing on DynamoDB: a shard that holds exactly the items a page
/// evaluates per shard is read to its end, and the page holding every
/// contact carries no cursor (DynamoDB itself stops there with a position).
mod listing {
    use contacts::model::WorkspaceId;
    use contacts::query::{ContactQuery, PageRequest};
    use contacts::store::ContactStore;
    use contacts::store::contract::simple;
    use contacts::store::dynamo::{per_shard_items, shard_of};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shard_read_to_its_last_item_leaves_no_cursor() {
        let store = super::open().await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let limit = 23;
        let (mut in_shard, mut elsewhere) = (Vec::new(), Vec::new());
        for record in (0..10_000).map(simple) {
            match shard_of(&record.0.messaging_id) {
                0 if in_shard.len() < per_shard_items(limit) => in_shard.push(record),
                0 => {}
                _ if elsewhere.len() < 3 => elsewhere.push(record),
                _ => {}
            }
            if in_shard.len() == per_shard_items(limit) && elsewhere.len() == 3 {
                break;
            }
        }
        assert_eq!(in_shard.len(), per_shard_items(limit), "a full shard");
        let records: Vec<_> = in_shard.into_iter().chain(elsewhere).collect();
        for record in &records {
            store.insert(&w, record, None).await.expect("insert");
        }
        let page = store
            .list(&w, &ContactQuery::default(), &PageRequest::first(limit))
            .await
            .expect("list");
        assert_eq!(page.items.len(), records.len(), "every contact on the page");
        assert_eq!(page.next_cursor, None, "the full shard has nothing more");
    }
}
