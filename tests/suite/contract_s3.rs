//! The object-store contract on the S3 adapter, against an S3 stand-in.

use crate::aws::S3StandIn;
use contacts::store::s3::S3ObjectStore;

/// A store over a fresh bucket, and the stand-in serving it.
pub struct Fresh {
    store: S3ObjectStore,
    _server: S3StandIn,
}

impl std::ops::Deref for Fresh {
    type Target = S3ObjectStore;

    fn deref(&self) -> &S3ObjectStore {
        &self.store
    }
}

async fn open() -> Fresh {
    let server = S3StandIn::start().await;
    Fresh {
        store: server.fresh_store().await,
        _server: server,
    }
}

contacts::object_store_contract_tests!(open);
