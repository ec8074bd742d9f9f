//! The `duplicate-scan` function: messages from its queue run scans for
//! similar names.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let function = contacts::lambda::scan::ScanFunction::from_env().await?;
    let function = &function;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        function.handle(event)
    }))
    .await
}
