//! The DynamoDB adapter: one table, keys spread so no partition caps a
//! workspace, uniqueness enforced by conditional transactions.
//!
//! Items (`pk`, `sk`):
//! - contact `C#<ws>#<messaging_id>`, `C` — one partition per contact; also
//!   `wpk` = `<ws>#<shard>` / `wsk` = `<created_at>#<messaging_id>` for the
//!   write-sharded `by_workspace` index, `epk` / `ppk` for `by_email` and
//!   `by_phone`;
//! - External ID guard `X#<ws>#<external_id>`, `X` — holds the Messaging ID;
//! - usage shard `U#<ws>`, `<shard>` — a counter per shard;
//! - consent change `H#<ws>#<messaging_id>`, `<at>#<version>#<n>`;
//! - list membership `C#<ws>#<messaging_id>`, `L#<list>` — a copy of the
//!   contact in its own partition, keyed `lpk` = `<ws>#<list>#<shard>` for
//!   the write-sharded `by_list` index; member counter `LC#<ws>#<list>`, `<shard>`;
//! - merged contact `M#<ws>#<messaging_id>`, `M` — the survivor it was merged into;
//! - duplicate key `D#<ws>#<reason>#<value>`, `D` — `dpk` = `<ws>#D`, `wsk` = its
//!   position, for the sparse `by_duplicate` index; dismissed group `DX#<ws>#<ids>`, `DX`;
//! - list `L#<ws>`, `<list id>` and its name guard `N#<ws>#<folded name>`, `N`;
//! - attribute definition `A#<ws>`, `<name>`; settings `S#<ws>`, `<key>`.

mod audit;
mod bulk;
mod catalog;
mod contacts;
mod duplicates;
mod imports;
mod items;
mod jobs;
mod listing;
mod merge;
mod meter;
mod search;
mod search_writes;
mod suppressions;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

pub use items::shard_of;
pub use listing::per_shard as per_shard_items;
pub use meter::{CapacityMeter, Usage};

use crate::error::{Error, Result};

/// Partitions of the workspace index (and of the usage counter). Each takes
/// about 1,000 writes/s, so one workspace can write about 16,000 contacts/s.
pub const SHARDS: u32 = 16;

/// DynamoDB's limit on writes in one transaction.
pub(super) const TRANSACTION_WRITES: usize = 100;

/// Indexes of the table: name, hash key (the range key of every index is
/// `wsk`), and whether it holds whole items or only keys.
pub const INDEXES: [(&str, &str, ProjectionType); 5] = [
    ("by_workspace", "wpk", ProjectionType::All),
    ("by_email", "epk", ProjectionType::All),
    ("by_phone", "ppk", ProjectionType::All),
    ("by_list", "lpk", ProjectionType::All),
    ("by_duplicate", "dpk", ProjectionType::KeysOnly),
];

/// Contacts in a DynamoDB table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    meter: Option<std::sync::Arc<CapacityMeter>>,
}

impl DynamoStore {
    /// A store over `table` (created by the SAM template, or [`create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            meter: None,
        }
    }

    /// The same store, recording requests and consumed capacity in `meter`.
    pub fn with_meter(mut self, meter: std::sync::Arc<CapacityMeter>) -> Self {
        self.meter = Some(meter);
        self
    }
}

/// Creates the table with its indexes, on-demand, and time to live on
/// [`EXPIRES`], as the SAM template does.
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(unexpected)
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unexpected)
    };
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("wsk")?);
    for (name, hash, projection) in INDEXES {
        request = request
            .attribute_definitions(attribute(hash)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key(hash, KeyType::Hash)?)
                    .key_schema(key("wsk", KeyType::Range)?)
                    .projection(Projection::builder().projection_type(projection).build())
                    .build()
                    .map_err(unexpected)?,
            );
    }
    request.send().await.map_err(unexpected)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES)
                .enabled(true)
                .build()
                .map_err(unexpected)?,
        )
        .send()
        .await
        .map_err(unexpected)?;
    Ok(())
}

/// The attribute DynamoDB's time to live reads: items an import keeps only
/// while it runs (remembered keys, rejected rows) expire a week after they
/// were written, for free, instead of being deleted one request per 25.
pub const EXPIRES: &str = "expires";

/// Creates the table unless it exists; `true` when it was created.
pub async fn ensure_table(client: &Client, table: &str) -> Result<bool> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(false),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            create_table(client, table).await.map(|()| true)
        }
        Err(error) => Err(unexpected(error)),
    }
}

/// Wraps an SDK or mapping failure; the caller cannot act on it.
fn unexpected(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("DynamoDB"))
}
