//! Every sample in `events/` goes through its function's Lambda handler,
//! over DynamoDB Local, so the samples can't rot.

use std::sync::Arc;

use contacts::AppState;
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tower::ServiceExt;

/// The Messaging ID the samples carry; replaced by a real one in the test.
const SAMPLE_ID: &str = "01JDQ3V6Y8M6F3XG2W5T9K0ABC";

fn sample(name: &str) -> String {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs an API Gateway v2 event through the function's router as Lambda
/// would: event JSON → `lambda_http` adapter → API Gateway response JSON.
async fn invoke(router: axum::Router, event: &str) -> (u16, Value) {
    let request: LambdaRequest = serde_json::from_str(event).expect("an API Gateway v2 event");
    let adapter = lambda_http::Adapter::from(router);
    let response = adapter
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .expect("handler");
    let response = serde_json::to_value(response).expect("response JSON");
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let body = response["body"]
        .as_str()
        .filter(|b| !b.is_empty())
        .map(|b| serde_json::from_str(b).expect("JSON body"))
        .unwrap_or(Value::Null);
    (status, body)
}

fn routers(state: &AppState) -> [(&'static str, axum::Router); 3] {
    [
        ("contacts", contacts::http::contacts_router(state.clone())),
        ("consent", contacts::http::consent_router(state.clone())),
        ("listing", contacts::http::listing_router(state.clone())),
    ]
}

#[tokio::test]
async fn every_api_sample_runs_through_its_function() {
    let state = AppState::over(
        crate::aws::fresh_dynamo_store().await,
        Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
        None,
    );
    let router = |name: &str| {
        let function = name.split('-').next().unwrap_or_default();
        routers(&state)
            .into_iter()
            .find(|(f, _)| *f == function)
            .map(|(_, r)| r)
            .unwrap_or_else(|| panic!("no function for sample {name}"))
    };

    let (status, created) = invoke(
        router("contacts-create.json"),
        &sample("contacts-create.json"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["messaging_id"]
        .as_str()
        .expect("messaging_id")
        .to_owned();
    let steps = [
        ("contacts-get.json", 200),
        ("contacts-edit.json", 200),
        ("consent-put.json", 200),
        ("consent-history.json", 200),
        ("listing-list.json", 200),
        ("listing-usage.json", 200),
        ("contacts-delete.json", 204),
        ("contacts-get.json", 404),
    ];
    for (name, expected) in steps {
        let event = sample(name).replace(SAMPLE_ID, &id);
        let (status, body) = invoke(router(name), &event).await;
        assert_eq!(status, expected, "{name}: {body}");
        match name {
            "contacts-edit.json" => assert_eq!(body["full_name"], "Ann Lee-Smith"),
            "consent-history.json" => assert_eq!(body["items"].as_array().map(Vec::len), Some(3)),
            "listing-list.json" => assert_eq!(body["items"][0]["messaging_id"], id.as_str()),
            "listing-usage.json" => assert_eq!(body["count"], 1),
            _ => {}
        }
    }

    // Without the authorizer's claims, nothing is served.
    let mut anonymous: Value = serde_json::from_str(&sample("listing-usage.json")).expect("json");
    anonymous["requestContext"]
        .as_object_mut()
        .expect("context")
        .remove("authorizer");
    let (status, body) = invoke(router("listing-usage.json"), &anonymous.to_string()).await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn the_upload_sample_decodes_its_key() {
    let event =
        serde_json::from_str(&sample("import-s3-object-created.json")).expect("an S3 event");
    let keys = contacts::lambda::handle_upload(LambdaEvent::new(event, Context::default()))
        .await
        .expect("handler");
    assert_eq!(keys, ["uploads/demo/My Contacts é+1.csv"]);
}

#[test]
fn every_sample_is_exercised() {
    let source = include_str!("events.rs");
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).expect("events/") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("name");
        assert!(
            source.contains(&format!("\"{name}\"")),
            "events/{name} is not exercised by a test"
        );
    }
}
