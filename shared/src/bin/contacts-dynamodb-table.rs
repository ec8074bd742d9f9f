//! Creates the contacts table with its indexes (as the SAM template does) in
//! the DynamoDB the SDK's environment points at (`AWS_ENDPOINT_URL` for a
//! stand-in); a table that exists is left as it is. With
//! `reindex <workspace>`, writes the search entries of every contact of the
//! workspace instead (for contacts written before search entries existed).

use anyhow::Context;
use contacts::model::WorkspaceId;
use contacts::store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let table = std::env::var("CONTACTS_TABLE").context("CONTACTS_TABLE is not set")?;
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            if contacts::store::dynamo::ensure_table(&client, &table).await? {
                println!("created table {table}");
            } else {
                println!("table {table} exists");
            }
        }
        [command, workspace] if command == "reindex" => {
            let workspace = WorkspaceId::parse(workspace)
                .map_err(|e| anyhow::anyhow!("workspace {workspace:?}: {e}"))?;
            let indexed = DynamoStore::new(client, &table)
                .rebuild_search(&workspace)
                .await?;
            println!(
                "wrote the search entries of {indexed} contacts of {}",
                workspace.as_ref()
            );
        }
        _ => anyhow::bail!("usage: contacts-dynamodb-table [reindex <workspace>]"),
    }
    Ok(())
}
