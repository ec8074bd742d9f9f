//! Consent updates and their history over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, contact, expect_problem, problem_fields, send};

async fn history(server: &Server, id: &str, query: &str) -> Value {
    let (status, body) = send(server.req(
        Method::GET,
        &format!("/v1/contacts/{id}/consent-history?{query}"),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn consent_moves_between_subscribed_and_unsubscribed_with_history() {
    let server = Server::start().await;
    let mut body = contact(1);
    body["consent"] = json!({"sms": "subscribed"});
    let created = server.create(body).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}/consent");

    let response = server
        .req(Method::PUT, &path)
        .json(&json!({"sms": "unsubscribed", "whatsapp": "subscribed"}))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let updated: Value = response.json().await.expect("json");
    assert_eq!(
        updated["consent"],
        json!({"sms": "unsubscribed", "whatsapp": "subscribed", "email": "not_subscribed"})
    );

    // Recording what is already recorded changes nothing.
    let (_, same) = send(
        server
            .req(Method::PUT, &path)
            .json(&json!({"sms": "unsubscribed"})),
    )
    .await;
    assert_eq!(same["version"], 2);

    let entries = history(&server, id, "").await;
    let summary: Vec<(String, String, String, String)> = entries["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["channel"].to_string(),
                e["old"].to_string(),
                e["new"].to_string(),
                e["source"].to_string(),
            )
        })
        .collect();
    let q = |s: &str| format!("\"{s}\"");
    assert_eq!(
        summary,
        [
            (
                q("whatsapp"),
                q("not_subscribed"),
                q("subscribed"),
                q("api")
            ),
            (q("sms"), q("subscribed"), q("unsubscribed"), q("api")),
            (q("sms"), q("not_subscribed"), q("subscribed"), q("api")),
        ]
    );
    assert!(
        entries["items"][0]["at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );
    assert_eq!(entries["next_cursor"], Value::Null);

    let first = history(&server, id, "limit=2").await;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let rest = history(&server, id, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"], json!([entries["items"][2]]));
}

#[tokio::test]
async fn not_subscribed_and_unknown_values_are_refused_with_a_reason() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}/consent");
    let body = expect_problem(
        server
            .req(Method::PUT, &path)
            .json(&json!({"sms": "not_subscribed"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["sms"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("never recorded")
    );
    let body = expect_problem(
        server
            .req(Method::PUT, &path)
            .json(&json!({"email": "yes", "fax": "subscribed"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["fax"]);
    let body = expect_problem(
        server
            .req(Method::PUT, &path)
            .json(&json!({"email": "yes"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["email"]);
    expect_problem(
        server.req(Method::PUT, &path).json(&json!({})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_problem(
        server.req(Method::PUT, &path).json(&json!({"sms": true})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(server.get(id).await.1, created, "nothing changed");
    assert_eq!(history(&server, id, "").await["items"], json!([]));
}

#[tokio::test]
async fn consent_honours_if_match_and_404s_unknown_contacts() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}/consent");
    server
        .req(Method::PATCH, &format!("/v1/contacts/{id}"))
        .json(&json!({"first_name": "B"}))
        .send()
        .await
        .expect("patch");
    expect_problem(
        server
            .req(Method::PUT, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"sms": "subscribed"})),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(server.get(id).await.1["consent"]["sms"], "not_subscribed");
    let ghost = "/v1/contacts/01ARZ3NDEKTSV4RRFFQ69G5FAV";
    expect_problem(
        server
            .req(Method::PUT, &format!("{ghost}/consent"))
            .json(&json!({"sms": "subscribed"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        server.req(Method::GET, &format!("{ghost}/consent-history")),
        StatusCode::NOT_FOUND,
    )
    .await;
    let body = expect_problem(
        server.req(
            Method::GET,
            &format!("/v1/contacts/{id}/consent-history?limit=0&page=2"),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["limit", "page"]);
}
