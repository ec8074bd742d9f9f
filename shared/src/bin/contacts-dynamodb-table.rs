//! Creates the contacts table with its indexes (as the SAM template does) in
//! the DynamoDB the SDK's environment points at (`AWS_ENDPOINT_URL` for a
//! stand-in); a table that exists is left as it is.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let table = std::env::var("CONTACTS_TABLE").context("CONTACTS_TABLE is not set")?;
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    if contacts::store::dynamo::ensure_table(&client, &table).await? {
        println!("created table {table}");
    } else {
        println!("table {table} exists");
    }
    Ok(())
}
