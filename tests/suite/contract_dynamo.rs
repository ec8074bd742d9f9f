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
/// before entries existed) are found again after `rebuild_search`, and an
/// edit that changes no searched field writes no entry.
mod search_entries {
    use std::sync::Arc;

    use aws_sdk_dynamodb::types::AttributeValue;
    use contacts::model::{Country, WorkspaceId};
    use contacts::query::{ContactFilter, ContactQuery, PageRequest, TextField};
    use contacts::search::{Target, WordSearch};
    use contacts::store::ContactStore;
    use contacts::store::contract::simple;
    use contacts::store::dynamo::{CapacityMeter, DynamoStore};

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

    /// Deletes every search entry of the table, as if its contacts were
    /// written before entries existed.
    async fn drop_entries(client: &aws_sdk_dynamodb::Client, table: &str) -> usize {
        let items = client
            .scan()
            .table_name(table)
            .filter_expression("begins_with(pk, :t)")
            .expression_attribute_values(":t", AttributeValue::S("T#".into()))
            .send()
            .await
            .expect("scan")
            .items
            .unwrap_or_default();
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
        let store =
            DynamoStore::new(crate::aws::dynamodb_client(), table).with_meter(Arc::clone(&meter));
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
        assert_eq!(
            found(&store, &w, "lee").await,
            0,
            "the old name's entry is gone"
        );
    }
}
