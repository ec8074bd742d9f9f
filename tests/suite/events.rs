//! Every sample in `events/` goes through its function's Lambda handler,
//! over DynamoDB Local, so the samples can't rot.

use std::sync::Arc;

use contacts::AppState;
use contacts::lambda::{DEFAULT_WORKSPACE_CLAIM, JwtClaim};
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tower::ServiceExt;

/// The Messaging ID and list ID the samples carry; the test puts real ones in.
const SAMPLE_ID: &str = "01JDQ3V6Y8M6F3XG2W5T9K0ABC";
const SAMPLE_LIST: &str = "01JDQ3V6Y8M6F3XG2W5T9K0XYZ";

pub fn sample(name: &str) -> String {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs an API Gateway v2 event through a router as Lambda would: event
/// JSON → `lambda_http` adapter → API Gateway response JSON.
pub async fn invoke(router: axum::Router, event: &str) -> (u16, Value) {
    let request: LambdaRequest = serde_json::from_str(event).expect("an API Gateway v2 event");
    let response = lambda_http::Adapter::from(router)
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

/// The router of the function a sample belongs to (its name's first word).
fn function_router(state: &AppState, sample: &str) -> axum::Router {
    named_router(state, sample.split('-').next().unwrap_or_default())
}

/// The router of function `fn-<function>`.
fn named_router(state: &AppState, function: &str) -> axum::Router {
    let routers = [
        (
            "contacts",
            contacts::http::contacts_router as fn(AppState) -> axum::Router,
        ),
        ("consent", contacts::http::consent_router),
        ("listing", contacts::http::listing_router),
        ("workspace", contacts::http::workspace_router),
    ];
    let (_, router) = routers
        .into_iter()
        .find(|(f, _)| *f == function)
        .unwrap_or_else(|| panic!("no function fn-{function}"));
    router(state.clone())
}

/// Runs a sample with the real contact and list IDs put in.
async fn run(state: &AppState, name: &str, contact: &str, list: &str) -> (u16, Value) {
    let event = sample(name)
        .replace(SAMPLE_ID, contact)
        .replace(SAMPLE_LIST, list);
    invoke(function_router(state, name), &event).await
}

#[tokio::test]
async fn every_api_sample_runs_through_its_function() {
    let state = AppState::over(
        crate::aws::fresh_dynamo_store().await,
        Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
        None,
    );
    let (status, body) = run(
        &state,
        "workspace-attributes-create.json",
        SAMPLE_ID,
        SAMPLE_LIST,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, list) = run(
        &state,
        "workspace-lists-create.json",
        SAMPLE_ID,
        SAMPLE_LIST,
    )
    .await;
    assert_eq!(status, 201, "{list}");
    let list = list["id"].as_str().expect("list id").to_owned();
    let (status, created) = run(&state, "contacts-create.json", SAMPLE_ID, &list).await;
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
        ("contacts-add-members.json", 200),
        ("contacts-lists.json", 200),
        ("listing-members.json", 200),
        ("listing-list.json", 200),
        ("listing-usage.json", 200),
        ("workspace-attributes-list.json", 200),
        ("workspace-attributes-edit.json", 200),
        ("workspace-lists-get.json", 200),
        ("workspace-lists-rename.json", 200),
        ("workspace-lists-list.json", 200),
        ("workspace-settings-put.json", 200),
        ("workspace-settings-get.json", 200),
        ("contacts-remove-member.json", 204),
        ("workspace-lists-delete.json", 204),
        ("workspace-attributes-delete.json", 204),
        ("contacts-delete.json", 204),
        ("contacts-get.json", 404),
    ];
    for (name, expected) in steps {
        let (status, body) = run(&state, name, &id, &list).await;
        assert_eq!(status, expected, "{name}: {body}");
        match name {
            "contacts-edit.json" => assert_eq!(body["full_name"], "Ann Lee-Smith"),
            "consent-history.json" => assert_eq!(body["items"].as_array().map(Vec::len), Some(3)),
            "contacts-lists.json" => assert_eq!(body[0]["name"], "VIP"),
            "listing-members.json" => assert_eq!(body["items"][0]["messaging_id"], id.as_str()),
            "listing-list.json" => assert_eq!(body["items"][0]["attributes"]["tier"], "Gold"),
            "listing-usage.json" => assert_eq!(body["count"], 1),
            "workspace-lists-get.json" => assert_eq!(body["member_count"], 1),
            "workspace-settings-get.json" => assert_eq!(body["columns"][2], "tier"),
            _ => {}
        }
    }

    // Without the authorizer's claims, nothing is served.
    for name in ["listing-usage.json", "workspace-lists-list.json"] {
        let mut anonymous: Value = serde_json::from_str(&sample(name)).expect("json");
        anonymous["requestContext"]
            .as_object_mut()
            .expect("context")
            .remove("authorizer");
        let (status, body) = invoke(function_router(&state, name), &anonymous.to_string()).await;
        assert_eq!(status, 401, "{name}: {body}");
    }
}

/// The README's sequence of `cargo lambda invoke` calls, as written: each
/// call's function and event file, the `sed` lines that put the created
/// contact's ID into a copy of a sample, and which call's output is kept.
#[tokio::test]
async fn the_readme_lambda_sequence_works_as_written() {
    let readme = std::fs::read_to_string(format!("{}/../README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("README.md");
    let section = readme
        .split("### The Lambda functions on this machine")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README's Lambda section");
    let block = section
        .split("```sh")
        .nth(2)
        .and_then(|rest| rest.split("```").next())
        .expect("the invoke sequence");
    let state = AppState::over(
        crate::aws::fresh_dynamo_store().await,
        Arc::new(JwtClaim(DEFAULT_WORKSPACE_CLAIM.to_owned())),
        None,
    );
    let mut copies: Vec<(String, String)> = Vec::new();
    let mut created = None;
    let mut calls = Vec::new();
    for line in block.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["sed", expression, sample, ">", copy] = words[..] {
            assert!(expression.contains(SAMPLE_ID), "{line}");
            copies.push((
                (*copy).to_owned(),
                sample.trim_start_matches("events/").to_owned(),
            ));
        }
        let Some(rest) = line.strip_prefix("cargo lambda invoke fn-") else {
            continue;
        };
        let function = rest.split_whitespace().next().expect("function");
        let file = rest
            .split("--data-file ")
            .nth(1)
            .and_then(|f| f.split_whitespace().next())
            .expect("--data-file");
        let (sample, substituted) = match file.strip_prefix("events/") {
            Some(sample) => (sample.to_owned(), false),
            None => {
                let (_, sample) = copies.iter().find(|(c, _)| c == file).expect("a sed copy");
                (sample.clone(), true)
            }
        };
        let mut event = self::sample(&sample);
        if substituted {
            let id: &String = created.as_ref().expect("the contact was created first");
            event = event.replace(SAMPLE_ID, id);
        }
        let (status, body) = invoke(named_router(&state, function), &event).await;
        assert!((200..300).contains(&status), "{line}: {status} {body}");
        if line.contains("tee created.json") {
            created = body["messaging_id"].as_str().map(str::to_owned);
        }
        calls.push((sample, status, body));
    }
    let outcomes: Vec<(&str, u16)> = calls.iter().map(|(s, c, _)| (s.as_str(), *c)).collect();
    assert_eq!(
        outcomes,
        [
            ("workspace-attributes-create.json", 201),
            ("contacts-create.json", 201),
            ("listing-list.json", 200),
            ("contacts-delete.json", 204),
        ]
    );
    assert_eq!(
        calls[2].2["items"][0]["attributes"]["tier"], "Gold",
        "the listing shows the contact"
    );
    let id = created.expect("created");
    let (status, _) = run(&state, "contacts-get.json", &id, SAMPLE_LIST).await;
    assert_eq!(status, 404, "the contact is gone");
}

#[test]
fn every_sample_is_exercised() {
    let source = [
        include_str!("events.rs"),
        include_str!("import_function.rs"),
        include_str!("export_function.rs"),
        include_str!("scan_function.rs"),
        include_str!("console_aws.rs"),
    ]
    .concat();
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
