//! The `console` function: the web console's pages under `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let console = contacts::lambda::console_from_env().await?;
    lambda_http::run(contacts::console::router(console)).await
}
