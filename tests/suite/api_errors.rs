//! Bad requests of every kind get a problem document, never a 500; and a
//! workspace never reaches another's contacts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{BETA, Server, contact, expect_problem, problem_fields, send};

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_4xx() {
    let server = Server::start().await;
    let post = || server.req(Method::POST, "/v1/contacts");
    let body = expect_problem(
        post()
            .header("content-type", "application/json")
            .body("{\"external_id\": "),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("not valid JSON")
    );
    expect_problem(
        post()
            .header("content-type", "application/json")
            .body("{} trailing"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_problem(
        post().header("content-type", "application/json").body(""),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let body = expect_problem(
        post().json(&json!({"external_id": 42, "phone": "+12345678902"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["external_id"]);
    let body = expect_problem(
        post().json(
            &json!({"external_id": "x", "consent": {"sms": "subscribed", "pager": "subscribed"}}),
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["consent.pager"]);
    let body = expect_problem(post().json(&json!(["a list"])), StatusCode::BAD_REQUEST).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("expected")
    );
    expect_problem(
        post().body(contact(1).to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    expect_problem(
        post().header("content-type", "text/csv").body("a,b"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
}

#[tokio::test]
async fn oversize_bodies_are_413_and_store_nothing() {
    let server = Server::start().await;
    let mut huge = contact(1);
    huge["first_name"] = Value::String("x".repeat(contacts::http::BODY_LIMIT + 1));
    let body = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&huge),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(body["detail"].as_str().expect("detail").contains("bytes"));
    let (_, page) = server.list("").await;
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn missing_or_unknown_tokens_are_401() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    for request in [
        client.get(server.url("/v1/contacts")),
        client.get(server.url("/v1/contacts")).bearer_auth("nope"),
        client
            .get(server.url("/v1/contacts"))
            .header("Authorization", "Basic dXNlcjpwYXNz"),
        client.post(server.url("/v1/contacts")).json(&contact(1)),
    ] {
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let (_, page) = server.list("").await;
    assert_eq!(
        page["items"],
        json!([]),
        "the unauthorised create stored nothing"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let server = Server::start().await;
    expect_problem(server.req(Method::GET, "/v2/people"), StatusCode::NOT_FOUND).await;
    expect_problem(
        server.req(Method::PUT, "/v1/contacts"),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
}

#[tokio::test]
async fn a_workspace_never_reaches_another_workspaces_contacts() {
    let server = Server::start().await;
    let mine = server.create(contact(1)).await;
    let id = mine["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}");
    let as_beta = |method: Method, path: &str| server.as_token(BETA, method, path);

    expect_problem(as_beta(Method::GET, &path), StatusCode::NOT_FOUND).await;
    expect_problem(
        as_beta(Method::PATCH, &path).json(&json!({"first_name": "Mallory"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        as_beta(Method::PUT, &format!("{path}/consent")).json(&json!({"sms": "subscribed"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        as_beta(Method::GET, &format!("{path}/consent-history")),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(as_beta(Method::DELETE, &path), StatusCode::NOT_FOUND).await;
    let (_, page) = send(as_beta(Method::GET, "/v1/contacts?first_name=ann")).await;
    assert_eq!(page["items"], json!([]));
    let (_, usage) = send(as_beta(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 0);
    // The same External ID is free in the other workspace.
    let (status, _) = send(as_beta(Method::POST, "/v1/contacts").json(&contact(1))).await;
    assert_eq!(status, StatusCode::CREATED);

    assert_eq!(server.get(id).await.1, mine, "alpha's contact is untouched");
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 1);
}
