//! Merging duplicates over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ALPHA, Server, contact, expect_problem, problem_fields, send};

fn id_of(contact: &Value) -> String {
    contact["messaging_id"]
        .as_str()
        .expect("messaging_id")
        .to_owned()
}

async fn pair(server: &Server) -> (String, String) {
    let mut first = contact(1);
    first.as_object_mut().expect("object").remove("email");
    let mut second = contact(2);
    second["first_name"] = json!("Anne");
    second.as_object_mut().expect("object").remove("phone");
    let (a, b) = (server.create(first).await, server.create(second).await);
    (id_of(&a), id_of(&b))
}

#[tokio::test]
async fn a_merge_leaves_one_contact_and_the_old_id_leads_to_it() {
    let server = Server::start().await;
    let (a, b) = pair(&server).await;
    let (status, _) = send(
        server
            .req(Method::PUT, &format!("/v1/contacts/{b}/consent"))
            .json(&json!({"email": "unsubscribed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = server
        .req(Method::POST, &format!("/v1/contacts/{a}/merge"))
        .json(&json!({"merge": [b], "fields": {"first_name": b}, "versions": {a.clone(): 1, b.clone(): 2}}))
        .send()
        .await
        .expect("merge");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let merged: Value = response.json().await.expect("json");
    assert_eq!(merged["messaging_id"], a);
    assert_eq!(merged["first_name"], "Anne");
    assert_eq!(merged["phone"], "+12345670001");
    assert_eq!(merged["email"], "ann2@example.com");
    assert_eq!(merged["external_id"], "crm-1");
    assert_eq!(merged["consent"]["email"], "unsubscribed");

    // Reading the old ID: 308 to the survivor, which a client follows.
    let unfollowed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let moved = unfollowed
        .get(server.url(&format!("/v1/contacts/{b}")))
        .bearer_auth(ALPHA)
        .send()
        .await
        .expect("get");
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()["location"], format!("/v1/contacts/{a}"));
    assert_eq!(moved.headers()["content-type"], "application/problem+json");
    let body: Value = moved.json().await.expect("json");
    assert_eq!(
        (body["status"].clone(), body["merged_into"].clone()),
        (json!(308), json!(a))
    );
    let (status, followed) = server.get(&b).await;
    assert_eq!((status, followed), (StatusCode::OK, merged.clone()));

    // Writing to it: 404 naming the survivor.
    for (method, path, body) in [
        (Method::DELETE, format!("/v1/contacts/{b}"), None),
        (
            Method::PATCH,
            format!("/v1/contacts/{b}"),
            Some(json!({"first_name": "X"})),
        ),
        (
            Method::PUT,
            format!("/v1/contacts/{b}/consent"),
            Some(json!({"sms": "subscribed"})),
        ),
    ] {
        let mut request = server.req(method, &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let problem = expect_problem(request, StatusCode::NOT_FOUND).await;
        assert_eq!(problem["type"], "/problems/contact-merged");
        assert_eq!(problem["merged_into"], a);
    }

    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 1);
    let (_, history) =
        send(server.req(Method::GET, &format!("/v1/contacts/{a}/consent-history"))).await;
    let entries = history["items"].as_array().expect("items");
    assert_eq!(entries.len(), 3 + 1, "{history}");
    assert_eq!(entries[0]["source"], format!("merge:{b}"));
    assert_eq!(entries[0]["note"], "External IDs freed: crm-2");
    // The freed External ID is free.
    let mut reuse = contact(3);
    reuse["external_id"] = json!("crm-2");
    server.create(reuse).await;
}

#[tokio::test]
async fn a_bad_merge_names_what_is_wrong_and_changes_nothing() {
    let server = Server::start().await;
    let (a, b) = pair(&server).await;
    let outsider = id_of(&server.create(contact(3)).await);
    let merge = |body: Value| {
        server
            .req(Method::POST, &format!("/v1/contacts/{a}/merge"))
            .json(&body)
    };
    let problem = expect_problem(merge(json!({"merge": []})), StatusCode::BAD_REQUEST).await;
    assert_eq!(problem_fields(&problem), ["merge"]);
    let problem = expect_problem(merge(json!({"merge": [a, b, b]})), StatusCode::BAD_REQUEST).await;
    assert_eq!(problem_fields(&problem), ["merge[0]", "merge[2]"]);
    let problem = expect_problem(
        merge(json!({"merge": [b], "fields": {"nickname": b, "email": outsider, "phone": "x"}})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        problem_fields(&problem),
        ["fields.email", "fields.nickname", "fields.phone"]
    );
    let problem = expect_problem(
        merge(json!({"merge": [b], "versions": {b.clone(): 7}})),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(problem["messaging_id"], b);
    let problem = expect_problem(
        merge(json!({"merge": [b], "fields": {"email": a, "phone": b}})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["fields.phone", "fields.email"]);
    let unknown = "01JDQ3V6Y8M6F3XG2W5T9K0ABC";
    let problem = expect_problem(merge(json!({"merge": [unknown]})), StatusCode::NOT_FOUND).await;
    assert_eq!(problem["type"], "/problems/contact-not-found");
    let problem = expect_problem(
        server
            .req(Method::POST, &format!("/v1/contacts/{unknown}/merge"))
            .json(&json!({"merge": []})),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(problem["type"], "/problems/contact-not-found");
    for id in [&a, &b, &outsider] {
        assert_eq!(server.get(id).await.0, StatusCode::OK);
    }
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 3);
}
