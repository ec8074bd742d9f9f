//! The `import` function, triggered by `ObjectCreated` under `uploads/`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(lambda_runtime::service_fn(contacts::lambda::handle_upload)).await
}
