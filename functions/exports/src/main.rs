//! The `exports` function: its router under `lambda_http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = contacts::lambda::state_from_env().await?;
    lambda_http::run(contacts::http::exports_router(state)).await
}
