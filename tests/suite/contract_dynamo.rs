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
